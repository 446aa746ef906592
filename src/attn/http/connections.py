"""What one connection may hold of a web worker: the server side of the HTTP limits.

`LimitedHttpProtocol` is uvicorn's httptools protocol with bounds it lacks, used by
`attn serve`:

- a request head (request line and headers) over `ATTN_MAX_HEADER_BYTES` is answered 431 and
  no more of it is buffered;
- a connection must send a complete request head within `ATTN_HEADER_TIMEOUT_SECONDS` of
  opening, and each later head within as long of its first byte; otherwise it is closed
  (with a 408 when part of a head had come), so slow (slowloris) and silent connections end;
- a request body must arrive whole within `ATTN_BODY_TIMEOUT_SECONDS` of its head;
- past uvicorn's `limit_concurrency` (`ATTN_MAX_CONNECTIONS`) a request gets 503 in the
  contract's error shape.

Idle keep-alive connections are closed by uvicorn's own `timeout_keep_alive`. The app's edge
(`attn.http.edge`) checks the head again, for the answer wherever the app is served.
"""

from __future__ import annotations

import asyncio
import functools
import json
from dataclasses import dataclass
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.flow_control import service_unavailable
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState

from attn.config import Settings
from attn.http.errors import error_response

# After a refusal, what the client still sends is read and dropped for this long before the
# connection is closed: closing on unread data would reset it and lose the answer.
LINGER_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    max_head_bytes: int
    header_timeout: float
    body_timeout: float

    @classmethod
    def of(cls, settings: Settings) -> ConnectionLimits:
        return cls(
            max_head_bytes=settings.MAX_HEADER_BYTES,
            header_timeout=settings.HEADER_TIMEOUT_SECONDS,
            body_timeout=settings.BODY_TIMEOUT_SECONDS,
        )


def protocol_factory(settings: Settings) -> Any:
    """What `uvicorn.run(http=...)` takes: the protocol with these settings' limits (a
    partial, so that it also reaches worker processes)."""
    return functools.partial(LimitedHttpProtocol, limits=ConnectionLimits.of(settings))


def _raw_error(status: int, reason: str, code: str, message: str) -> bytes:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "x-content-type-options: nosniff\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


over_capacity = error_response(
    503,
    "service_unavailable",
    "The server has as many connections as it takes; try again.",
    headers={"Retry-After": "1", "Connection": "close", "X-Content-Type-Options": "nosniff"},
)


class LimitedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, bounded; see the module's text."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: ConnectionLimits,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = limits
        self._head_bytes = 0  # of the head being read, as far as it came
        self._reading_head = True  # until the head's end, and again after each request
        self._deadline: asyncio.TimerHandle | None = None
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.limits.header_timeout, self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # the answer is sent; drop the rest until the connection closes
        if self._reading_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._reading_head and self._head_bytes > self.limits.max_head_bytes:
            self._refuse(
                _raw_error(
                    431,
                    "Request Header Fields Too Large",
                    "request_header_fields_too_large",
                    f"The request's head is larger than {self.limits.max_head_bytes} bytes.",
                )
            )

    # parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading_head = True
        if self._deadline is None:  # a new connection's deadline runs from its opening
            self._arm(self.limits.header_timeout, self._head_timed_out)

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._head_bytes = 0
        self._arm(self.limits.body_timeout, self._body_timed_out)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        self._reading_head = True
        super().on_message_complete()

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        # uvicorn's own answer past `limit_concurrency` is plain text
        chosen: Any = over_capacity if app is service_unavailable else app
        super()._start_asgi_task(cycle, chosen)

    # deadlines and refusals

    def _arm(self, seconds: float, callback: Any) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, callback)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _idle_between_responses(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _head_timed_out(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self._head_bytes and self._idle_between_responses():
            self._refuse(
                _raw_error(
                    408,
                    "Request Timeout",
                    "request_timeout",
                    f"The request's head did not arrive within "
                    f"{self.limits.header_timeout:g} seconds.",
                )
            )
        else:
            self.transport.close()

    def _body_timed_out(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()  # the app reading the body hears a disconnect

    def _refuse(self, answer: bytes) -> None:
        """Send `answer` unless a response is under way, then close the connection."""
        self._disarm()
        if self.transport.is_closing():
            return
        self._refused = True
        if not self._idle_between_responses():
            self.transport.close()
            return
        self.transport.write(answer)
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)
