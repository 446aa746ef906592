"""The live roll as Server-Sent Events, one implementation for the API and the pages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi.responses import StreamingResponse

from attn.models import UserSessionRedis
from attn.services import teacher_service
from attn.services.context import ServiceContext

KEEPALIVE_SECONDS = 15.0
RETRY_MS = 2000
EVENT_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


async def roll_events(
    ctx: ServiceContext, *, teacher: UserSessionRedis, lesson_id: str
) -> StreamingResponse:
    """A `ready` event once subscribed (nothing after it is missed), then one `record` event
    (a Record) per check-in or change, and a comment every 15 s to keep proxies open."""
    # 404 before the stream starts; the feed is entered inside it, so that it is always left
    await teacher_service.get_lesson(ctx, teacher=teacher, lesson_id=lesson_id)

    async def stream() -> AsyncIterator[str]:
        async with teacher_service.watch_roll(ctx, teacher=teacher, lesson_id=lesson_id) as queue:
            yield f"retry: {RETRY_MS}\nevent: ready\ndata: {{}}\n\n"
            while True:
                try:
                    record = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                yield f"event: record\ndata: {record}\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream", headers=EVENT_HEADERS)
