"""Signing in and out of the pages: the session cookie, the CSRF token of every form, and
the signed-in user as a route dependency (`PageUser`, `PageTeacher`, `PageStudent`,
`PageAdmin`, and `ScriptTeacher`/`ScriptStudent` for what a page's script fetches).

A page whose session is missing or ended sends the browser to sign in and back; a user of
another role goes to their own start page. The sign-in form, which has no session yet, is
protected by a token derived from a nonce in a short-lived cookie (`SIGN_IN_FORM_COOKIE`), so
another site cannot sign a browser in to an account of its choosing.

"Remember this device": a sign-in with the box ticked keeps the device's refresh token in a
long-lived HttpOnly cookie (`REMEMBER_COOKIE`). A page opened without a live session trades
it (rotating it: the old one works no more) for a new session and comes back to itself with
the new cookies; a refused token is cleared and the browser signs in as before. Signing out
revokes it. The sign-in page reached from a join link names the lesson being joined.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from attn.errors import (
    AttnError,
    InvalidRefreshToken,
    MissingCredentials,
    NotAuthenticated,
    SignInFormExpired,
    SsoRefused,
    SsoUnavailable,
    WrongRole,
)
from attn.http.deps import DEVICE_COOKIE, address_of, context_of
from attn.http.edge import PAGE_CSP
from attn.http.errors import error_headers, status_of
from attn.http.schemas import LoginIn
from attn.models import LessonRedis, Role, UserSessionRedis
from attn.services import auth, scan
from attn.services.auth import LoginResult
from attn.web.i18n import translator
from attn.web.render import (
    SESSION_COOKIE,
    YEAR,
    PageRoute,
    Redirect,
    back,
    csrf_token,
    error_text,
    form_error,
    keep_device,
    language,
    render,
    secure_cookies,
    set_private_cookie,
    sign_in_form_token,
    wants_html,
)

router = APIRouter(include_in_schema=False, route_class=PageRoute)

SIGNED_IN_COOKIE = "attn_signed_in"
SIGN_IN_FORM_COOKIE = "attn_sign_in"
# long enough for a sign-in page left open through a lesson, short enough to be no
# standing credential
SIGN_IN_FORM_SECONDS = 2 * 3600
# the sign-in form is sent to /login and, by its single sign-on buttons, to /sso/... start
# routes, which check its token too
SIGN_IN_FORM_PATH = "/"
_NONCE = re.compile(r"[A-Za-z0-9_-]{32}")
REMEMBER_COOKIE = "attn_remember"
_JOIN_PATH = re.compile(r"/join/([0-9a-f]{32})")


def sign_in_url(here: str, *, expired: bool = False) -> str:
    """The sign-in page that comes back to `here` (a local path with its query)."""
    return f"/login?{urlencode({'next': here, **({'expired': '1'} if expired else {})})}"


def _return_to(request: Request) -> str:
    """Where to come back after signing in: this page, or for a form the page it was on."""
    if request.method == "GET":
        return request.url.path + (f"?{request.url.query}" if request.url.query else "")
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path.startswith("/"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return "/"


class SessionRenewed(Redirect):
    """Back to the same page with the session a remembered device's token renewed."""


async def page_user(request: Request) -> UserSessionRedis:
    token = request.cookies.get(SESSION_COOKIE)
    here = _return_to(request)
    if token:
        try:
            return await auth.authenticate(context_of(request), token)
        except NotAuthenticated:
            pass
    refused = Redirect(
        # the marker outlives the session cookie: a session that ran out says so
        sign_in_url(here, expired=bool(token or request.cookies.get(SIGNED_IN_COOKIE)))
    )
    remembered = request.cookies.get(REMEMBER_COOKIE)
    # Only a page (a browser's GET navigation) is renewed, coming back to itself with the
    # new cookies: a form's CSRF token was of the old session, and a script's fetch would
    # not keep a rotated token, so those go on as without a remembered device.
    if remembered and request.method in ("GET", "HEAD") and wants_html(request):
        await _renew(request, remembered, here)
        refused.keep.append(lambda response: _forget_cookie(request, response))
    raise refused


async def _renew(request: Request, remembered: str, here: str) -> None:
    """Raise `SessionRenewed` with the new session and rotated token; return when refused."""
    try:
        result = await auth.refresh(
            context_of(request),
            refresh_token=remembered,
            device_id=request.cookies.get(DEVICE_COOKIE, ""),
            rotate=True,
        )
    except InvalidRefreshToken:
        return
    renewed = SessionRenewed(here)
    renewed.keep.append(lambda response: _signed_in(request, response, result))
    raise renewed


def _forget_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(REMEMBER_COOKIE, secure=secure_cookies(request), httponly=True)


PageUser = Annotated[UserSessionRedis, Depends(page_user)]


def _of_role(user: UserSessionRedis, role: Role) -> UserSessionRedis:
    if user.role is not role:
        raise Redirect("/")
    return user


async def page_teacher(user: PageUser) -> UserSessionRedis:
    return _of_role(user, Role.TEACHER)


async def page_student(user: PageUser) -> UserSessionRedis:
    return _of_role(user, Role.STUDENT)


async def page_admin(user: PageUser) -> UserSessionRedis:
    return _of_role(user, Role.ADMIN)


PageTeacher = Annotated[UserSessionRedis, Depends(page_teacher)]
PageStudent = Annotated[UserSessionRedis, Depends(page_student)]
PageAdmin = Annotated[UserSessionRedis, Depends(page_admin)]


async def script_teacher(request: Request) -> UserSessionRedis:
    """The teacher behind what a page's own script fetches (the projector's state, the live
    roll): a fetch whose session has ended is told so in the contract's JSON (401, or 403 for
    another role) instead of being sent to the sign-in page it would paste in; a browser's
    navigation is sent to sign in as on every page."""
    return await _script_user(request, Role.TEACHER)


async def script_student(request: Request) -> UserSessionRedis:
    """The student behind what a page's own script fetches (their record while it waits for
    verification), as `script_teacher`."""
    return await _script_user(request, Role.STUDENT)


async def _script_user(request: Request, role: Role) -> UserSessionRedis:
    try:
        user = await page_user(request)
    except Redirect:
        if wants_html(request):
            raise
        raise NotAuthenticated from None
    if user.role is not role and not wants_html(request):
        raise WrongRole
    return _of_role(user, role)


ScriptTeacher = Annotated[UserSessionRedis, Depends(script_teacher)]
ScriptStudent = Annotated[UserSessionRedis, Depends(script_student)]


async def checked_form(request: Request) -> dict[str, str]:
    """The posted form, after checking its CSRF token against the session cookie."""
    form = await request.form()
    values = {key: str(value) for key, value in form.items()}
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token or not hmac.compare_digest(values.get("csrf", ""), csrf_token(request, token)):
        raise Redirect("/login?expired=1")
    return values


CsrfForm = Annotated[dict[str, str], Depends(checked_form)]


@dataclass(frozen=True, slots=True)
class SignInOption:
    """A single sign-on the sign-in page offers: a button of the sign-in form that sends the
    form (its CSRF token, `next`, `remember`) to `path`, the provider's start route."""

    provider: str  # "oidc" | "saml"
    label: str  # the provider's name: "Sign in with <label>"
    path: str
    # the other origins the start route sends the browser on to (a form's redirect is bound by
    # the sign-in page's CSP form-action)
    origins: tuple[str, ...] = ()


def sign_in_options(request: Request) -> list[SignInOption]:
    """The single sign-ons configured (`create_app` keeps them in the app's state)."""
    return list(getattr(request.app.state, "sign_in_options", ()))


START_PAGES = {Role.TEACHER: "/teacher", Role.STUDENT: "/student", Role.ADMIN: "/admin"}


@router.get("/", response_class=HTMLResponse)
async def home(user: PageUser) -> Response:
    return back(START_PAGES[user.role])


async def _sign_in_page(
    request: Request,
    *,
    status_code: int = 200,
    expired: bool = False,
    target: str,
    error: str | None = None,
    school_number: str = "",
    remember: bool = False,
) -> HTMLResponse:
    """The sign-in form, with its CSRF token and the cookie that token is checked against
    (the browser's nonce is kept while it lasts, so two open sign-in tabs both work)."""
    nonce = request.cookies.get(SIGN_IN_FORM_COOKIE, "")
    if not _NONCE.fullmatch(nonce):
        nonce = secrets.token_urlsafe(24)
    options = sign_in_options(request)
    password_form = (
        not options
        or context_of(request).settings.PASSWORD_SIGN_IN
        or request.query_params.get("with") == "password"
    )
    response = render(
        request,
        "login.html",
        sign_in_options=options,
        password_form=password_form,
        status_code=status_code,
        expired=expired,
        next=target,
        error=error,
        school_number=school_number,
        sign_in_token=sign_in_form_token(request, nonce),
        joining=await _lesson_joined(request, target),
        remember=remember,
        remember_days=context_of(request).settings.REFRESH_TTL_DAYS,
    )
    origins = [origin for option in options for origin in option.origins]
    if origins:
        # the single sign-on buttons send the form to a start route that redirects to the
        # provider: browsers hold that redirect to the page's form-action too
        response.headers["content-security-policy"] = PAGE_CSP.replace(
            "form-action 'self'", " ".join(["form-action 'self'", *dict.fromkeys(origins)])
        )
    set_private_cookie(
        request,
        response,
        SIGN_IN_FORM_COOKIE,
        nonce,
        max_age=SIGN_IN_FORM_SECONDS,
        path=SIGN_IN_FORM_PATH,
    )
    return response


async def _lesson_joined(request: Request, target: str) -> LessonRedis | None:
    """The open lesson whose join link sent the browser here (never text from the link)."""
    found = _JOIN_PATH.fullmatch(urlsplit(target).path)
    if found is None:
        return None
    link = await scan.join_link(context_of(request), lesson_id=found.group(1))
    return link.lesson if link is not None and link.open else None


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> HTMLResponse:
    return await _sign_in_page(
        request,
        expired=request.query_params.get("expired") == "1",
        target=request.query_params.get("next", "/"),
    )


def _sign_in_form_sent_here(request: Request, form_token: str) -> bool:
    """Whether the sign-in form was one this browser opened here (see `_sign_in_page`)."""
    nonce = request.cookies.get(SIGN_IN_FORM_COOKIE, "")
    return bool(_NONCE.fullmatch(nonce)) and hmac.compare_digest(
        form_token, sign_in_form_token(request, nonce)
    )


def _safe_target(target: str) -> str:
    """A local path to go to after signing in; `/` for anything else (browsers read `/\\`
    as `//`, another host)."""
    local = target.startswith("/") and not target.startswith(("//", "/\\"))
    return target if local else "/"


@router.post("/login", response_class=HTMLResponse)
async def login_submit(request: Request) -> Response:
    form = await request.form()
    number, password = str(form.get("school_number", "")), str(form.get("password", ""))
    target = _safe_target(str(form.get("next", "/")))
    remember = form.get("remember") == "1"
    try:
        if not _sign_in_form_sent_here(request, str(form.get("sign_in_token", ""))):
            raise SignInFormExpired
        if not number or not password:
            raise MissingCredentials
        body = LoginIn.model_validate({"school_number": number, "password": password})
        result = await auth.login(
            context_of(request),
            school_number=body.school_number,
            password=body.password,
            client=address_of(request),
            device_id=request.cookies.get(DEVICE_COOKIE),
            remember_device=remember,
        )
    except (AttnError, ValidationError) as exc:
        refused = await _sign_in_page(
            request,
            status_code=status_of(exc) if isinstance(exc, AttnError) else 422,
            target=target,
            error=(
                error_text(request, exc) if isinstance(exc, AttnError) else form_error(request, exc)
            ),
            school_number=number,
            remember=remember,
        )
        if isinstance(exc, AttnError):
            refused.headers.update(error_headers(exc) or {})
        return refused
    earlier = request.cookies.get(REMEMBER_COOKIE)
    if earlier:
        # the device was remembered for someone (maybe this user) before: that token goes
        await auth.forget_device(
            context_of(request),
            refresh_token=earlier,
            device_id=request.cookies.get(DEVICE_COOKIE, ""),
        )
    response = back(target)
    _signed_in(request, response, result)
    response.delete_cookie(
        SIGN_IN_FORM_COOKIE, path=SIGN_IN_FORM_PATH, secure=secure_cookies(request)
    )
    return response


def _signed_in(request: Request, response: Response, result: LoginResult) -> None:
    """The cookies of a new session: the session, its marker, the phone's device id, and
    for a remembered device its refresh token (cleared when there is none)."""
    set_private_cookie(
        request, response, SESSION_COOKIE, result.access_token, max_age=result.expires_in
    )
    set_private_cookie(request, response, SIGNED_IN_COOKIE, "1", max_age=YEAR)
    keep_device(request, response, result.device_id)  # a student's phone: its device id
    if result.refresh_token is not None:
        set_private_cookie(
            request,
            response,
            REMEMBER_COOKIE,
            result.refresh_token,
            max_age=result.refresh_expires_in,
        )
    elif request.cookies.get(REMEMBER_COOKIE):
        _forget_cookie(request, response)


def external_sign_in_start(request: Request, form: Mapping[str, object]) -> tuple[str, bool]:
    """What a single sign-on's start route takes from the sign-in form it was sent: where to go
    afterwards and whether to remember the device. SignInFormExpired when the form is not one
    this browser opened here (the form's CSRF check)."""
    if not _sign_in_form_sent_here(request, str(form.get("sign_in_token", ""))):
        raise SignInFormExpired
    return _safe_target(str(form.get("next", "/"))), form.get("remember") == "1"


async def finish_external_sign_in(request: Request, result: LoginResult, target: str) -> Response:
    """The answer to a browser an identity provider has just signed in: the cookies of a new
    session, exactly as a password sign-in sets them, and on to `target`."""
    earlier = request.cookies.get(REMEMBER_COOKIE)
    if earlier:
        await auth.forget_device(
            context_of(request),
            refresh_token=earlier,
            device_id=request.cookies.get(DEVICE_COOKIE, ""),
        )
    response = back(_safe_target(target))
    _signed_in(request, response, result)
    response.delete_cookie(
        SIGN_IN_FORM_COOKIE, path=SIGN_IN_FORM_PATH, secure=secure_cookies(request)
    )
    return response


async def external_sign_in_refused(
    request: Request,
    exc: AttnError,
    *,
    provider: str,
    target: str = "/",
    provider_said: str = "",
) -> HTMLResponse:
    """The sign-in page again, saying that signing in through `provider` (its label) failed,
    and why when it is the account's doing (no account, deactivated), the form's, or the
    provider's outage; `provider_said` is the provider's own error code, when it sent one.

    Which check refused an answer is for the log only: telling whoever forges answers which
    check to work on helps them, so a refused answer's page says no more than that it failed.
    """
    translate = translator(language(request))
    error = translate("sso_failed").format(provider=provider)
    if not isinstance(exc, SsoRefused):
        shown = type(exc)() if isinstance(exc, SsoUnavailable) else exc
        error = f"{error} {error_text(request, shown)}"
    if provider_said:
        said = translate("sso_provider_said").format(provider=provider, error=provider_said)
        error = f"{error} {said}"
    refused = await _sign_in_page(
        request, status_code=status_of(exc), target=_safe_target(target), error=error
    )
    refused.headers.update(error_headers(exc) or {})
    return refused


@router.post("/logout")
async def logout(request: Request) -> Response:
    """Sign out; with `next` (say, the join page of a student who was signed in as someone
    else) the sign-in page leads back there.

    The form's CSRF token is of the session it was shown in. A session that has ended since
    has nothing left to protect but a remembered device, and signing out is to forget it: so
    without a live session the form is taken as it comes (other sites' forms are refused
    before this by `cross_site`)."""
    ctx = context_of(request)
    form = await request.form()
    token = request.cookies.get(SESSION_COOKIE, "")
    user = None
    if token:
        try:
            user = await auth.authenticate(ctx, token)
        except NotAuthenticated:
            user = None
    if user is not None:
        if not hmac.compare_digest(str(form.get("csrf", "")), csrf_token(request, token)):
            raise Redirect("/login?expired=1")
        await auth.logout(ctx, user)
    remembered = request.cookies.get(REMEMBER_COOKIE)
    if remembered:
        await auth.forget_device(
            ctx, refresh_token=remembered, device_id=request.cookies.get(DEVICE_COOKIE, "")
        )
    target = _safe_target(str(form.get("next", "/")))
    response = back("/login" if target == "/" else sign_in_url(target))
    response.delete_cookie(SESSION_COOKIE, secure=secure_cookies(request))
    response.delete_cookie(SIGNED_IN_COOKIE, secure=secure_cookies(request))
    _forget_cookie(request, response)
    return response
