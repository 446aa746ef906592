"""Route dependencies as `Annotated` aliases, so a route signature reads like a sentence."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Cookie, Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from attn.errors import NotAuthenticated, WrongRole
from attn.models import Role, UserSessionRedis
from attn.services import auth, network
from attn.services.context import ServiceContext
from attn.services.network import IPAddress

_bearer = HTTPBearer(auto_error=False, description="The access token from /auth/login.")


async def get_context(request: Request) -> ServiceContext:
    context: ServiceContext = request.app.state.context
    return context


Context = Annotated[ServiceContext, Depends(get_context)]


async def current_session(
    ctx: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> UserSessionRedis:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated
    return await auth.authenticate(ctx, credentials.credentials)


CurrentSession = Annotated[UserSessionRedis, Depends(current_session)]


def _require(role: Role) -> object:
    async def dependency(user_session: CurrentSession) -> UserSessionRedis:
        if user_session.role is not role:
            raise WrongRole
        return user_session

    return Depends(dependency)


CurrentTeacher = Annotated[UserSessionRedis, _require(Role.TEACHER)]
CurrentStudent = Annotated[UserSessionRedis, _require(Role.STUDENT)]

Limit = Annotated[int, Query(ge=1, le=200, description="Page size (at most 200).")]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000, description="Items to skip.")]
# For lists a client needs whole (a lesson's roll, a search): every item unless asked for a page.
OptionalLimit = Annotated[
    int | None,
    Query(ge=1, le=200, description="Page size (at most 200); without it, every item."),
]


def requested_page(limit: int | None, offset: int) -> slice | None:
    """The part of a whole list that `?limit=&offset=` ask for; None when it is all of it."""
    if limit is None and offset == 0:
        return None
    return slice(offset, None if limit is None else offset + limit)


async def client_address(request: Request, ctx: Context) -> IPAddress | None:
    """The caller's address: the socket peer, or what trusted proxies say it is.

    Dependencies are `async def` so FastAPI runs them on the loop, not in a thread.
    """
    peer = request.client.host if request.client else None
    return network.client_address(
        peer, request.headers.getlist("x-forwarded-for"), ctx.settings.trusted_proxies
    )


ClientAddress = Annotated[IPAddress | None, Depends(client_address)]

DEVICE_HEADER = "X-ATTN-Device"
DEVICE_COOKIE = "attn_device"
_DEVICE_ID = re.compile(r"^[A-Za-z0-9_-]{16,128}$")


async def device_id(
    header: Annotated[
        str | None,
        Header(
            alias=DEVICE_HEADER,
            description="The student's device id (16-128 of A-Z a-z 0-9 _ -), kept by the app.",
        ),
    ] = None,
    cookie: Annotated[str | None, Cookie(alias=DEVICE_COOKIE, include_in_schema=False)] = None,
) -> str:
    """The device id from the header, else the cookie; '' when neither is a valid id."""
    for candidate in (header, cookie):
        if candidate and _DEVICE_ID.fullmatch(candidate):
            return candidate
    return ""


DeviceId = Annotated[str, Depends(device_id)]
