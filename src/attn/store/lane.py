"""The lane: a few Redis connections shared by every request of a worker for the commands
every join sends (the session `GET`, the join's pipeline), without redis-py's per-call
machinery.

Redis answers a connection's commands in the order they came, so one connection can carry
many callers at once: each caller's commands are queued, everything queued while the event
loop runs one turn goes out in one write, and the replies, read as they come and parsed by
hiredis, are handed back in the same order. Under a burst of joins that turns hundreds of
small writes and reads into a few large ones; no caller waits for a free connection, and
there is no pool lock, no per-argument encoder and no retry wrapper on the way. Each call
has one timeout for its whole exchange, watched by one timer per connection.

Connections are opened by redis-py's own connection class with the pool's settings (address
or socket, TLS, password, database, client name), so they are set up exactly as the pool's
are; after that the lane reads and writes them itself. A connection that fails or times out
is closed, and every call waiting on it gets the error; a call that was on a connection
opened before it (one the server may have closed meanwhile) is tried once more on a new
one, as redis-py's retry would.

Under Sentinel the lane follows the primary: `connect()` of the pool's connection class is
where each new connection asks a sentinel for the primary's address, and a connection to a
primary that is demoted is closed by the sentinels as they reconfigure it (its calls get the
error, and the next call opens a new connection to the promoted one).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any

import hiredis
from redis._parsers.base import BaseParser
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

# The lane's connections' name in CLIENT LIST.
LANE_NAME = "attn-lane"
_READ_BYTES = 1 << 16
# redis-py's mapping of an error reply to its exception class (NOSCRIPT -> NoScriptError, ...)
_parse_error: Any = BaseParser.parse_error


def _arg(value: str | int) -> bytes:
    """One argument in RESP: `$<length>` and its bytes (UTF-8 text, decimal integers)."""
    data = value.encode() if isinstance(value, str) else str(int(value)).encode()
    return b"$%d\r\n%s\r\n" % (len(data), data)


def pack(*args: str | int) -> bytes:
    """A command in RESP, as redis-py would pack it, without its per-argument encoder."""
    parts = [b"*%d\r\n" % len(args)]
    for value in args:
        data = value.encode() if isinstance(value, str) else b"%d" % value
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class _Call:
    """One caller's place in a connection's queue: how many replies it waits for."""

    __slots__ = ("future", "results", "sent", "wanted")

    def __init__(self, future: asyncio.Future[list[Any]], wanted: int, sent: float) -> None:
        self.future = future
        self.wanted = wanted
        self.sent = sent
        self.results: list[Any] = []


class _Shared:
    """One connection carrying many callers' commands, answered in order."""

    def __init__(self, connection: Any, *, decode: bool, timeout: float | None) -> None:
        self.connection = connection
        self.timeout = timeout
        self.watchdog: asyncio.TimerHandle | None = None
        self.transport: asyncio.WriteTransport = connection._writer.transport
        self.stream: asyncio.StreamReader = connection._reader
        self.parser = (
            hiredis.Reader(encoding="utf-8", replyError=ResponseError)
            if decode
            else hiredis.Reader(replyError=ResponseError)
        )
        self.waiting: deque[_Call] = deque()
        self.outgoing: list[bytes] = []
        self.broken: BaseException | None = None
        self.reader = asyncio.get_running_loop().create_task(self._read(), name=LANE_NAME)

    def send(self, packed: bytes, replies: int) -> asyncio.Future[list[Any]]:
        loop = asyncio.get_running_loop()
        call = _Call(loop.create_future(), replies, loop.time())
        if not self.outgoing:
            loop.call_soon(self._flush)
        if self.watchdog is None and self.timeout is not None:
            self.watchdog = loop.call_later(self.timeout / 4, self._watch)
        self.outgoing.append(packed)
        self.waiting.append(call)
        return call.future

    def _watch(self) -> None:
        """The calls' timeout, one timer per connection rather than one per call: when the
        oldest waiting call has waited longer than `timeout`, the connection is given up."""
        self.watchdog = None
        if not self.waiting or self.broken is not None or self.timeout is None:
            return
        loop = asyncio.get_running_loop()
        if loop.time() - self.waiting[0].sent > self.timeout:
            self.fail(RedisTimeoutError("Timeout talking to Redis"))
            return
        self.watchdog = loop.call_later(self.timeout / 4, self._watch)

    def _flush(self) -> None:
        if self.broken is not None or not self.outgoing:
            return
        data = b"".join(self.outgoing) if len(self.outgoing) > 1 else self.outgoing[0]
        self.outgoing.clear()
        try:
            self.transport.write(data)
        except Exception as exc:  # the transport is gone
            self.fail(RedisConnectionError(f"Error writing to Redis: {exc}"))

    async def _read(self) -> None:
        try:
            while True:
                data = await self.stream.read(_READ_BYTES)
                if not data:
                    raise RedisConnectionError("Connection closed by server.")
                self.parser.feed(data)
                while (reply := self.parser.gets()) is not False:
                    self._deliver(reply)
        except asyncio.CancelledError:
            self.fail(RedisConnectionError("Connection closed."))
            raise
        except BaseException as exc:
            self.fail(
                exc
                if isinstance(exc, RedisConnectionError)
                else RedisConnectionError(f"Error reading from Redis: {exc}")
            )

    def _deliver(self, reply: Any) -> None:
        if not self.waiting:  # a reply nobody asked for: the stream is out of step
            raise RedisConnectionError("Redis sent a reply no command asked for")
        call = self.waiting[0]
        if isinstance(reply, ResponseError):
            reply = _parse_error(str(reply))
        call.results.append(reply)
        if len(call.results) == call.wanted:
            self.waiting.popleft()
            if not call.future.done():  # its caller may have given up (cancelled)
                call.future.set_result(call.results)

    def fail(self, exc: BaseException) -> None:
        """Close the connection; every waiting call gets `exc`."""
        if self.broken is None:
            self.broken = exc
            if self.watchdog is not None:
                self.watchdog.cancel()
                self.watchdog = None
            with contextlib.suppress(Exception):
                self.transport.close()
        self.outgoing.clear()
        while self.waiting:
            call = self.waiting.popleft()
            if not call.future.done():
                call.future.set_exception(exc)

    async def close(self) -> None:
        self.fail(RedisConnectionError("Connection closed."))
        self.reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.reader
        with contextlib.suppress(Exception):
            await self.connection.disconnect(nowait=True)


class Lane:
    """Up to `size` shared connections, taken in turn; `call` sends packed commands and waits
    for their replies."""

    def __init__(self, redis: Redis, size: int) -> None:
        pool = redis.connection_pool
        self._connection_class: Any = pool.connection_class
        # the timeout is the lane's (below), not each read's
        self._kwargs = {**pool.connection_kwargs, "socket_timeout": None, "client_name": LANE_NAME}
        self._timeout: float | None = pool.connection_kwargs.get("socket_timeout")
        self._slots: list[_Shared | None] = [None] * size
        self._opening: list[asyncio.Future[_Shared] | None] = [None] * size
        self._turn = 0
        self.size = size

    @property
    def full(self) -> bool:
        """True when the lane is off (no connections): callers use the pool."""
        return self.size == 0

    async def _shared(self, slot: int) -> tuple[_Shared, bool]:
        """The slot's open connection (and whether it was open before), opened when needed;
        callers arriving while it opens wait for the same connection. The opening is a task
        of its own, so that a caller who gives up does not stop it for the others."""
        shared = self._slots[slot]
        if shared is not None and shared.broken is None:
            return shared, True
        opening = self._opening[slot]
        if opening is None:
            opening = asyncio.get_running_loop().create_task(self._open(slot))
            self._opening[slot] = opening
        return await asyncio.shield(opening), False

    async def _open(self, slot: int) -> _Shared:
        try:
            broken = self._slots[slot]
            if broken is not None:  # let go of it
                self._slots[slot] = None
                await broken.close()
            connection = self._connection_class(**self._kwargs)
            await connection.connect()
            shared = _Shared(
                connection,
                decode=bool(self._kwargs.get("decode_responses")),
                timeout=self._timeout,
            )
            self._slots[slot] = shared
            return shared
        finally:
            self._opening[slot] = None

    async def call(self, packed: bytes, replies: int) -> list[Any]:
        """Send `packed` (one or more commands) and read `replies` replies; an error reply
        is returned in its place, as an exception."""
        slot = self._turn
        self._turn = (slot + 1) % self.size
        for attempt in range(2):
            shared, reused = await self._shared(slot)
            try:
                return await shared.send(packed, replies)
            except RedisTimeoutError:
                raise
            except (RedisConnectionError, OSError):
                if reused and attempt == 0:
                    continue
                raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        for opening in self._opening:
            if opening is not None:
                opening.cancel()
        slots, self._slots = self._slots, [None] * self.size
        for shared in slots:
            if shared is not None:
                await shared.close()
