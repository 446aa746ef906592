"""Signing in and out of the pages: the session cookie, the CSRF token of every form, and
the signed-in user as a route dependency (`PageUser`, `PageTeacher`, `PageStudent`,
`PageAdmin`, and `ScriptTeacher` for what a page's script fetches).

A page whose session is missing or ended sends the browser to sign in and back; a user of
another role goes to their own start page. The sign-in form, which has no session yet, is
protected by a token derived from a nonce in a short-lived cookie (`SIGN_IN_FORM_COOKIE`), so
another site cannot sign a browser in to an account of its choosing.
"""

from __future__ import annotations

import hmac
import re
import secrets
from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from attn.errors import (
    AttnError,
    MissingCredentials,
    NotAuthenticated,
    SignInFormExpired,
    WrongRole,
)
from attn.http.deps import DEVICE_COOKIE, address_of, context_of
from attn.http.errors import error_headers, status_of
from attn.http.schemas import LoginIn
from attn.models import Role, UserSessionRedis
from attn.services import auth
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
    render,
    secure_cookies,
    sign_in_form_token,
    wants_html,
)

router = APIRouter(include_in_schema=False, route_class=PageRoute)

SIGNED_IN_COOKIE = "attn_signed_in"
SIGN_IN_FORM_COOKIE = "attn_sign_in"
# long enough for a sign-in page left open through a lesson, short enough to be no
# standing credential
SIGN_IN_FORM_SECONDS = 2 * 3600
_NONCE = re.compile(r"[A-Za-z0-9_-]{32}")


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


async def page_user(request: Request) -> UserSessionRedis:
    token = request.cookies.get(SESSION_COOKIE)
    here = _return_to(request)
    if not token:
        # the marker outlives the session cookie: a session that ran out says so
        raise Redirect(sign_in_url(here, expired=bool(request.cookies.get(SIGNED_IN_COOKIE))))
    try:
        return await auth.authenticate(context_of(request), token)
    except NotAuthenticated:
        raise Redirect(sign_in_url(here, expired=True)) from None


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
    try:
        user = await page_user(request)
    except Redirect:
        if wants_html(request):
            raise
        raise NotAuthenticated from None
    if user.role is not Role.TEACHER and not wants_html(request):
        raise WrongRole
    return _of_role(user, Role.TEACHER)


ScriptTeacher = Annotated[UserSessionRedis, Depends(script_teacher)]


async def checked_form(request: Request) -> dict[str, str]:
    """The posted form, after checking its CSRF token against the session cookie."""
    form = await request.form()
    values = {key: str(value) for key, value in form.items()}
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token or not hmac.compare_digest(values.get("csrf", ""), csrf_token(request, token)):
        raise Redirect("/login?expired=1")
    return values


CsrfForm = Annotated[dict[str, str], Depends(checked_form)]


START_PAGES = {Role.TEACHER: "/teacher", Role.STUDENT: "/student", Role.ADMIN: "/admin"}


@router.get("/", response_class=HTMLResponse)
async def home(user: PageUser) -> Response:
    return back(START_PAGES[user.role])


def _sign_in_page(
    request: Request,
    *,
    status_code: int = 200,
    expired: bool = False,
    target: str,
    error: str | None = None,
    school_number: str = "",
) -> HTMLResponse:
    """The sign-in form, with its CSRF token and the cookie that token is checked against
    (the browser's nonce is kept while it lasts, so two open sign-in tabs both work)."""
    nonce = request.cookies.get(SIGN_IN_FORM_COOKIE, "")
    if not _NONCE.fullmatch(nonce):
        nonce = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        status_code=status_code,
        expired=expired,
        next=target,
        error=error,
        school_number=school_number,
        sign_in_token=sign_in_form_token(request, nonce),
    )
    response.set_cookie(
        SIGN_IN_FORM_COOKIE,
        nonce,
        max_age=SIGN_IN_FORM_SECONDS,
        path="/login",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> HTMLResponse:
    return _sign_in_page(
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
        )
    except (AttnError, ValidationError) as exc:
        refused = _sign_in_page(
            request,
            status_code=status_of(exc) if isinstance(exc, AttnError) else 422,
            target=target,
            error=(
                error_text(request, exc) if isinstance(exc, AttnError) else form_error(request, exc)
            ),
            school_number=number,
        )
        if isinstance(exc, AttnError):
            refused.headers.update(error_headers(exc) or {})
        return refused
    response = back(target)
    response.set_cookie(
        SESSION_COOKIE,
        result.access_token,
        max_age=result.expires_in,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )
    response.set_cookie(
        SIGNED_IN_COOKIE,
        "1",
        max_age=YEAR,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )
    response.delete_cookie(SIGN_IN_FORM_COOKIE, path="/login", secure=secure_cookies(request))
    keep_device(request, response, result.device_id)  # a student's phone: its device id
    return response


@router.post("/logout")
async def logout(request: Request, form: CsrfForm) -> Response:
    """Sign out; with `next` (say, the join page of a student who was signed in as someone
    else) the sign-in page leads back there."""
    try:
        user = await page_user(request)
        await auth.logout(context_of(request), user)
    except Redirect:
        pass
    target = _safe_target(form.get("next", "/"))
    response = back("/login" if target == "/" else sign_in_url(target))
    response.delete_cookie(SESSION_COOKIE, secure=secure_cookies(request))
    response.delete_cookie(SIGNED_IN_COOKIE, secure=secure_cookies(request))
    return response
