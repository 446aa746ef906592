"""Live roll updates: records published by the join and update scripts, fanned out in-process.

Each process keeps one pub/sub connection, subscribed to the channels of the lessons someone
here is watching, and hands every message to each local listener's queue. That works with any
number of web workers, since every one of them hears every publish.

The channels are sharded (SPUBLISH in the scripts, SSUBSCRIBE here; Redis and Valkey 7+): a
lesson's channel carries the lesson's hash tag, so on a cluster a record is published on the
node that holds the lesson, and only the nodes' subscribers of that channel hear it, instead
of every message crossing every node. On a cluster redis-py keeps one subscription
connection per node that holds a watched lesson, and moves a channel after a failover or a
slot migration.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis, RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError

from attn.store import keys

log = logging.getLogger("attn.live")

QUEUE_SIZE = 5000
# How long one read waits on one node's subscription connection. On a cluster the reads go
# round the nodes in turn, so a message may wait up to this times (nodes - 1).
CLUSTER_POLL_SECONDS = 0.05


class RollFeed:
    """Subscriptions to lessons' event channels, shared by every watcher of this process."""

    def __init__(self, redis: Redis | RedisCluster) -> None:
        self._redis = redis
        self._cluster = isinstance(redis, RedisCluster)
        self._pubsub: Any = None
        self._listeners: dict[str, set[asyncio.Queue[str]]] = {}
        self._lock = asyncio.Lock()
        self._reader: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def listen(self, lesson_id: str) -> AsyncIterator[asyncio.Queue[str]]:
        """A queue of the lesson's new and changed records (JSON), while the block runs."""
        channel = keys.lesson_events(lesson_id)
        queue: asyncio.Queue[str] = asyncio.Queue(QUEUE_SIZE)
        async with self._lock:
            if self._pubsub is None:
                self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            if channel not in self._listeners:
                await self._pubsub.ssubscribe(channel)
            self._listeners.setdefault(channel, set()).add(queue)
            if self._reader is None or self._reader.done():
                self._reader = asyncio.create_task(self._read(), name="attn-roll-feed")
        try:
            yield queue
        finally:
            async with self._lock:
                listeners = self._listeners.get(channel, set())
                listeners.discard(queue)
                if not listeners:
                    self._listeners.pop(channel, None)
                    with contextlib.suppress(RedisConnectionError):
                        await self._pubsub.sunsubscribe(channel)

    async def _read(self) -> None:
        while self._listeners:
            try:
                if self._cluster:
                    message = await self._pubsub.get_sharded_message(
                        ignore_subscribe_messages=True, timeout=CLUSTER_POLL_SECONDS
                    )
                    if message is None and not self._pubsub.node_pubsub_mapping:
                        await asyncio.sleep(CLUSTER_POLL_SECONDS)  # no node subscribed now
                else:
                    message = await self._pubsub.get_message(timeout=1.0)
            except RedisConnectionError as exc:
                log.warning("roll feed lost its connection: %s", exc)
                await asyncio.sleep(0.5)
                continue
            if not message or message.get("type") != "smessage":
                continue
            for queue in tuple(self._listeners.get(message["channel"], ())):
                with contextlib.suppress(asyncio.QueueFull):  # a stalled watcher misses updates
                    queue.put_nowait(message["data"])

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._pubsub is not None:
            await self._pubsub.aclose()
