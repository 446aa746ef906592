"""Signing in and out of the pages: the session cookie, the CSRF token of every form, and
the signed-in user as a route dependency (`PageUser`, `PageTeacher`, `PageStudent`).

A page whose session is missing or ended sends the browser to sign in and back; a user of
another role goes to their own start page.
"""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from attn.errors import AttnError, MissingCredentials, NotAuthenticated
from attn.http.deps import DEVICE_COOKIE, context_of
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
)

router = APIRouter(include_in_schema=False, route_class=PageRoute)

SIGNED_IN_COOKIE = "attn_signed_in"


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
        ended = {"expired": "1"} if request.cookies.get(SIGNED_IN_COOKIE) else {}
        raise Redirect(f"/login?{urlencode({'next': here, **ended})}")
    try:
        return await auth.authenticate(context_of(request), token)
    except NotAuthenticated:
        raise Redirect(f"/login?{urlencode({'next': here, 'expired': '1'})}") from None


PageUser = Annotated[UserSessionRedis, Depends(page_user)]


def _of_role(user: UserSessionRedis, role: Role) -> UserSessionRedis:
    if user.role is not role:
        raise Redirect("/")
    return user


async def page_teacher(user: PageUser) -> UserSessionRedis:
    return _of_role(user, Role.TEACHER)


async def page_student(user: PageUser) -> UserSessionRedis:
    return _of_role(user, Role.STUDENT)


PageTeacher = Annotated[UserSessionRedis, Depends(page_teacher)]
PageStudent = Annotated[UserSessionRedis, Depends(page_student)]


async def checked_form(request: Request) -> dict[str, str]:
    """The posted form, after checking its CSRF token against the session cookie."""
    form = await request.form()
    values = {key: str(value) for key, value in form.items()}
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token or not hmac.compare_digest(values.get("csrf", ""), csrf_token(request, token)):
        raise Redirect("/login?expired=1")
    return values


CsrfForm = Annotated[dict[str, str], Depends(checked_form)]


@router.get("/", response_class=HTMLResponse)
async def home(user: PageUser) -> Response:
    return back("/teacher" if user.role is Role.TEACHER else "/student")


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> HTMLResponse:
    return render(
        request,
        "login.html",
        expired=request.query_params.get("expired") == "1",
        next=request.query_params.get("next", "/"),
        error=None,
        school_number="",
    )


def _safe_target(target: str) -> str:
    """A local path to go to after signing in; `/` for anything else."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.post("/login", response_class=HTMLResponse)
async def login_submit(request: Request) -> Response:
    form = await request.form()
    number, password = str(form.get("school_number", "")), str(form.get("password", ""))
    target = _safe_target(str(form.get("next", "/")))
    try:
        if not number or not password:
            raise MissingCredentials
        body = LoginIn.model_validate({"school_number": number, "password": password})
        result = await auth.login(
            context_of(request),
            school_number=body.school_number,
            password=body.password,
            device_id=request.cookies.get(DEVICE_COOKIE),
        )
    except (AttnError, ValidationError) as exc:
        message = (
            error_text(request, exc) if isinstance(exc, AttnError) else form_error(request, exc)
        )
        return render(
            request,
            "login.html",
            status_code=401 if isinstance(exc, AttnError) else 422,
            expired=False,
            next=target,
            error=message,
            school_number=number,
        )
    response = back(target)
    response.set_cookie(
        SESSION_COOKIE,
        result.access_token,
        max_age=result.expires_in,
        httponly=True,
        samesite="lax",
    )
    response.set_cookie(SIGNED_IN_COOKIE, "1", max_age=YEAR, httponly=True, samesite="lax")
    keep_device(request, response, result.device_id)  # a student's phone: its device id
    return response


@router.post("/logout")
async def logout(request: Request, _form: CsrfForm) -> Response:
    try:
        user = await page_user(request)
        await auth.logout(context_of(request), user)
    except Redirect:
        pass
    response = back("/login")
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(SIGNED_IN_COOKIE)
    return response
