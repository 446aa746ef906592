"""LTI 1.3 pages: what a learning platform (Moodle, Canvas, Brightspace) sends the browser
to, and the course and check-in pages a launch leads to (`attn.services.lti` for the
protocol, `attn.services.lti_courses` for what a launch means in ATTN).

- `GET|POST /lti/login`: the platform's login initiation; a state cookie (`SameSite=None;
  Secure; Partitioned` over https, so it survives the platform's iframe) and on to the
  platform's authorization endpoint.
- `POST /lti/launch`: the ID token, checked; a one-time ticket, and a 303 to
  `GET /lti/enter`, which signs in exactly as a password sign-in does (and in a frame makes
  the session's cookies partitioned `SameSite=None`), then the course page (a teacher) or
  the course's check-in (a student). When the browser kept no state cookie (it blocks the
  tool's cookies in frames), the launch is not used and a page offers to open ATTN in a tab
  of its own, which starts the login again there.
- `GET /lti/jwks`: the tool's public keys. `GET /lti/register`: Dynamic Registration.
- `/lti/course`, `/lti/student`: the linked course's page (start a lesson, the roster and
  its sync, grade passback on or off) and a student's way to the lesson that is on now.

Framing: the LTI pages, and any page a framed LTI session opens, may be framed by the
registered platforms' origins (`LtiFraming`), by no one else; every other page keeps
`frame-ancestors 'none'`. Imports `attn.http`, `attn.services`, `attn.web`'s `session` and
`render`, and the errors and settings.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from attn.config import Settings
from attn.errors import (
    AttnError,
    LtiNotLinked,
    LtiPlatformFailed,
    LtiRegistrationFailed,
    LtiStateNotKept,
    SsoRefused,
)
from attn.http.deps import DEVICE_COOKIE, Context, address_of, context_of
from attn.http.edge import PAGE_CSP
from attn.http.errors import is_unavailable, status_of
from attn.models import ExternalIdentity, normalize_name
from attn.services import auth, lti, lti_courses
from attn.services.context import ServiceContext
from attn.web.render import (
    PageRoute,
    error_text,
    render,
    secure_cookies,
    unavailable_page,
)
from attn.web.session import (
    CsrfForm,
    PageStudent,
    PageTeacher,
    finish_external_sign_in,
)

log = logging.getLogger("attn.lti")


class ProtocolRoute(APIRoute):
    """The route class of the protocol's routes: cross-site by design (the platform's pages
    post to them, so `PageRoute`'s refusal of other sites' forms does not apply), each
    protected by what it checks (a signed token bound to this server's state, a one-time
    key). A store that is down is the unavailable page (503), as on every page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def protocol_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                log.warning("lti: a backing store is unavailable: %s", exc)
                return unavailable_page(request)

        return protocol_handler


protocol = APIRouter(include_in_schema=False, route_class=ProtocolRoute)
router = APIRouter(include_in_schema=False, route_class=PageRoute)

STATE_COOKIE = "attn_lti_state"
# a partitioned marker: present only in the browser's partition of a platform's frame
FRAME_COOKIE = "attn_lti_frame"
TICKET_SECONDS = 120
ENTER_PATH = "/lti/enter"
CourseQuery = Annotated[str, Query(max_length=200)]


def install(app: FastAPI, settings: Settings) -> None:
    if not settings.LTI_ENABLED:
        return
    app.include_router(protocol)
    app.include_router(router)
    app.add_middleware(LtiFraming)


def _urls(request: Request) -> lti.ToolUrls:
    return lti.ToolUrls(context_of(request).settings.public_url)


def _framed_cookie(
    request: Request, response: Response, name: str, value: str, *, max_age: int, path: str
) -> None:
    """A cookie that must reach ATTN inside the platform's frame: over https it is
    `SameSite=None; Secure; Partitioned` (CHIPS: kept apart per top-level site, so browsers
    that block third-party cookies still keep it); over plain http (a local try) Lax."""
    https = secure_cookies(request)
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        secure=https,
        samesite="none" if https else "lax",
    )
    if https:  # Starlette writes `Partitioned` only on Python 3.14 and later
        header, cookie = response.raw_headers[-1]
        response.raw_headers[-1] = (header, cookie + b"; Partitioned")


def _failed(request: Request, exc: AttnError) -> HTMLResponse:
    """The launch failed: a page in the page's language; the reason is logged."""
    log.warning("lti: refused (%s): %s", exc.code, exc.message)
    reason = "" if isinstance(exc, SsoRefused) else error_text(request, exc)
    return render(request, "lti_failed.html", status_code=status_of(exc), reason=reason)


# --- the protocol ----------------------------------------------------------------------------


@protocol.api_route(lti.LOGIN_PATH, methods=["GET", "POST"], response_class=HTMLResponse)
async def lti_login(request: Request) -> Response:
    """The platform's third-party login initiation (its parameters in the query or a form)."""
    params = {key: str(value) for key, value in request.query_params.items()}
    if request.method == "POST":
        params.update({key: str(value) for key, value in (await request.form()).items()})
    try:
        started = await lti.start_login(
            context_of(request), params, redirect_uri=_urls(request).launch
        )
    except AttnError as exc:
        return _failed(request, exc)
    response = RedirectResponse(started.url, status_code=302)
    _framed_cookie(
        request,
        response,
        f"{STATE_COOKIE}_{started.state}",
        started.state,
        max_age=lti.STATE_SECONDS,
        path=lti.LAUNCH_PATH,
    )
    return response


@protocol.post(lti.LAUNCH_PATH, response_class=HTMLResponse)
async def lti_launch(request: Request) -> Response:
    """The platform's launch: the ID token checked, then a ticket for `/lti/enter`."""
    ctx = context_of(request)
    form = {key: str(value) for key, value in (await request.form()).items()}
    state = form.get("state", "")
    try:
        launch = await lti.check_launch(
            ctx, form, state_cookie=request.cookies.get(f"{STATE_COOKIE}_{state}")
        )
        entry = lti_courses.entry_of(ctx, launch)
        if entry.return_url:
            await lti.learn_frame_origin(ctx, launch.platform, entry.return_url)
    except LtiStateNotKept as exc:
        log.info("lti: the browser kept no state cookie; offering a tab of its own")
        again = f"{lti.LOGIN_PATH}?{urlencode(exc.params)}"
        return render(request, "lti_new_tab.html", again=again)
    except AttnError as exc:
        return _failed(request, exc)
    ticket = secrets.token_urlsafe(24)
    await ctx.redis_client.put_sso_state(
        lti.PROVIDER + "-ticket", ticket, entry.dump(), TICKET_SECONDS
    )
    response = RedirectResponse(f"{ENTER_PATH}?{urlencode({'ticket': ticket})}", status_code=303)
    response.delete_cookie(f"{STATE_COOKIE}_{state}", path=lti.LAUNCH_PATH)
    return response


def _framed(request: Request) -> bool:
    return request.headers.get("sec-fetch-dest", "").lower() == "iframe"


@router.get(ENTER_PATH, response_class=HTMLResponse)
async def lti_enter(request: Request, ticket: str = "") -> Response:
    """The launch's account signed in (a same-site GET: the phone's device cookie is sent),
    then on to the course's page or its check-in."""
    ctx = context_of(request)
    raw = (
        await ctx.redis_client.take_sso_state(lti.PROVIDER + "-ticket", ticket) if ticket else None
    )
    if raw is None:
        return _failed(request, SsoRefused("the launch's ticket is unknown, expired or used"))
    entry = lti_courses.Entry.load(raw)
    try:
        result = await auth.sign_in_external(
            _account_rules(ctx),
            provider=lti.PROVIDER,
            identity=entry.identity,
            client=address_of(request),
            device_id=request.cookies.get(DEVICE_COOKIE),
            remember_device=False,
        )
        target = await lti_courses.after_sign_in(
            ctx, entry, result.session.school_number, result.session.role
        )
    except AttnError as exc:
        return _failed(request, exc)
    response = await finish_external_sign_in(request, result, target)
    if _framed(request) and secure_cookies(request):
        _partition_cookies(response)
    if _framed(request):
        _framed_cookie(request, response, FRAME_COOKIE, "1", max_age=24 * 3600, path="/")
    return response


def _account_rules(ctx: ServiceContext) -> ServiceContext:
    """The context whose `SSO_CREATE_USERS` is `ATTN_LTI_CREATE_USERS` when that is set."""
    if ctx.settings.LTI_CREATE_USERS is None:
        return ctx
    settings = ctx.settings.model_copy(update={"SSO_CREATE_USERS": ctx.settings.LTI_CREATE_USERS})
    return replace(ctx, settings=settings)


def _partition_cookies(response: Response) -> None:
    """The session's cookies, as a framed page needs them: `SameSite=None; Partitioned`."""
    headers = response.headers.getlist("set-cookie")
    del response.headers["set-cookie"]
    for header in headers:
        parts = [p for p in header.split("; ") if not p.lower().startswith("samesite")]
        parts.append("SameSite=none")
        if "secure" not in {p.lower() for p in parts}:
            parts.append("Secure")
        parts.append("Partitioned")
        response.headers.append("set-cookie", "; ".join(parts))


@protocol.get(lti.JWKS_PATH)
async def lti_jwks(ctx: Context) -> JSONResponse:
    """The tool's public keys: the signing key and, for a while, the ones it replaced."""
    return JSONResponse(
        await lti.published_keys(ctx), headers={"Cache-Control": "public, max-age=300"}
    )


@protocol.get(lti.REGISTER_PATH, response_class=HTMLResponse)
async def lti_register(
    request: Request,
    key: str = "",
    openid_configuration: str = "",
    registration_token: str = "",
) -> Response:
    """LTI Dynamic Registration: the platform opens this URL (an administrator pasted it,
    with its one-time key) with its configuration's URL; ATTN registers itself and the page
    tells the platform it is done (`org.imsglobal.lti.close`)."""
    ctx = context_of(request)
    if not await lti.take_registration_key(ctx, key):
        return _failed(
            request, LtiRegistrationFailed("the registration URL's key is unknown or used")
        )
    try:
        platform = await lti.register(
            ctx,
            openid_configuration=openid_configuration,
            registration_token=registration_token,
            urls=_urls(request),
        )
    except AttnError as exc:
        await lti.give_back_registration_key(ctx, key)
        return _failed(request, exc)
    response = render(request, "lti_registered.html", platform=platform)
    response.headers["content-security-policy"] = _csp({lti.origin_of(openid_configuration)})
    return response


# --- the course's page, the student's way in -------------------------------------------------


@router.get("/lti/course", response_class=HTMLResponse)
async def lti_course(
    request: Request, ctx: Context, user: PageTeacher, name: CourseQuery = "", synced: str = ""
) -> HTMLResponse:
    """The linked course: start its lesson, its statistics, its roster as the LMS lists it
    (with who left), "sync now" and grade passback on or off."""
    linked = await lti_courses.linked_courses(ctx, teacher=user.school_number, course=name)
    if not linked:
        raise LtiNotLinked
    course = linked[0]
    members = await lti_courses.members(ctx, course)
    changes = await lti_courses.roster_changes(ctx, course)
    active = await ctx.redis_client.teachers_active_lessons([user.school_number])
    live = next(
        (
            lesson
            for lesson in active
            if lesson.is_active(ctx.now())
            and normalize_name(lesson.lesson_name) == course.course_key
        ),
        None,
    )
    return render(
        request,
        "lti_course.html",
        user=user,
        course=course,
        members=members,
        changes=changes,
        live=live,
        synced=synced,
        form={},
    )


@router.post("/lti/course/sync", response_class=HTMLResponse)
async def lti_course_sync(
    request: Request, ctx: Context, user: PageTeacher, form: CsrfForm, name: CourseQuery = ""
) -> Response:
    """Sync the roster with the LMS now; the page then says what changed (a platform's
    failure in general words: its details, which name its URLs, go to the log)."""
    try:
        result = await lti_courses.sync_course(ctx, teacher=user.school_number, course=name)
    except LtiPlatformFailed as exc:
        log.warning("lti: roster sync failed: %s", exc.message)
        raise LtiPlatformFailed from None
    said = f"{len(result.added)},{len(result.left)},{result.unknown},{result.students}"
    return RedirectResponse(
        f"{lti_courses.course_path(name)}&{urlencode({'synced': said})}", status_code=303
    )


@router.post("/lti/course/grades", response_class=HTMLResponse)
async def lti_course_grades(
    request: Request, ctx: Context, user: PageTeacher, form: CsrfForm, name: CourseQuery = ""
) -> Response:
    """Grade passback on (`on=1`) or off for the course."""
    await lti_courses.set_grades_on(
        ctx, teacher=user.school_number, course=name, on=form.get("on") == "1"
    )
    return RedirectResponse(lti_courses.course_path(name), status_code=303)


@router.get("/lti/student", response_class=HTMLResponse)
async def lti_student(
    request: Request, ctx: Context, user: PageStudent, platform: int = 0, context: str = ""
) -> Response:
    """A student's launch: the check-in of the course's lesson that is on now, or a page
    saying that no lesson of the course is open now."""
    course_name, lesson_id = await lti_courses.student_lesson(
        ctx, platform_id=platform, context_id=context[:255]
    )
    if lesson_id is not None:
        return RedirectResponse(f"/join/{lesson_id}", status_code=303)
    return render(
        request,
        "lti_no_lesson.html",
        user=user,
        course_name=course_name,
        here=str(request.url.path) + "?" + request.url.query,
    )


# --- a tab of its own ------------------------------------------------------------------------

HANDOFF_SECONDS = 60


@router.post("/lti/new-tab", response_class=HTMLResponse)
async def lti_new_tab(
    request: Request, ctx: Context, user: PageTeacher, form: CsrfForm
) -> HTMLResponse:
    """From a teacher's page in the platform's frame: a one-time link (a minute) that signs
    the teacher in again in a tab of its own, where the frame's partitioned cookies are not
    (the projector, say), and opens `next` there. Teachers only: a student's link would be
    a way to hand the student's session to another phone."""
    target = form.get("next", "/")
    target = target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/"
    ticket = secrets.token_urlsafe(24)
    value = json.dumps({"n": user.school_number, "t": target[:2000]})
    await ctx.redis_client.put_sso_state(lti.PROVIDER + "-tab", ticket, value, HANDOFF_SECONDS)
    link = f"/lti/tab?{urlencode({'ticket': ticket})}"
    return render(request, "lti_tab.html", user=user, link=link)


@router.get("/lti/tab", response_class=HTMLResponse)
async def lti_tab(request: Request, ctx: Context, ticket: str = "") -> Response:
    """The one-time link of `/lti/new-tab`: the same account signed in here (its own rules:
    a deactivated account is refused), then on to the page it was opened for."""
    raw = await ctx.redis_client.take_sso_state(lti.PROVIDER + "-tab", ticket) if ticket else None
    if raw is None:
        return _failed(request, SsoRefused("the tab's link is unknown, expired or used"))
    value = json.loads(raw)
    try:
        result = await auth.sign_in_external(
            ctx,
            provider=lti.PROVIDER,
            identity=ExternalIdentity(str(value["n"]), "", None),
            client=address_of(request),
            device_id=request.cookies.get(DEVICE_COOKIE),
            remember_device=False,
        )
    except AttnError as exc:
        return _failed(request, exc)
    return await finish_external_sign_in(request, result, str(value["t"]))


# --- framing ---------------------------------------------------------------------------------


def _csp(origins: set[str] | frozenset[str]) -> str:
    ancestors = " ".join(sorted(origins)) if origins else "'none'"
    return PAGE_CSP.replace("frame-ancestors 'none'", f"frame-ancestors {ancestors}")


class LtiFraming:
    """The framing policy of LTI pages: the registered platforms' origins may frame the
    pages under /lti/ and, in a platform's frame (the partitioned marker cookie and
    `Sec-Fetch-Dest: iframe`), the pages a launch leads to; no one else may. The origins are
    read from SQL for each such request (one small query), so an origin a launch has just
    taught is allowed at once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def _allowed(self, scope: Scope) -> frozenset[str]:
        try:
            return await lti.platform_origins(scope["app"].state.context)
        except Exception as exc:
            log.warning("lti: platforms not read for framing: %s", exc)
            return frozenset()

    def _framable(self, scope: Scope) -> bool:
        path: str = scope.get("path", "")
        if path.startswith("/lti/") and path != lti.REGISTER_PATH:
            return True
        headers = dict(scope.get("headers") or ())
        framed = headers.get(b"sec-fetch-dest", b"").lower() == b"iframe"
        return framed and f"{FRAME_COOKIE}=1".encode() in headers.get(b"cookie", b"")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._framable(scope):
            await self.app(scope, receive, send)
            return
        origins = await self._allowed(scope)

        async def framed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", ())
                    if name.lower() != b"content-security-policy"
                ]
                headers.append((b"content-security-policy", _csp(origins).encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, framed_send)
