"""The JSON API's exception handlers: every failure in the contract's error shape.

Statuses come from `attn.http.errors`; this module adds what only the API needs: validation
errors as 422 `validation_error`, unknown routes, and 401/403 before a 422 on the routes of
one role. The handlers are installed app-wide, so they also answer for paths no route has.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Awaitable, Callable
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from redis.exceptions import ResponseError
from starlette.exceptions import HTTPException as StarletteHTTPException

from attn import errors, metrics
from attn.db.refusals import refuses_value
from attn.http.deps import context_of
from attn.http.errors import (
    UNAVAILABLE,
    attn_error_response,
    error_response,
    refused_write,
    unavailable_response,
)
from attn.services import auth

log = logging.getLogger(__name__)

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


def _attn_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.AttnError)
    return attn_error_response(exc)


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
        session = await auth.authenticate(context_of(request), token.strip())
    except errors.AttnError as refusal:
        return refusal
    except Exception:
        return None  # the store did not answer: the validation error stands
    return errors.WrongRole() if session.role.value != match.group(1) else None


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    refusal = await _auth_refusal(request)
    if refusal is not None:
        return attn_error_response(refusal)
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


# A roster path that matches no route holds a course name with a line break (the path
# converter stops there): a course name no rule admits.
_ROSTER_PATH = re.compile(r"^/api/v1/teacher/rosters/.")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404 and _LESSON_PATH.match(request.url.path):
        return attn_error_response(errors.LessonNotFound())
    if exc.status_code == 404 and _ROSTER_PATH.match(request.url.path):
        refusal = await _auth_refusal(request)
        return attn_error_response(
            refusal or errors.InvalidRoster("course: must not contain control characters")
        )
    if exc.status_code == 400:
        refusal = await _auth_refusal(request)
        if refusal is not None:
            return attn_error_response(refusal)
        # FastAPI's answer to a body it could not decode (bad UTF-8, numbers too long,
        # nesting too deep): a validation error like any other malformed JSON.
        return error_response(422, "validation_error", "The request body is not valid JSON.")
    code = _CODE_OF_STATUS.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    headers = dict(exc.headers) if exc.headers else None
    return error_response(exc.status_code, code, message, headers=headers)


def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
    if refuses_value(exc):
        # a value the edge let through and the database cannot keep: the request's fault
        log.warning("the database refused a value of a request: %s", str(exc).splitlines()[0])
        return error_response(
            422, "validation_error", "The request holds a value the database cannot store."
        )
    metrics.backend_error(exc)
    log.warning("a backing store is unavailable: %s", exc)
    return unavailable_response()


def _unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    # The server closes the connection after a 500 (the app raised); say so, so a client
    # does not send its next request on a connection that is going away.
    return error_response(
        500,
        "internal_error",
        "Something went wrong on our side.",
        headers={"Connection": "close"},
    )


def _redis_error(request: Request, exc: Exception) -> JSONResponse:
    """A Redis error reply: 503 when Redis refuses writes (MISCONF, NOREPLICAS), else a bug."""
    assert isinstance(exc, ResponseError)
    if refused_write(exc) is not None:
        return _unavailable(request, exc)
    return _unexpected_error(request, exc)


Handler = Callable[[Request, Exception], Response | Awaitable[Response]]
# Every handler, by the exception it answers (most specific first, as Starlette looks them up).
HANDLERS: dict[type[Exception], Handler] = {
    errors.AttnError: _attn_error,
    RequestValidationError: _validation_error,
    StarletteHTTPException: _http_error,
    **dict.fromkeys(UNAVAILABLE, _unavailable),
    ResponseError: _redis_error,
    Exception: _unexpected_error,
}


async def response_for(request: Request, exc: Exception) -> Response:
    """The answer the app's handlers give to `exc`, found as Starlette finds a handler: by
    the nearest class in the exception's MRO (for `attn.api.lean`, which runs before them)."""
    handler = next(HANDLERS[kind] for kind in type(exc).__mro__ if kind in HANDLERS)
    response = handler(request, exc)
    return await response if inspect.isawaitable(response) else response


def install(app: FastAPI) -> None:
    for kind, handler in HANDLERS.items():
        app.add_exception_handler(kind, handler)
