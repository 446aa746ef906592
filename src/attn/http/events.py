"""The live roll as Server-Sent Events, one implementation for the API and the pages."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

import anyio
from fastapi.responses import StreamingResponse

from attn import metrics
from attn.http.errors import is_unavailable
from attn.models import UserSessionRedis
from attn.services import live_roll
from attn.services.context import ServiceContext
from attn.services.live_roll import FEED_LOST

log = logging.getLogger(__name__)

RETRY_MS = 2000
EVENT_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
# At most this many queued records in one write of a stream (a burst of joins).
BATCH_EVENTS = 200


async def roll_events(
    ctx: ServiceContext, *, teacher: UserSessionRedis, lesson_id: str
) -> StreamingResponse:
    """A `ready` event once subscribed (nothing after it is missed), then one `record` event
    (a Record) per check-in or change, and a comment every `ATTN_EVENTS_KEEPALIVE_SECONDS`
    (15) to keep proxies open. At each of those the stream checks that it may go on; when its
    session has ended or its lesson has left live state it sends `end` and closes."""
    # 404 and 429 before the stream starts; the feed is entered inside it, so that it is
    # always left
    watch = await live_roll.open_watch(ctx, teacher=teacher, lesson_id=lesson_id)
    interval = ctx.settings.EVENTS_KEEPALIVE_SECONDS

    async def stream() -> AsyncIterator[str]:
        metrics.EVENT_STREAMS.inc()
        try:
            async with watch.records() as queue:
                yield f"retry: {RETRY_MS}\nevent: ready\ndata: {{}}\n\n"
                loop = asyncio.get_running_loop()
                renew_at = loop.time() + interval
                while True:
                    try:
                        # a timeout scope, not wait_for: no task per event
                        async with asyncio.timeout_at(renew_at):
                            record = await queue.get()
                    except TimeoutError:
                        ended = await watch.renew()
                        if ended is not None:
                            yield f"event: end\ndata: {json.dumps({'reason': ended})}\n\n"
                            return
                        yield ": keep-alive\n\n"
                        renew_at = loop.time() + interval
                        continue
                    # the records queued meanwhile (a burst of joins) go in the same write
                    events = []
                    while record != FEED_LOST:
                        events.append(f"event: record\ndata: {record}\n\n")
                        if queue.empty() or len(events) >= BATCH_EVENTS:
                            break
                        record = queue.get_nowait()
                    if events:
                        yield "".join(events)
                    if record == FEED_LOST:
                        # records may have been missed: the client reconnects after
                        # RETRY_MS and reads the roll again at `ready`
                        log.warning("a live roll stopped: its feed lost the Redis connection")
                        return
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            # the client reconnects after RETRY_MS, and is told 503 while it lasts
            metrics.backend_error(exc)
            log.warning("a live roll stopped: a backing store is unavailable: %s", exc)
        finally:
            metrics.EVENT_STREAMS.dec()
            # the stream is cancelled when its client leaves: let the release finish anyway
            with anyio.CancelScope(shield=True):
                try:
                    await watch.close()
                except Exception as exc:
                    if not is_unavailable(exc):
                        raise
                    # its lease runs out by itself

    return StreamingResponse(stream(), media_type="text/event-stream", headers=EVENT_HEADERS)
