"""The table from service errors to HTTP statuses, and the contract's error shape.

`{"error": {"code": "<snake_case>", "message": "<human text>"}}` for every failure. Each face
presents errors its own way (JSON for the API, a page for a browser), but both take the
status of an error from `status_of` and only from there.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi.responses import JSONResponse
from redis.exceptions import (
    AskError,
    ClusterError,
    OutOfMemoryError,
    ReadOnlyError,
    ResponseError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, OperationalError

from attn import errors
from attn.http.schemas import ErrorBody

STATUS_OF: dict[type[errors.AttnError], int] = {
    errors.InvalidCredentials: 401,
    errors.MissingCredentials: 422,
    errors.NotAuthenticated: 401,
    errors.WrongRole: 403,
    errors.LessonNotFound: 404,
    errors.RecordNotFound: 404,
    errors.LessonNotActive: 409,
    errors.LessonAlreadyActive: 409,
    errors.UserExists: 409,
    errors.InvalidUser: 422,
    errors.TooManyAttempts: 429,
    errors.TooManyEventStreams: 429,
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
    errors.RosterChanged: 409,
    errors.AmbiguousStudent: 422,
    errors.InvalidSignature: 401,
    errors.VerificationNotFound: 404,
    errors.VerificationAlreadyAnswered: 409,
    errors.InvalidRequest: 422,
    errors.InvalidRefreshToken: 401,
    errors.CrossSiteRequest: 403,
    errors.SignInFormExpired: 403,
    errors.ProjectorLinkNotFound: 404,
    errors.ProjectorLinkRevoked: 410,
    errors.ProjectorLinkExpired: 410,
    errors.UserNotFound: 404,
    errors.LastAdmin: 409,
    errors.UnknownAccount: 403,
    errors.AccountDisabled: 403,
    errors.SsoRefused: 401,
    errors.SsoUnavailable: 503,
    errors.AccountChanged: 409,
    # LTI 1.3
    errors.LtiRegistrationFailed: 400,
    errors.LtiPlatformFailed: 503,
    errors.LtiNotLinked: 404,
    errors.LtiNoGradeService: 404,
    errors.LtiStateNotKept: 401,
}

# A backing store that did not answer, or refused to write: 503, whichever face asked.
# OSError is a driver's own connection error (refused, reset, timed out) that reached us
# unwrapped. Redis refuses writes when it is out of memory (OOM) or a replica (READONLY);
# redis-py gives those their own classes. During a Sentinel failover redis-py raises
# MasterNotFoundError (no sentinel names a primary yet) and, from a demoted primary's READONLY,
# ConnectionError: both are ConnectionErrors, as is BusyLoadingError (a server loading its
# data after a restart). A cluster in failover answers CLUSTERDOWN (ClusterError), TRYAGAIN,
# or keeps redirecting (MOVED/ASK past redis-py's retries), or has no node for a slot for a
# while (SlotNotCoveredError).
UNAVAILABLE: tuple[type[Exception], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    OutOfMemoryError,
    ReadOnlyError,
    ClusterError,
    TryAgainError,
    AskError,
    SlotNotCoveredError,
    OperationalError,
    DBAPIError,
    OSError,
)
# The other refusals of writes, which redis-py reports as a plain ResponseError: the server
# cannot persist (MISCONF), has too few replicas (NOREPLICAS), or is a replica that lost its
# primary and serves nothing meanwhile (MASTERDOWN). By their error code.
REFUSED_WRITE_CODES = frozenset({"OOM", "READONLY", "MISCONF", "NOREPLICAS", "MASTERDOWN"})
UNAVAILABLE_MESSAGE = "The service is briefly unavailable; try again."


def refused_write(exc: ResponseError) -> str | None:
    """The code of a Redis error reply that says the server takes no writes now, else None."""
    code = exc.status_code or str(exc).split(" ", 1)[0]
    return code if code in REFUSED_WRITE_CODES else None


def is_unavailable(exc: BaseException) -> bool:
    """Whether `exc` means a backing store cannot serve the request now (503)."""
    if isinstance(exc, UNAVAILABLE):
        return True
    return isinstance(exc, ResponseError) and refused_write(exc) is not None


def status_of(exc: errors.AttnError) -> int:
    return STATUS_OF[type(exc)]


def error_headers(exc: errors.AttnError) -> dict[str, str] | None:
    """The headers that go with an error: how to authenticate, when to try again."""
    if isinstance(exc, errors.NotAuthenticated):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(exc, errors.TooManyAttempts):
        return {"Retry-After": str(exc.retry_after)}
    return None


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


def attn_error_response(exc: errors.AttnError) -> JSONResponse:
    """A service error in the contract's shape; every 422 has the one code
    `validation_error`, with the specific rule in the details."""
    status = status_of(exc)
    if status == 422:
        details: list[dict[str, Any]] = [{"loc": ["body"], "msg": exc.message, "type": exc.code}]
        if isinstance(exc, (errors.InvalidRoster, errors.InvalidUser)) and exc.problems:
            # every bad line of a roster or an import, each with its line number and rule
            details = [
                {
                    "loc": ["body", problem.line],
                    "msg": problem.message,
                    "type": exc.code,
                    "line": problem.line,
                    "problem": problem.kind,
                }
                for problem in exc.problems
            ]
        return error_response(422, "validation_error", exc.message, details=details)
    return error_response(status, exc.code, exc.message, headers=error_headers(exc))


def unavailable_response() -> JSONResponse:
    return error_response(
        503, "service_unavailable", UNAVAILABLE_MESSAGE, headers={"Retry-After": "1"}
    )


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can return."""
    return {
        status: {"model": ErrorBody, "description": HTTPStatus(status).phrase}
        for status in sorted(statuses)
    }
