"""Route dependencies as `Annotated` aliases, so a route signature reads like a sentence."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from attn.errors import NotAuthenticated, WrongRole
from attn.models import Role, UserSessionRedis
from attn.services import auth
from attn.services.context import ServiceContext

_bearer = HTTPBearer(auto_error=False, description="The access token from /auth/login.")


def get_context(request: Request) -> ServiceContext:
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
