"""Live roll updates: records published by the join and update scripts, fanned out in-process.

Each process keeps one pub/sub connection, subscribed to the channels of the lessons someone
here is watching, and hands every message to each local listener's queue. That works with any
number of web workers, since every one of them hears every publish.

What is published while the connection is down (a restart, a Sentinel failover) is missed, so
when the connection is lost or comes back every listener is handed `FEED_LOST` instead: its
watcher ends, and its client comes back and reads the roll afresh (on a single server or
under Sentinel; a cluster's per-node subscriptions give no such signal).

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
from redis.exceptions import RedisError

from attn.store import keys

log = logging.getLogger("attn.live")

QUEUE_SIZE = 5000
# Put in every listener's queue when records may have been missed (never a record's JSON).
FEED_LOST = ""
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
                self._pubsub = self._new_pubsub()
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
                    # on a lost connection (or a reconnect the reader makes at the same
                    # time) the channel stays subscribed: its messages find no listener
                    with contextlib.suppress(RedisError):
                        await self._pubsub.sunsubscribe(channel)

    def _new_pubsub(self) -> Any:
        pubsub: Any = self._redis.pubsub(ignore_subscribe_messages=True)
        if self._cluster:  # one connection per node, each its own: no hook
            return pubsub
        # redis-py calls `on_connect` (kept as a weak method) at every connect and reconnect
        pubsub.on_connect = self._on_connect
        return pubsub

    async def _on_connect(self, connection: Any) -> None:
        pubsub = self._pubsub
        if pubsub.subscribed:  # a reconnect, redis-py's own retry included
            self._lost()
        await type(pubsub).on_connect(pubsub, connection)  # subscribes again

    def _lost(self) -> None:
        """Tell every listener that records may have been missed."""
        for listeners in self._listeners.values():
            for queue in listeners:
                if queue.full():
                    queue.get_nowait()  # it ends at the marker: the rest is read afresh
                queue.put_nowait(FEED_LOST)

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
            except RedisError as exc:
                log.warning("roll feed lost its connection: %s", exc)
                self._lost()
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
