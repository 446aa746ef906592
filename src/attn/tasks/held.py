"""The lessons the sweep set aside because the database refuses them: list them, export one
for repair, and put one back into the persistence queue (`attn sweep held|export|retry`).

A held lesson is still whole in Redis: its teacher and students see it as before (a finished
lesson), and nothing of it is deleted until a sweep writes it. The export is the live state as
stored, not as parsed, so it works for data that no longer parses; an operator repairs the
data in Redis from it (`redis-cli`, or a correction through the API) and then retries it.
"""

from __future__ import annotations

import json
from typing import Any

from attn.models import HeldLesson, format_time
from attn.services.context import ServiceContext
from attn.store.redis_client import RetryOutcome


async def held_lessons(ctx: ServiceContext) -> list[tuple[HeldLesson, dict[str, str]]]:
    """Every held lesson, the longest held first, with its stored lesson fields (empty when
    its live data is gone)."""
    held = await ctx.redis_client.held_lessons()
    found = []
    for lesson in held:
        stored = await ctx.redis_client.read_stored_lesson(lesson.lesson_id)
        found.append((lesson, stored.fields if stored else {}))
    return found


async def retry(ctx: ServiceContext, lesson_id: str) -> bool:
    """Put a held lesson back into the queue, due now; False when it is not held."""
    reply = await ctx.redis_client.retry_held_lesson(lesson_id, now=ctx.now())
    return reply.outcome is RetryOutcome.QUEUED


def _value(raw: str) -> Any:
    """A stored JSON value as JSON, or the raw text when it is not JSON."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


async def export(ctx: ServiceContext, lesson_id: str) -> dict[str, Any] | None:
    """The lesson's live state as stored (the lesson hash, records, audit trail, roster,
    verifications) and why it is held; None when the lesson is not in Redis."""
    stored = await ctx.redis_client.read_stored_lesson(lesson_id)
    if stored is None:
        return None
    held = {lesson.lesson_id: lesson for lesson in await ctx.redis_client.held_lessons()}
    reason = held.get(lesson_id)
    return {
        "lesson_id": lesson_id,
        "held": None
        if reason is None
        else {"error": reason.error, "held_at": format_time(reason.held_at)},
        "lesson": dict(sorted(stored.fields.items())),
        "records": [_value(stored.records[number]) for number in sorted(stored.records)],
        "audit": [_value(entry) for entry in stored.audit],
        "roster": dict(sorted(stored.roster.items())),
        "verifications": dict(sorted(stored.verifications.items())),
    }
