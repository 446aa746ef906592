"""`/auth`: login, logout and the current session."""

from __future__ import annotations

from fastapi import APIRouter, Response

from attn.errors import InvalidRequest
from attn.http.deps import ClientAddress, Context, CurrentSession, DeviceId
from attn.http.errors import error_responses
from attn.http.schemas import LoginIn, LoginOut, MeOut, RefreshIn, UserOut
from attn.services import auth

router = APIRouter(prefix="/auth", tags=["auth"])


def _login_out(result: auth.LoginResult) -> LoginOut:
    user_session = result.session
    return LoginOut(
        access_token=result.access_token,
        expires_in=result.expires_in,
        user=UserOut(
            school_number=user_session.school_number,
            full_name=user_session.full_name,
            role=user_session.role,
        ),
        refresh_token=result.refresh_token,
        refresh_expires_in=result.refresh_expires_in,
    )


def _device(body_device: str | None, header_device: str) -> str:
    device = body_device or header_device
    if not device:
        raise InvalidRequest("device_id: remembering a device needs its id (16-128 characters)")
    return device


@router.post("/login", responses=error_responses(401, 422, 429))
async def login(ctx: Context, body: LoginIn, device: DeviceId, client: ClientAddress) -> LoginOut:
    """Log in with school number and password; the token lives for the role's session TTL.

    With `remember_device: true` and a device id (`device_id`, or the `X-ATTN-Device`
    header) a refresh token for that device comes too (see `/auth/refresh`).
    """
    remember = _device(body.device_id, device) if body.remember_device else None
    result = await auth.login(
        ctx,
        school_number=body.school_number,
        password=body.password,
        client=client,
        remember_device=remember,
    )
    return _login_out(result)


@router.post("/refresh", responses=error_responses(401, 422))
async def refresh(ctx: Context, body: RefreshIn, device: DeviceId) -> LoginOut:
    """Trade a remembered device's refresh token for a new session, without the password.

    The device id must be the one the token was issued to. The refresh token stays valid
    until it expires or the device logs out.
    """
    result = await auth.refresh(
        ctx, refresh_token=body.refresh_token, device_id=_device(body.device_id, device)
    )
    return _login_out(result)


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
