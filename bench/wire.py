"""A lean HTTP/1.1 load generator for the bursts: requests written as prepared bytes on
connections opened before the clock starts, replies read by a small parser.

The bursts run the generator on the same two cores as the service, so what the generator
costs per request is taken from the service. aiohttp spends about as much CPU on a join as
the service does (0.2 ms); this spends a few tens of microseconds: the request is built once,
before the burst, and a reply is only split into its status, its `content-length` and its
body. Each connection is one student's phone that already has the lesson page open (a
keep-alive connection), so the burst measures the joins, not 1,500 TCP handshakes at once;
`opened_in_burst=True` opens them inside the timed window instead.

Only what the service sends is understood: `content-length` bodies (no chunked encoding),
one request at a time per connection.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any


def request(
    method: str, host: str, path: str, *, token: str | None = None, body: Any = None
) -> bytes:
    """One request's bytes, built once."""
    payload = b"" if body is None else json.dumps(body).encode()
    head = [f"{method} {path} HTTP/1.1", f"host: {host}"]
    if token:
        head.append(f"authorization: Bearer {token}")
    if body is not None:
        head.append("content-type: application/json")
    head.append(f"content-length: {len(payload)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload


@dataclass(slots=True)
class Reply:
    status: int
    body: bytes
    # seconds from the burst's start to this request's send (0 unless it queued behind
    # another on its connection) and to its body read
    sent: float
    seconds: float


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._answer()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed"))

    def _answer(self) -> None:
        if self.waiter is None or self.waiter.done():
            return
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).lower()
        length = 0
        at = head.find(b"\r\ncontent-length:")
        if at >= 0:
            stop = head.find(b"\r\n", at + 2)
            length = int(head[at + 17 : stop if stop >= 0 else None])
        if len(self.buffer) < end + 4 + length:
            return
        status = int(head[9:12])
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        self.waiter.set_result((status, body))

    async def send(self, data: bytes) -> tuple[int, bytes]:
        if self.lost or self.transport is None:
            raise ConnectionError("connection closed")
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return await self.waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


@dataclass
class Wire:
    """Connections to one server, opened once; `burst` sends prepared requests over them."""

    host: str
    port: int
    connections: list[_Connection] = field(default_factory=list)

    async def open(self, count: int, *, at_once: int = 200) -> None:
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(at_once)

        async def one() -> _Connection:
            async with gate:
                _, protocol = await loop.create_connection(_Connection, self.host, self.port)
                return protocol

        self.connections.extend(await asyncio.gather(*(one() for _ in range(count))))

    def close(self) -> None:
        for connection in self.connections:
            connection.close()
        self.connections.clear()

    async def burst(
        self, requests: Sequence[bytes], *, on_send: Callable[[int], None] | None = None
    ) -> tuple[list[Reply], float]:
        """Every request at once, spread over the open connections (each sends its share
        one after another); the replies in request order and the burst's seconds.
        `on_send(index)` is called just before each request is written."""
        if not self.connections:
            raise RuntimeError("no open connections")
        replies: list[Reply | None] = [None] * len(requests)
        started = time.perf_counter()
        width = len(self.connections)

        async def lane(index: int) -> None:
            connection = self.connections[index]
            for at in range(index, len(requests), width):
                if on_send is not None:
                    on_send(at)
                sent = time.perf_counter() - started
                try:
                    status, body = await connection.send(requests[at])
                except (ConnectionError, OSError) as exc:
                    failed = time.perf_counter() - started
                    replies[at] = Reply(0, str(exc).encode(), sent, failed)
                    continue
                replies[at] = Reply(status, body, sent, time.perf_counter() - started)

        await asyncio.gather(*(lane(n) for n in range(min(width, len(requests)))))
        seconds = time.perf_counter() - started
        return [reply for reply in replies if reply is not None], seconds


@asynccontextmanager
async def opened(base: str, count: int) -> AsyncIterator[Wire]:
    """`count` connections to `base` (http://host:port), closed after the block."""
    host, _, port = base.removeprefix("http://").partition(":")
    wire = Wire(host, int(port))
    try:
        await wire.open(count)
        yield wire
    finally:
        wire.close()
