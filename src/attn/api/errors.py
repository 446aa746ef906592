"""The one place that turns errors into HTTP responses of the contract's error shape.

`{"error": {"code": "<snake_case>", "message": "<human text>"}}` for every failure, including
validation errors (422 `validation_error`), unknown routes and unexpected exceptions.
"""

from __future__ import annotations

import html
import logging
import re
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from attn import errors
from attn.models import ErrorBody
from attn.services import auth
from attn.web.routes import Redirect

log = logging.getLogger(__name__)

STATUS_OF: dict[type[errors.AttnError], int] = {
    errors.InvalidCredentials: 401,
    errors.NotAuthenticated: 401,
    errors.WrongRole: 403,
    errors.LessonNotFound: 404,
    errors.RecordNotFound: 404,
    errors.LessonNotActive: 409,
    errors.LessonAlreadyActive: 409,
    errors.UserExists: 409,
    errors.InvalidUser: 422,
    errors.TooManyAttempts: 429,
    errors.InvalidCode: 403,
    errors.NetworkNotAllowed: 403,
    errors.DeviceRequired: 403,
    errors.DeviceAlreadyUsed: 409,
    errors.CodeNotEnabled: 409,
    errors.NetworkUnknown: 422,
    errors.VerificationUnavailable: 422,
    errors.RecordExists: 409,
    errors.RecordChanged: 409,
    errors.StudentNotFound: 404,
    errors.ReasonRequired: 422,
    errors.StatusNotAllowed: 422,
    errors.InvalidRoster: 422,
    errors.RosterNotFound: 404,
    errors.InvalidSignature: 401,
    errors.VerificationNotFound: 404,
    errors.VerificationAlreadyAnswered: 409,
    errors.InvalidRequest: 422,
    errors.InvalidRefreshToken: 401,
}

_CODE_OF_STATUS = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    503: "service_unavailable",
}


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can return."""
    return {
        status: {"model": ErrorBody, "description": HTTPStatus(status).phrase}
        for status in sorted(statuses)
    }


def _wants_page(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


def _page_error(status: int, message: str) -> HTMLResponse:
    body = (
        '<!doctype html><html lang="en"><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<link rel="stylesheet" href="/static/app.css"><title>ATTN</title>'
        f'<main><h1>{status}</h1><p class="error" role="alert">{html.escape(message)}</p>'
        '<p><a href="/">ATTN</a></p></main>'
    )
    return HTMLResponse(body, status_code=status)


def _redirect(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Redirect)
    return RedirectResponse(exc.url, status_code=303)


def _attn_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.AttnError)
    status = STATUS_OF.get(type(exc), 400)
    if _wants_page(request):
        return _page_error(status, exc.message)
    headers = None
    if isinstance(exc, errors.NotAuthenticated):
        headers = {"WWW-Authenticate": "Bearer"}
    if isinstance(exc, errors.TooManyAttempts):
        headers = {"Retry-After": str(exc.retry_after)}
    if status == 422:
        # The contract's one code for a 422; the specific rule is in the details.
        details = [{"loc": ["body"], "msg": exc.message, "type": exc.code}]
        return error_response(422, "validation_error", exc.message, details=details)
    return error_response(status, exc.code, exc.message, headers=headers)


# The routes of one role: who may call them is checked before what they were sent.
_ROLE_PATH = re.compile(r"^/api/v1/(teacher|student)/")


async def _auth_refusal(request: Request) -> errors.AttnError | None:
    """Why the caller may not use this route at all, if so; None when they may or it is
    not a route of one role.

    FastAPI decodes a JSON body before it runs the route's dependencies, so a request with
    both a bad token and a bad body would otherwise be told about the body; 401 and 403 come
    first, as the contract orders them. This runs only on the way to a 422.
    """
    match = _ROLE_PATH.match(request.url.path)
    if match is None:
        return None
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return errors.NotAuthenticated()
    try:
        session = await auth.authenticate(request.app.state.context, token.strip())
    except errors.AttnError as refusal:
        return refusal
    except Exception:
        return None  # the store did not answer: the validation error stands
    return errors.WrongRole() if session.role.value != match.group(1) else None


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    refusal = await _auth_refusal(request)
    if refusal is not None:
        return _attn_error(request, refusal)
    details = [
        {"loc": [str(part) for part in error.get("loc", ())], "msg": str(error.get("msg", ""))}
        for error in exc.errors()
    ]
    first = details[0] if details else {"loc": [], "msg": "invalid request"}
    where = ".".join(first["loc"][1:] or first["loc"]) or "request"
    message = f"{where}: {first['msg']}"
    return error_response(422, "validation_error", message, details=details)


# A path below a lesson collection that matches no route names a lesson id that is not an id
# (say one with an encoded slash): that is a lesson the caller cannot see.
_LESSON_PATH = re.compile(r"^/api/v1/(teacher|student)/lessons/.")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404 and _LESSON_PATH.match(request.url.path):
        lesson_error = errors.LessonNotFound()
        return error_response(404, lesson_error.code, lesson_error.message)
    if exc.status_code == 400:
        refusal = await _auth_refusal(request)
        if refusal is not None:
            return _attn_error(request, refusal)
        # FastAPI's answer to a body it could not decode (bad UTF-8, numbers too long,
        # nesting too deep): a validation error like any other malformed JSON.
        return error_response(422, "validation_error", "The request body is not valid JSON.")
    code = _CODE_OF_STATUS.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    headers = dict(exc.headers) if exc.headers else None
    return error_response(exc.status_code, code, message, headers=headers)


def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
    log.warning("a backing store is unavailable: %s", exc)
    return error_response(
        503,
        "service_unavailable",
        "The service is briefly unavailable; try again.",
        headers={"Retry-After": "1"},
    )


def _unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "internal_error", "Something went wrong on our side.")


def install(app: FastAPI) -> None:
    app.add_exception_handler(Redirect, _redirect)
    app.add_exception_handler(errors.AttnError, _attn_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # OSError: a driver's own connection error (refused, reset, timed out) that reached us
    # unwrapped.
    for unavailable in (
        RedisConnectionError,
        RedisTimeoutError,
        OperationalError,
        DBAPIError,
        OSError,
    ):
        app.add_exception_handler(unavailable, _unavailable)
    app.add_exception_handler(Exception, _unexpected_error)
