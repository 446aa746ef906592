"""Logins, logouts and token checks. Sessions live in Redis and expire by the role's TTL.

An access token is `<school number>.<secret>`: 256 random bits of secret, of which Redis keeps
only the SHA-256 digest in the user's single session. A new login overwrites that session,
so the previous token dies; logout deletes it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from attn.db import users
from attn.errors import InvalidCredentials, NotAuthenticated, TooManyAttempts
from attn.models import SCHOOL_NUMBER_PATTERN, Role, UserSessionRedis
from attn.services.context import ServiceContext

_SCHOOL_NUMBER_RE = re.compile(SCHOOL_NUMBER_PATTERN)


@dataclass(frozen=True, slots=True)
class LoginResult:
    access_token: str
    session: UserSessionRedis
    expires_in: int


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def login(ctx: ServiceContext, *, school_number: str, password: str) -> LoginResult:
    """Check the password and open the user's one live session, with the role's TTL."""
    settings = ctx.settings
    redis_client = ctx.redis_client
    known_format = _SCHOOL_NUMBER_RE.fullmatch(school_number) is not None
    failures = 0
    if known_format:
        failures = await redis_client.login_failures(school_number)
        if failures >= settings.LOGIN_MAX_FAILURES:
            raise TooManyAttempts(retry_after=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    user = None
    if known_format:
        async with ctx.db() as session:
            user = await users.get_user(session=session, school_number=school_number)
    if user is None or not user.password_hash:
        await ctx.hasher.burn(password)
        if known_format:
            await redis_client.record_login_failure(
                school_number, settings.LOGIN_FAILURE_WINDOW_SECONDS
            )
        raise InvalidCredentials
    if not await ctx.hasher.verify(user.password_hash, password):
        await redis_client.record_login_failure(
            school_number, settings.LOGIN_FAILURE_WINDOW_SECONDS
        )
        raise InvalidCredentials
    if ctx.hasher.needs_rehash(user.password_hash):
        new_hash = await ctx.hasher.hash(password)
        async with ctx.db() as session, session.begin():
            await users.set_password_hash(
                session=session, school_number=school_number, password_hash=new_hash
            )
    if failures:
        await redis_client.clear_login_failures(school_number)

    role = Role(user.role)
    ttl = settings.session_ttl_seconds(role)
    secret = secrets.token_urlsafe(32)
    now = ctx.now()
    user_session = UserSessionRedis(
        school_number=user.school_number,
        full_name=user.full_name,
        role=role,
        token_digest=_digest(secret),
        created_at=now,
        expires_at=now + timedelta(seconds=ttl),
    )
    await redis_client.save_user_session(user_session, ttl)
    return LoginResult(f"{user.school_number}.{secret}", user_session, ttl)


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
    """End the session at once; its token is refused from now on."""
    await ctx.redis_client.delete_user_session(user_session.school_number)
