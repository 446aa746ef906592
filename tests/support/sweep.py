"""The sweep as its tests look at it: the steps a fault can be injected at, and what a lesson
left behind in SQL and in Redis."""

from __future__ import annotations

import redis.asyncio as aioredis
from sqlalchemy import func, select

from attn.db.tables import LessonRow, RecordRow
from attn.services.context import ServiceContext
from tests.support.redis_cluster import all_keys

# The names `attn.tasks.sweep.checkpoint` is awaited with, in the order a pass reaches them.
STEPS = ["claimed", "read", "written", "committed", "deleted", "done"]


async def sql_counts(ctx: ServiceContext, lesson_id: str) -> tuple[int, int]:
    async with ctx.db() as session:
        lessons = await session.scalar(
            select(func.count()).select_from(LessonRow).where(LessonRow.lesson_id == lesson_id)
        )
        records = await session.scalar(
            select(func.count()).select_from(RecordRow).where(RecordRow.lesson_id == lesson_id)
        )
    return int(lessons or 0), int(records or 0)


async def live_keys(redis: aioredis.Redis, lesson_id: str) -> list[str]:
    """Every Redis key or index entry that still mentions the lesson (tests only: KEYS)."""
    found = []
    for name in await all_keys(redis, "attn:*"):
        kind = await redis.type(name)
        if (
            lesson_id[16:] in name
            or (kind == "zset" and await redis.zscore(name, lesson_id) is not None)
            or (kind == "set" and await redis.sismember(name, lesson_id))
            or (kind == "zset" and await word_entries_of(redis, str(name), lesson_id))
        ):
            found.append(name)
    return found


async def word_entries_of(redis: aioredis.Redis, name: str, lesson_id: str) -> list[str]:
    """The members of sorted set `name` that are word index entries of the lesson."""
    members = [str(member) for member in await redis.zrange(name, 0, -1)]
    return [member for member in members if member.endswith(f"\x00{lesson_id}")]
