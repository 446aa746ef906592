"""`/auth`: login, logout and the current session."""

from __future__ import annotations

from fastapi import APIRouter, Response

from attn.errors import InvalidRequest
from attn.http.deps import ClientAddress, Context, CurrentSession, SentDeviceIds
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
        device_id=result.device_id,
    )


def _sent_device(body_device: str | None, sent: tuple[str, ...]) -> str | None:
    """The device id the phone sent: the body's, else the header's (or cookie's)."""
    return body_device or next(iter(sent), None)


def _required(device: str | None) -> str:
    if not device:
        raise InvalidRequest("device_id: remembering a device needs its id (16-128 characters)")
    return device


@router.post("/login", responses=error_responses(401, 422, 429))
async def login(
    ctx: Context, body: LoginIn, sent: SentDeviceIds, client: ClientAddress
) -> LoginOut:
    """Log in with school number and password; the token lives for the role's session TTL.

    A student also gets `device_id`, the device id to send with check-ins from now on: the
    one sent (`device_id`, or the `X-ATTN-Device` header) when it was issued to them, else a
    new one. With `remember_device: true` and a device id a refresh token bound to it comes
    too (see `/auth/refresh`).
    """
    device = _sent_device(body.device_id, sent)
    if body.remember_device:
        _required(device)
    result = await auth.login(
        ctx,
        school_number=body.school_number,
        password=body.password,
        client=client,
        device_id=device,
        remember_device=body.remember_device,
    )
    return _login_out(result)


@router.post("/refresh", responses=error_responses(401, 422))
async def refresh(ctx: Context, body: RefreshIn, sent: SentDeviceIds) -> LoginOut:
    """Trade a remembered device's refresh token for a new session, without the password.

    The device id must name the device the token was issued with (the `device_id` of that
    login, or the id sent to it). The refresh token stays valid until it expires or the
    device logs out.
    """
    device = _required(_sent_device(body.device_id, sent))
    result = await auth.refresh(ctx, refresh_token=body.refresh_token, device_id=device)
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
