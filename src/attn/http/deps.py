"""Route dependencies as `Annotated` aliases, so a route signature reads like a sentence.

Dependencies are `async def` so FastAPI runs them on the event loop, not in a thread.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated

from fastapi import Cookie, Depends, Header, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from attn.errors import NotAuthenticated, WrongRole
from attn.models import DEVICE_ID_PATTERN, Role, SchoolNumber, TypedText, UserSessionRedis
from attn.services import auth, devices, network
from attn.services.context import ServiceContext
from attn.services.network import IPAddress

_bearer = HTTPBearer(auto_error=False, description="The access token from /auth/login.")


def context_of(request: Request) -> ServiceContext:
    """The service context the app's lifespan opened."""
    context: ServiceContext = request.app.state.context
    return context


async def get_context(request: Request) -> ServiceContext:
    return context_of(request)


Context = Annotated[ServiceContext, Depends(get_context)]


def require_role(user_session: UserSessionRedis, role: Role) -> UserSessionRedis:
    if user_session.role is not role:
        raise WrongRole
    return user_session


async def current_session(
    ctx: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> UserSessionRedis:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated
    return await auth.authenticate(ctx, credentials.credentials)


CurrentSession = Annotated[UserSessionRedis, Depends(current_session)]


async def current_teacher(user_session: CurrentSession) -> UserSessionRedis:
    return require_role(user_session, Role.TEACHER)


async def current_student(user_session: CurrentSession) -> UserSessionRedis:
    return require_role(user_session, Role.STUDENT)


async def current_admin(user_session: CurrentSession) -> UserSessionRedis:
    return require_role(user_session, Role.ADMIN)


CurrentTeacher = Annotated[UserSessionRedis, Depends(current_teacher)]
CurrentStudent = Annotated[UserSessionRedis, Depends(current_student)]
CurrentAdmin = Annotated[UserSessionRedis, Depends(current_admin)]

Limit = Annotated[int, Query(ge=1, le=200, description="Page size (at most 200).")]
MAX_OFFSET = 1_000_000_000
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")]
# For lists a client needs whole (a lesson's roll, a search): every item unless asked for a page.
OptionalLimit = Annotated[
    int | None,
    Query(ge=1, le=200, description="Page size (at most 200); without it, every item."),
]


StudentNumber = Annotated[SchoolNumber, Path(description="The student's school number.")]
# A course is a lesson name: at most 200 characters, none of them control characters. In a
# path it may hold `/` (the route gives it the rest of the path).
CoursePath = Annotated[
    TypedText, Path(min_length=1, max_length=200, description="The lesson name (may hold `/`).")
]
CourseQuery = Annotated[TypedText, Query(max_length=200, description="The lesson name.")]
# A roster preview's digest: a PUT with it replaces only the roster that preview compared with.
ExpectedDigest = Annotated[
    str | None,
    Query(
        pattern=r"^[0-9a-f]{64}$",
        description="The `digest` of a preview: replace only the roster it was compared with.",
    ),
]


def requested_page(limit: int | None, offset: int) -> slice | None:
    """The part of a whole list that `?limit=&offset=` ask for; None when it is all of it."""
    if limit is None and offset == 0:
        return None
    return slice(offset, None if limit is None else offset + limit)


def address_of(request: Request) -> IPAddress | None:
    """The caller's address: the socket peer, or what trusted proxies say it is."""
    peer = request.client.host if request.client else None
    return network.client_address(
        peer,
        request.headers.getlist("x-forwarded-for"),
        context_of(request).settings.trusted_proxies,
    )


async def client_address(request: Request) -> IPAddress | None:
    return address_of(request)


ClientAddress = Annotated[IPAddress | None, Depends(client_address)]


DEVICE_HEADER = "X-ATTN-Device"
DEVICE_COOKIE = "attn_device"
_DEVICE_ID = re.compile(DEVICE_ID_PATTERN)


async def sent_device_ids(
    header: Annotated[
        str | None,
        Header(
            alias=DEVICE_HEADER,
            description="The device id this server issued to the student (at login), kept "
            "by the app.",
        ),
    ] = None,
    cookie: Annotated[str | None, Cookie(alias=DEVICE_COOKIE, include_in_schema=False)] = None,
) -> tuple[str, ...]:
    """The well-formed device ids the request carries: the header's, then the cookie's."""
    return tuple(sent for sent in (header, cookie) if sent and _DEVICE_ID.fullmatch(sent))


SentDeviceIds = Annotated[tuple[str, ...], Depends(sent_device_ids)]


def valid_device_id(secret_key: bytes, school_number: str, sent: Iterable[str | None]) -> str:
    """The first of `sent` that this server issued to this student, else ''. The one rule by
    which every check-in, the API's and the pages', takes a device id."""
    return next(
        (
            device_id
            for device_id in sent
            if device_id and devices.is_issued(secret_key, device_id, school_number)
        ),
        "",
    )


async def student_device_id(ctx: Context, student: CurrentStudent, sent: SentDeviceIds) -> str:
    return valid_device_id(ctx.secret_key, student.school_number, sent)


# The calling student's own device id, or '' when the request carries none of theirs.
DeviceId = Annotated[str, Depends(student_device_id)]
