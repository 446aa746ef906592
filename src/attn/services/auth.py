"""Logins, logouts and token checks. Sessions live in Redis and expire by the role's TTL.

An access token is `<school number>.<secret>`: 256 random bits of secret, of which Redis keeps
only the SHA-256 digest in the user's single session. A new login overwrites that session,
so the previous token dies; logout deletes it.

A student's login (and refresh) also hands out the device id the phone is to send with its
check-ins (`attn.services.devices`): the one it sent, when that was issued to this student,
else the same phone's device sealed for them, else a new one.

"Remember this device": a login may also return a refresh token (256 random bits, kept only as
a SHA-256 digest, bound to the device id handed out with it, valid `ATTN_REFRESH_TTL_DAYS`) that
`refresh` trades for a new session without the password, so a lecture hall's students need no
argon2 work at the start of each lesson. Logout revokes the device's refresh token; a password
login on another device does not. A user keeps at most `ATTN_REFRESH_TOKENS_PER_USER`
remembered devices; remembering one more revokes the oldest. The API's refresh keeps the
token; the pages' (`rotate`) trades it for a successor each time, so a copied cookie works
once at most and a replayed one signs nobody in.

A deactivated account signs in with nothing: its password login fails as a wrong password
would, and an identity provider's word for it is refused. Deactivating an account, changing
its role or resetting its password ends its session and refresh tokens at once
(`end_sessions`); a sign-in that looked at the account before that opens nothing, because it
hands back the account epoch it read before it looked (see `attn.store.keys.account_epoch`).

Wrong passwords are counted per account and client address and per account (see
`_checked_user`), both faces' logins alike; a remembered device's refresh is not a password
check and is never locked out.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from pydantic import TypeAdapter, ValidationError

from attn import metrics
from attn.db import users
from attn.db.tables import UserRow
from attn.errors import (
    AccountDisabled,
    AttnError,
    InvalidCredentials,
    InvalidRefreshToken,
    NotAuthenticated,
    SsoRefused,
    TooManyAttempts,
    UnknownAccount,
)
from attn.models import (
    SCHOOL_NUMBER_PATTERN,
    DisplayName,
    ExternalIdentity,
    RefreshTokenRedis,
    Role,
    UserSessionRedis,
)
from attn.services import devices, network
from attn.services.context import ServiceContext
from attn.services.network import IPAddress
from attn.store.redis_client import LoginOutcome, RefreshOutcome, RotateOutcome

_SCHOOL_NUMBER_RE = re.compile(SCHOOL_NUMBER_PATTERN)
# longer than any sign-in takes from reading the account epoch to opening its session
_EPOCH_TTL = 24 * 3600
_DISPLAY_NAME: TypeAdapter[str] = TypeAdapter(DisplayName)


@dataclass(frozen=True, slots=True)
class LoginResult:
    access_token: str
    session: UserSessionRedis
    expires_in: int
    refresh_token: str | None = None
    refresh_expires_in: int | None = None
    device_id: str | None = None  # the device id to send from now on


def device_key(device_id: str) -> str:
    return hashlib.sha256(f"attn-device:{device_id}".encode()).hexdigest()[:32]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def login(
    ctx: ServiceContext,
    *,
    school_number: str,
    password: str,
    client: IPAddress | None,
    device_id: str | None = None,
    remember_device: bool = False,
) -> LoginResult:
    """Check the password and open the user's one live session, with the role's TTL.

    A student gets the device id to check in with (bound from `device_id`, what the phone
    sent); with `remember_device` any user gets one, and a refresh token bound to it. The
    attempt is counted before the password is checked (see `_checked_user`), and counted in
    `attn_logins_total` by outcome (success, or the refusal's code) after.
    """
    try:
        result = await _login(
            ctx,
            school_number=school_number,
            password=password,
            client=client,
            device_id=device_id,
            remember_device=remember_device,
        )
    except AttnError as exc:
        metrics.outcome("LOGINS", exc.code)
        raise
    except Exception:
        metrics.outcome("LOGINS", "error")
        raise
    metrics.outcome("LOGINS", "success")
    return result


async def _login(
    ctx: ServiceContext,
    *,
    school_number: str,
    password: str,
    client: IPAddress | None,
    device_id: str | None,
    remember_device: bool,
) -> LoginResult:
    if _SCHOOL_NUMBER_RE.fullmatch(school_number) is None:
        await ctx.hasher.burn(password)
        raise InvalidCredentials
    epoch = await ctx.redis_client.account_epoch(school_number)
    user = await _checked_user(ctx, school_number, password, network.login_source(client))
    new_hash = (
        await ctx.hasher.hash(password) if ctx.hasher.needs_rehash(user.password_hash) else None
    )
    async with ctx.db() as session, session.begin():
        await users.signed_in(
            session=session, school_number=school_number, at=ctx.now(), password_hash=new_hash
        )
    return await _open_for(
        ctx,
        user,
        device_id=device_id,
        remember_device=remember_device,
        epoch=epoch,
        refused=InvalidCredentials,
    )


async def sign_in_external(
    ctx: ServiceContext,
    *,
    provider: str,
    identity: ExternalIdentity,
    client: IPAddress | None,
    device_id: str | None = None,
    remember_device: bool = False,
) -> LoginResult:
    """Open the session of a user an identity provider vouches for, as a password login would.

    The account of the identity's school number signs in, keeping the role its administrator
    gave it; an unclaimed student (known from a roster, no password) is claimed. An unknown
    number is refused (UnknownAccount) unless `ATTN_SSO_CREATE_USERS` creates its account at
    once, with the identity's role or `ATTN_SSO_DEFAULT_ROLE`. A deactivated account is
    refused (AccountDisabled). The provider's name for the user, when it gives one, becomes
    the account's. `client` is where the browser is, for the same checks as a login's.
    """
    del client  # the provider did the checking of who this is; nothing is counted here
    number = identity.school_number
    if _SCHOOL_NUMBER_RE.fullmatch(number) is None:
        raise SsoRefused(f"the provider's school number {number[:40]!r} is not a school number")
    name = _display_name(identity.full_name)
    epoch = await ctx.redis_client.account_epoch(number)
    now = ctx.now()
    async with ctx.db() as session, session.begin():
        user = await users.get_user(session=session, school_number=number)
        if user is None:
            if not ctx.settings.SSO_CREATE_USERS:
                raise UnknownAccount
            role = identity.role or Role(ctx.settings.SSO_DEFAULT_ROLE)
            user = await users.create_external_user(
                session=session,
                user=users.NewUser(number, name or number, role.value, ""),
                provider=provider,
                at=now,
            )
        elif not user.active:
            raise AccountDisabled
        else:
            user = await users.signed_in_externally(
                session=session, user=user, provider=provider, full_name=name, at=now
            )
    if not user.active:
        raise AccountDisabled
    return await _open_for(
        ctx,
        user,
        device_id=device_id,
        remember_device=remember_device,
        epoch=epoch,
        refused=AccountDisabled,
    )


def _display_name(value: str) -> str:
    """The provider's name for the user when it is one ATTN can show; else ""."""
    try:
        return _DISPLAY_NAME.validate_python(value.strip())
    except ValidationError:
        return ""


async def _open_for(
    ctx: ServiceContext,
    user: UserRow,
    *,
    device_id: str | None,
    remember_device: bool,
    epoch: str,
    refused: type[AttnError],
) -> LoginResult:
    """Open the session of a user who has just proved who they are: a student (or any user
    with `remember_device`) gets a device id bound from `device_id`; with `remember_device` a
    refresh token too. `refused` is raised when the account was changed meanwhile (its epoch
    is no longer `epoch`)."""
    settings = ctx.settings
    role = Role(user.role)
    now = ctx.now()
    device = None
    if role is Role.STUDENT or remember_device:
        device = devices.bind(ctx.secret_key, device_id, user.school_number)
    if not remember_device or device is None:
        opened = await _open_session(
            ctx, user.school_number, user.full_name, role, None, epoch, refused
        )
        return dataclasses.replace(opened, device_id=device)
    key = device_key(device)
    refresh_ttl = settings.REFRESH_TTL_DAYS * 24 * 3600
    refresh_secret = secrets.token_urlsafe(32)
    saved = await ctx.redis_client.save_refresh_token(
        RefreshTokenRedis(
            school_number=user.school_number,
            full_name=user.full_name,
            role=role,
            token_digest=_digest(refresh_secret),
            created_at=now,
            expires_at=now + timedelta(seconds=refresh_ttl),
        ),
        device_key=key,
        ttl=refresh_ttl,
        per_user=settings.REFRESH_TOKENS_PER_USER,
        epoch=epoch,
    )
    if saved.outcome is RefreshOutcome.CHANGED:
        raise refused
    opened = await _open_session(ctx, user.school_number, user.full_name, role, key, epoch, refused)
    return dataclasses.replace(
        opened,
        refresh_token=f"{user.school_number}.{refresh_secret}",
        refresh_expires_in=refresh_ttl,
        device_id=device,
    )


async def _checked_user(
    ctx: ServiceContext, school_number: str, password: str, source: str
) -> UserRow:
    """The user whose password this is, or InvalidCredentials / TooManyAttempts.

    The attempt is reserved (counted as failed) in one atomic step before any hash is
    checked, so a burst of guesses checks no more hashes than the limits allow, whatever
    their number. Failures are counted per account and source (`network.login_source`), so a
    flood from one address does not lock the owner out elsewhere, and per account, up to
    `ATTN_LOGIN_ACCOUNT_MAX_FAILURES`, which stops a guesser spread over many addresses. A
    right password gives the attempt back and forgives its source's earlier failures.
    """
    settings = ctx.settings
    redis_client = ctx.redis_client
    reserved = await redis_client.reserve_login_attempt(
        school_number,
        source,
        per_source=settings.LOGIN_MAX_FAILURES,
        per_account=settings.LOGIN_ACCOUNT_MAX_FAILURES,
        window=settings.LOGIN_FAILURE_WINDOW_SECONDS,
    )
    if reserved.outcome is LoginOutcome.TOO_MANY:
        raise TooManyAttempts(retry_after=max(1, math.ceil(reserved.data / 1000)))
    try:
        async with ctx.db() as session:
            user = await users.get_user(session=session, school_number=school_number)
        if user is None or not user.password_hash:
            await ctx.hasher.burn(password)
            raise InvalidCredentials
        if not await ctx.hasher.verify(user.password_hash, password) or not user.active:
            raise InvalidCredentials  # a deactivated account: as if the password were wrong
    except InvalidCredentials:
        raise  # the reserved attempt stays counted
    except Exception:
        # the password was never judged (a store failed): the attempt is not held against it
        await redis_client.release_login_attempt(school_number, source, password_right=False)
        raise
    await redis_client.release_login_attempt(school_number, source, password_right=True)
    return user


async def _open_session(
    ctx: ServiceContext,
    school_number: str,
    full_name: str,
    role: Role,
    device: str | None,
    epoch: str,
    refused: type[AttnError],
) -> LoginResult:
    """Save a new session (replacing the user's previous one) with the role's TTL; `refused`
    when the account was changed since the sign-in read its epoch."""
    ttl = ctx.settings.session_ttl_seconds(role)
    secret = secrets.token_urlsafe(32)
    now = ctx.now()
    user_session = UserSessionRedis(
        school_number=school_number,
        full_name=full_name,
        role=role,
        token_digest=_digest(secret),
        created_at=now,
        expires_at=now + timedelta(seconds=ttl),
        device_key=device,
    )
    if not await ctx.redis_client.save_user_session(user_session, ttl, epoch=epoch):
        raise refused
    return LoginResult(f"{school_number}.{secret}", user_session, ttl)


async def refresh(
    ctx: ServiceContext, *, refresh_token: str, device_id: str, rotate: bool = False
) -> LoginResult:
    """Trade a remembered device's refresh token for a new session, without the password.

    `device_id` (what the phone sent) must name the device the token was issued with. With
    `rotate` (the pages' cookie) the token is traded in: the answer carries its successor,
    with the same expiry, and the token sent works no more. Without it (the API) it stays."""
    school_number, _, secret = refresh_token.rpartition(".")
    if not secret or _SCHOOL_NUMBER_RE.fullmatch(school_number) is None:
        raise InvalidRefreshToken
    device = devices.bind(ctx.secret_key, device_id, school_number)
    key = device_key(device)
    stored, epoch = await ctx.redis_client.get_refresh_token_and_epoch(school_number, key)
    if stored is None or not hmac.compare_digest(stored.token_digest, _digest(secret)):
        raise InvalidRefreshToken
    successor: str | None = None
    expires_in: int | None = None
    if rotate:
        successor_secret = secrets.token_urlsafe(32)
        rotated = await ctx.redis_client.rotate_refresh_token(
            stored.model_copy(update={"token_digest": _digest(successor_secret)}),
            device_key=key,
            old_digest=stored.token_digest,
        )
        if rotated.outcome is not RotateOutcome.ROTATED:
            raise InvalidRefreshToken  # traded in by a request just before this one
        successor = f"{school_number}.{successor_secret}"
        expires_in = max(1, math.floor((stored.expires_at - ctx.now()).total_seconds()))
    opened = await _open_session(
        ctx, school_number, stored.full_name, stored.role, key, epoch, InvalidRefreshToken
    )
    return dataclasses.replace(
        opened, device_id=device, refresh_token=successor, refresh_expires_in=expires_in
    )


async def forget_device(ctx: ServiceContext, *, refresh_token: str, device_id: str) -> None:
    """Revoke a remembered device's refresh token, given the token itself (a sign-out whose
    session has already ended); a token that is not the stored one changes nothing."""
    school_number, _, secret = refresh_token.rpartition(".")
    if not secret or _SCHOOL_NUMBER_RE.fullmatch(school_number) is None:
        return
    key = device_key(devices.bind(ctx.secret_key, device_id, school_number))
    stored = await ctx.redis_client.get_refresh_token(school_number, key)
    if stored is not None and hmac.compare_digest(stored.token_digest, _digest(secret)):
        await ctx.redis_client.delete_refresh_token(school_number, key)


async def authenticate(ctx: ServiceContext, token: str) -> UserSessionRedis:
    """The live session a bearer token belongs to; NotAuthenticated when there is none."""
    school_number, _, secret = token.rpartition(".")
    if not secret or _SCHOOL_NUMBER_RE.fullmatch(school_number) is None:
        raise NotAuthenticated
    user_session = await ctx.redis_client.get_user_session(school_number)
    if user_session is None or not hmac.compare_digest(user_session.token_digest, _digest(secret)):
        raise NotAuthenticated
    return user_session


async def logout(ctx: ServiceContext, user_session: UserSessionRedis) -> None:
    """End the session at once (its token is refused from now on), and forget the device."""
    await ctx.redis_client.delete_user_session(user_session.school_number)
    if user_session.device_key is not None:
        await ctx.redis_client.delete_refresh_token(
            user_session.school_number, user_session.device_key
        )


async def end_sessions(ctx: ServiceContext, school_number: str) -> None:
    """End the user's session and every remembered device's refresh token at once; a sign-in
    that read the account before this opens nothing."""
    await ctx.redis_client.end_user_sessions(school_number, epoch_ttl=_EPOCH_TTL)
