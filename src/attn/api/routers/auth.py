"""`/auth`: login, logout and the current session."""

from __future__ import annotations

from fastapi import APIRouter, Response

from attn.api.deps import Context, CurrentSession
from attn.api.errors import error_responses
from attn.models import LoginIn, LoginOut, MeOut, UserOut
from attn.services import auth

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login", responses=error_responses(401, 422, 429))
async def login(ctx: Context, body: LoginIn) -> LoginOut:
    """Log in with school number and password; the token lives for the role's session TTL."""
    result = await auth.login(ctx, school_number=body.school_number, password=body.password)
    user_session = result.session
    return LoginOut(
        access_token=result.access_token,
        expires_in=result.expires_in,
        user=UserOut(
            school_number=user_session.school_number,
            full_name=user_session.full_name,
            role=user_session.role,
        ),
    )


@router.post("/logout", status_code=204, responses=error_responses(401))
async def logout(ctx: Context, user_session: CurrentSession) -> Response:
    """End the session; its token is refused from now on."""
    await auth.logout(ctx, user_session)
    return Response(status_code=204)


@router.get("/me", responses=error_responses(401))
async def me(user_session: CurrentSession) -> MeOut:
    """The logged-in user and when the session expires."""
    return MeOut(
        user=UserOut(
            school_number=user_session.school_number,
            full_name=user_session.full_name,
            role=user_session.role,
        ),
        session_expires_at=user_session.expires_at,
    )
