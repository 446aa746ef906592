"""A teacher watching a lesson's roll live: who may open a watch, how many at once, and when
one must end.

A user has at most `ATTN_MAX_EVENT_STREAMS_PER_USER` watches open at once, counted in Redis
across every worker; each holds a lease that its stream renews every
`ATTN_EVENTS_KEEPALIVE_SECONDS`, so the watches of a worker that died stop counting soon
after. At each renewal a watch learns whether it may go on: not once its session has ended
(logout, expiry, a newer login) nor once its lesson has left Redis (persisted, or gone).
"""

from __future__ import annotations

import asyncio
import math
import secrets
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from enum import StrEnum

from attn.errors import TooManyEventStreams
from attn.models import UserSessionRedis, to_ms
from attn.services import teacher_service
from attn.services.context import ServiceContext
from attn.store.live import FEED_LOST as FEED_LOST  # what a watcher's queue may hold
from attn.store.redis_client import StreamOutcome

# A lease outlives two missed renewals, and a little more for a busy worker.
_LEASE_SLACK_SECONDS = 5


class WatchEnd(StrEnum):
    """Why a watch ended."""

    SESSION_ENDED = "session_ended"
    LESSON_CLOSED = "lesson_closed"


def lease_ms(ctx: ServiceContext) -> int:
    return int((2 * ctx.settings.EVENTS_KEEPALIVE_SECONDS + _LEASE_SLACK_SECONDS) * 1000)


@dataclass(frozen=True, slots=True)
class RollWatch:
    """One open watch of one lesson's roll by its teacher."""

    ctx: ServiceContext
    teacher: UserSessionRedis
    lesson_id: str
    stream_id: str

    def records(self) -> AbstractAsyncContextManager[asyncio.Queue[str]]:
        """The lesson's new and changed records (JSON) as they happen, while the block runs;
        `FEED_LOST` in their place when some may have been missed (the watch must end)."""
        return self.ctx.redis_client.feed.listen(self.lesson_id)

    async def renew(self) -> WatchEnd | None:
        """Extend the watch's lease; why it must end instead, if it must."""
        check = await self.ctx.redis_client.renew_event_stream(
            self.teacher.school_number,
            self.stream_id,
            self.lesson_id,
            lease_end_ms=to_ms(self.ctx.now()) + lease_ms(self.ctx),
        )
        if check.session is None or check.session.token_digest != self.teacher.token_digest:
            return WatchEnd.SESSION_ENDED
        if not check.lesson_live:
            return WatchEnd.LESSON_CLOSED
        return None

    async def close(self) -> None:
        """Stop counting the watch against its user."""
        await self.ctx.redis_client.close_event_stream(self.teacher.school_number, self.stream_id)


async def open_watch(
    ctx: ServiceContext, *, teacher: UserSessionRedis, lesson_id: str
) -> RollWatch:
    """Open a watch of the teacher's own lesson (LessonNotFound otherwise), unless the
    teacher has as many open as allowed (TooManyEventStreams)."""
    await teacher_service.get_lesson(ctx, teacher=teacher, lesson_id=lesson_id)
    stream_id = secrets.token_hex(8)
    opened = await ctx.redis_client.open_event_stream(
        teacher.school_number,
        stream_id,
        now_ms=to_ms(ctx.now()),
        lease_ms=lease_ms(ctx),
        most=ctx.settings.MAX_EVENT_STREAMS_PER_USER,
    )
    if opened.outcome is StreamOutcome.TOO_MANY:
        raise TooManyEventStreams(retry_after=max(1, math.ceil(opened.data / 1000)))
    return RollWatch(ctx=ctx, teacher=teacher, lesson_id=lesson_id, stream_id=stream_id)
