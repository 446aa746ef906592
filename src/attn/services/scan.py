"""What a join link (the projector's QR code) opens, and the moment of its scan.

A join link is `/join/<lesson id>?code=<code>`. Opening it while its code is valid earns the
browser a scan ticket: `s1.<lesson id>.<code>.<scan time, ms>.<nonce>.<seal>`, the seal an
HMAC (the server's secret key) of everything before it, the nonce 128 random bits of the
ticket's own. The pages keep it in an HttpOnly cookie of that browser only. Until
`ATTN_SCAN_GRACE_SECONDS` after the scan, a join of that lesson sending that code counts the
code as valid even when it has rotated since (signing in first takes time): the code must
have been valid at the scan, which the seal vouches for and `admits` checks again at the
scan's moment. A forwarded link carries no ticket, so it is worth what it was before tickets
(the code must be valid when the join arrives); a ticket cannot be made for a code that was
not valid when its link was opened, nor moved to another lesson or code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from attn.db import history
from attn.models import LessonRedis, to_ms
from attn.services import codes
from attn.services.context import ServiceContext
from attn.store import keys

_TICKET = re.compile(
    r"s1\.(?P<lesson>[0-9a-f]{32})\.(?P<code>[0-9]{6})\.(?P<ms>[0-9]{1,15})"
    r"\.(?P<nonce>[A-Za-z0-9_-]{22})\.(?P<seal>[A-Za-z0-9_-]{43})"
)


def _seal(secret_key: bytes, body: str) -> str:
    digest = hmac.new(secret_key, f"attn-scan:{body}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _typed(code: str | None) -> str:
    return "".join((code or "").split())


def issue_ticket(
    secret_key: bytes, *, lesson_id: str, code: str | None, now: datetime, rotation_seconds: int
) -> str | None:
    """A scan ticket for opening this lesson's join link with `code` now; None when the code
    is not valid now (then the link earns nothing)."""
    if not keys.is_lesson_id(lesson_id) or not codes.code_matches(
        secret_key, lesson_id, code, now, rotation_seconds
    ):
        return None
    nonce = secrets.token_urlsafe(16)
    body = f"s1.{lesson_id}.{_typed(code)}.{to_ms(now)}.{nonce}"
    return f"{body}.{_seal(secret_key, body)}"


def admits(
    secret_key: bytes,
    ticket: str | None,
    *,
    lesson_id: str,
    code: str | None,
    now: datetime,
    grace_seconds: int,
    rotation_seconds: int,
) -> bool:
    """Whether `ticket` makes `code` count for a join of `lesson_id` now: sealed here, for
    this lesson and this code, scanned at most `grace_seconds` ago, and the code valid then."""
    found = _TICKET.fullmatch(ticket or "")
    if found is None:
        return False
    body, _, seal = found.group(0).rpartition(".")
    if not hmac.compare_digest(seal, _seal(secret_key, body)):
        return False
    if found["lesson"] != lesson_id or not hmac.compare_digest(found["code"], _typed(code)):
        return False
    scanned = datetime.fromtimestamp(int(found["ms"]) / 1000, UTC)
    if not timedelta(0) <= now - scanned <= timedelta(seconds=grace_seconds):
        return False
    return codes.code_matches(secret_key, lesson_id, found["code"], scanned, rotation_seconds)


@dataclass(frozen=True, slots=True)
class JoinLink:
    """The lesson a join link names, and whether it still takes check-ins."""

    lesson: LessonRedis
    open: bool


async def join_link(ctx: ServiceContext, *, lesson_id: str) -> JoinLink | None:
    """The lesson of a join link: live (open while active), or persisted (closed); None for
    an id that names no lesson, so nothing a link makes up is ever shown back."""
    if not keys.is_lesson_id(lesson_id):
        return None
    live = await ctx.redis_client.get_lesson(lesson_id)
    if live is not None:
        return JoinLink(live, live.is_active(ctx.now()))
    async with ctx.db() as session:
        persisted = await history.get_lesson(session=session, lesson_id=lesson_id)
    return None if persisted is None else JoinLink(persisted, False)
