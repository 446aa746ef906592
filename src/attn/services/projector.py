"""The projector: what a lesson's projector view shows, and the projector link that shows it
on a classroom PC where no teacher is signed in.

A projector link is `/projector/<token>`, the token `<lesson id>.<generation>.<MAC>`: an HMAC
of the lesson id and the link's generation under the server's secret key, so nothing secret
is stored. The lesson's projector hash in Redis (`keys.lesson_projector`, in the lesson's slot
and removed with its live state) holds the current generation and whether it was revoked;
a link of an older generation, or the current one once revoked, is refused as revoked. A new
link is the next generation (the previous one dies with it). A link of generation 0 exists
from the start of every lesson without a write, so the lesson page always has one to show.

The link grants the projector view of its one lesson and nothing else: the page, its JSON
state and its QR image. It shows the live view while the lesson is active, "check-in closed"
with the final count after it ends (for `CLOSED_SHOWN` past its end time, while the lesson is
in live state), and is refused after that.

May import `attn.models`, `attn.errors`, `attn.store` and the sibling `teacher_service`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from attn.errors import (
    LessonNotActive,
    LessonNotFound,
    ProjectorLinkExpired,
    ProjectorLinkNotFound,
    ProjectorLinkRevoked,
)
from attn.models import CheckInCode, LessonRedis, SecurityOption, UserSessionRedis
from attn.services import teacher_service
from attn.services.context import ServiceContext
from attn.store import keys
from attn.store.redis_client import ProjectorLinkOutcome

# How long after its lesson's end time a projector link still shows "check-in closed".
CLOSED_SHOWN = timedelta(minutes=15)
_TOKEN_RE = re.compile(r"^([0-9a-f]{32})\.(0|[1-9][0-9]{0,8})\.([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True, slots=True)
class ProjectorLink:
    url: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ProjectorState:
    """What the projector shows now: the count, and the code while the lesson is active."""

    lesson: LessonRedis
    active: bool
    count: int
    code: CheckInCode | None


def _mac(secret_key: bytes, lesson_id: str, generation: int) -> str:
    digest = hmac.new(
        secret_key, f"attn-projector:{lesson_id}:{generation}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _link(ctx: ServiceContext, lesson: LessonRedis, generation: int) -> ProjectorLink:
    token = f"{lesson.lesson_id}.{generation}.{_mac(ctx.secret_key, lesson.lesson_id, generation)}"
    return ProjectorLink(
        url=f"{ctx.settings.public_url}/projector/{token}",
        expires_at=lesson.end_time + CLOSED_SHOWN,
    )


async def current_link(
    ctx: ServiceContext, *, teacher: UserSessionRedis, lesson_id: str
) -> ProjectorLink | None:
    """The teacher's lesson's current projector link; None when it was revoked or the lesson
    is no longer shown (out of live state, or ended more than `CLOSED_SHOWN` ago)."""
    if not keys.is_lesson_id(lesson_id):
        raise LessonNotFound
    lesson, state = await ctx.redis_client.read_projector(lesson_id)
    if lesson is None or lesson.teacher_school_number != teacher.school_number:
        return None
    if state.revoked or ctx.now() >= lesson.end_time + CLOSED_SHOWN:
        return None
    return _link(ctx, lesson, state.generation)


async def new_link(
    ctx: ServiceContext, *, teacher: UserSessionRedis, lesson_id: str
) -> ProjectorLink:
    """A new projector link for the teacher's active lesson; the previous link is revoked."""
    lesson = await teacher_service.get_lesson(ctx, teacher=teacher, lesson_id=lesson_id)
    reply = await ctx.redis_client.set_projector_link(
        lesson_id, teacher_school_number=teacher.school_number, revoke=False, now=ctx.now()
    )
    if reply.outcome is not ProjectorLinkOutcome.OK:
        raise LessonNotActive  # ended, or persisted meanwhile
    return _link(ctx, lesson, reply.data)


async def revoke_link(ctx: ServiceContext, *, teacher: UserSessionRedis, lesson_id: str) -> None:
    """Revoke the teacher's lesson's current projector link (a lesson out of live state has
    no link left to revoke)."""
    await teacher_service.get_lesson(ctx, teacher=teacher, lesson_id=lesson_id)
    await ctx.redis_client.set_projector_link(
        lesson_id, teacher_school_number=teacher.school_number, revoke=True, now=ctx.now()
    )


async def open_link(ctx: ServiceContext, token: str) -> LessonRedis:
    """The lesson a projector link shows; refused as not found (a token this server did not
    make), revoked, or expired."""
    found = _TOKEN_RE.fullmatch(token)
    if found is None:
        raise ProjectorLinkNotFound
    lesson_id, generation, mac = found.group(1), int(found.group(2)), found.group(3)
    if not hmac.compare_digest(mac, _mac(ctx.secret_key, lesson_id, generation)):
        raise ProjectorLinkNotFound
    lesson, state = await ctx.redis_client.read_projector(lesson_id)
    if lesson is None or ctx.now() >= lesson.end_time + CLOSED_SHOWN:
        raise ProjectorLinkExpired
    if generation > state.generation:
        raise ProjectorLinkNotFound
    if generation < state.generation or state.revoked:
        raise ProjectorLinkRevoked
    return lesson


def state(ctx: ServiceContext, lesson: LessonRedis) -> ProjectorState:
    """What the projector shows of a lesson already authorised (by session or link)."""
    active = lesson.is_active(ctx.now())
    code = None
    if active and SecurityOption.CODE in lesson.security:
        code = teacher_service.lesson_code(ctx, lesson)
    return ProjectorState(lesson=lesson, active=active, count=lesson.attendee_count, code=code)


async def link_code(ctx: ServiceContext, token: str) -> CheckInCode:
    """The current code of the lesson a projector link shows (for its QR image)."""
    return teacher_service.lesson_code(ctx, await open_link(ctx, token))
