"""The outermost layer of every request, a pure ASGI middleware (it costs microseconds, and
it runs on every join): it refuses request heads over `ATTN_MAX_HEADER_BYTES` or
`ATTN_MAX_HEADER_COUNT` (431) and Host values outside `ATTN_ALLOWED_HOSTS` (400; the health
probes excepted), believes
`X-Forwarded-Host`/`-Proto` only from `ATTN_TRUSTED_PROXIES`, and gives every response,
errors included, the browser security headers: nosniff, no framing, a same-origin referrer,
a strict Content-Security-Policy unless the response brings its own (the API docs page does),
and HSTS when the public URL is https.

The server bounds what it buffers of a head before this runs (`attn.http.connections`);
this check gives the answer in the contract's error shape wherever the app is served.

It also gives every request its id (a sane `X-Request-ID` from a trusted proxy, else a new
one), returned in the `X-Request-ID` header and carried by every log line written meanwhile;
and when the answer is sent it counts it (`attn_http_requests_total` by route template,
method and status; a join's time in `attn_join_duration_seconds`) and writes the request's
one log line (`attn.access`): id, method, route template, status, duration, client address.
Never the raw path or query, a header, a cookie or a body.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from attn import logs, metrics
from attn.config import Settings
from attn.http.errors import error_response
from attn.services import network

# Scripts, styles, images and requests from this origin only; no inline script or style, no
# plugins, no framing by anyone, forms posted only here.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HSTS = "max-age=31536000"
# Probes answer whatever Host they are asked with: an orchestrator checks a worker by its
# own address, and they tell nothing a rebinding page could use.
PROBES = frozenset({"/healthz", "/readyz", "/metrics"})
# The bytes of a request line besides its target: method, spaces, version, CRLF.
_REQUEST_LINE_OVERHEAD = 16
# The bytes of a header line besides its name and value: ": " and CRLF.
_HEADER_LINE_OVERHEAD = 4
# A request id a trusted proxy may hand on: short, and nothing a log line could be broken with.
_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:@=+/-]{1,128}")
_REQUEST_ID_HEADER = b"x-request-id"
# The joins, whose time `attn_join_duration_seconds` keeps: the API's and the page's.
JOIN_ROUTES = frozenset(
    {"/api/v1/student/lessons/{lesson_id}/attendance", "/student/lessons/{lesson_id}/join"}
)
# Where a handler that answers before the routes (`attn.api.lean`) names its route template.
ROUTE_KEY = "attn.route"

_COUNTERS_KEPT = 10_000

access_log = logging.getLogger("attn.access")


def security_headers(settings: Settings) -> list[tuple[bytes, bytes]]:
    """The headers every response carries (the CSP is added apart: a response may set its
    own)."""
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
    ]
    if settings.https:
        headers.append((b"strict-transport-security", HSTS.encode()))
    return headers


def head_size(scope: Scope) -> int:
    """The bytes of a request's head as it was sent: its request line and its headers."""
    target = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"") + 1
    size = len(scope.get("method", "")) + target + _REQUEST_LINE_OVERHEAD
    for name, value in scope["headers"]:
        size += len(name) + len(value) + _HEADER_LINE_OVERHEAD
    return size


def host_of(value: bytes) -> str:
    """The host a Host header names, lowercase, without its port or IPv6 brackets."""
    host = value.decode("latin-1").strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if ":" in host else host


class Edge:
    """The limits, the Host allow-list and the security headers; see the module's text."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.max_header_bytes = settings.MAX_HEADER_BYTES
        self.max_header_count = settings.MAX_HEADER_COUNT
        hosts = settings.allowed_hosts
        self.any_host = "*" in hosts
        self.hosts = frozenset(host for host in hosts if not host.startswith("*"))
        self.host_suffixes = tuple(host[1:] for host in hosts if host.startswith("*."))
        self.trusted_proxies = settings.trusted_proxies
        self.headers = security_headers(settings)
        self.csp = (b"content-security-policy", PAGE_CSP.encode())
        self.access_log = settings.ACCESS_LOG
        # the request counter's child of each (route, method, status) seen, found without
        # prometheus-client's label lookup
        self.counted: dict[tuple[str, str, int], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = self._request_id(scope)
        token = logs.request_id.set(rid.decode("ascii"))
        status = 500  # when the app raised before it answered
        answered = 0.0  # when the answer's last byte was handed on (work after it not counted)

        async def send_with_headers(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send(message)
                    answered = time.perf_counter()
                    return
            elif message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                headers.append((_REQUEST_ID_HEADER, rid))
                own_csp = [v for n, v in headers if n.lower() == b"content-security-policy"]
                if not own_csp:
                    headers.append(self.csp)
                # a page that names who may frame it (the LTI pages: their platforms) is not
                # refused framing by the older header, which cannot name them
                framable = any(
                    b"frame-ancestors" in v and b"frame-ancestors 'none'" not in v for v in own_csp
                )
                headers.extend(
                    h for h in self.headers if not (framable and h[0] == b"x-frame-options")
                )
                message = {**message, "headers": headers}
            await send(message)

        seen = [scope]  # the scope the app is given (`_forwarded` may copy it)
        try:
            await self._answer(scope, receive, send_with_headers, seen)
        finally:
            logs.request_id.reset(token)
            self._done(seen[-1], status, (answered or time.perf_counter()) - started, rid)

    def _request_id(self, scope: Scope) -> bytes:
        """The id a trusted proxy gave the request (`X-Request-ID`, when sane), else a new
        one."""
        if self.trusted_proxies:
            sent = _last_header(scope["headers"], _REQUEST_ID_HEADER)
            if sent is not None and _REQUEST_ID.fullmatch(sent) and self._from_proxy(scope):
                return sent
        return os.urandom(8).hex().encode()

    def _from_proxy(self, scope: Scope) -> bool:
        client = scope.get("client")
        peer = network.parse_address(client[0]) if client else None
        return peer is not None and network.is_inside(peer, self.trusted_proxies)

    def _done(self, scope: Scope, status: int, seconds: float, rid: bytes) -> None:
        """Count the answer, and write its log line."""
        route = route_of(scope)
        key = (route, scope["method"], status)
        counter = self.counted.get(key)
        if counter is None:
            counter = metrics.REQUESTS.labels(route, metrics.method_label(key[1]), status)
            if len(self.counted) < _COUNTERS_KEPT:  # bounded: a method may be any word
                self.counted[key] = counter
        counter.inc()
        if route in JOIN_ROUTES:
            metrics.JOIN_SECONDS.observe(seconds)
        if self.access_log and access_log.isEnabledFor(logging.INFO):
            self._log(scope, route, status, seconds, rid)

    def _log(self, scope: Scope, route: str, status: int, seconds: float, rid: bytes) -> None:
        client = scope.get("client")
        forwarded = [v.decode("latin-1") for n, v in scope["headers"] if n == b"x-forwarded-for"]
        address = network.client_address(
            client[0] if client else None, forwarded, self.trusted_proxies
        )
        method = metrics.method_label(scope["method"])
        duration_ms = round(seconds * 1000, 2)
        logs.log_info(
            access_log,
            f"{method} {route} {status} {duration_ms:.2f}ms",
            {
                "event": "request",
                "request_id": rid.decode("ascii"),
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": duration_ms,
                "client": None if address is None else str(address),
            },
        )

    async def _answer(
        self, scope: Scope, receive: Receive, send_with_headers: Send, seen: list[Scope]
    ) -> None:
        """Check the request and hand it on; `seen` ends with the scope the app is given
        (where the router names the route)."""
        headers = scope["headers"]
        if len(headers) > self.max_header_count or head_size(scope) > self.max_header_bytes:
            refusal = error_response(
                431,
                "request_header_fields_too_large",
                f"The request's headers are larger than {self.max_header_bytes} bytes or "
                f"more than {self.max_header_count}.",
                headers={"Connection": "close"},
            )
            await refusal(scope, receive, send_with_headers)
            return
        if self.trusted_proxies:
            scope = self._forwarded(scope)
            seen.append(scope)
        host = next((value for name, value in scope["headers"] if name == b"host"), b"")
        if not self._allowed(host_of(host)) and scope["path"] not in PROBES:
            refusal = error_response(
                400,
                "host_not_allowed",
                "This server does not answer for that host name; the address to use is "
                "ATTN_PUBLIC_URL (more names: ATTN_ALLOWED_HOSTS).",
            )
            await refusal(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)

    def _allowed(self, host: str) -> bool:
        return (
            self.any_host
            or host in self.hosts
            or (bool(self.host_suffixes) and host.endswith(self.host_suffixes))
        )

    def _forwarded(self, scope: Scope) -> Scope:
        """The request as the client sent it to a trusted proxy in front of us: its
        `X-Forwarded-Host` and `-Proto` (the nearest proxy's, the last value) replace the
        Host header and the scheme. From anyone else they are ignored."""
        client = scope.get("client")
        peer = network.parse_address(client[0]) if client else None
        if peer is None or not network.is_inside(peer, self.trusted_proxies):
            return scope
        forwarded_host = _last_value(scope["headers"], b"x-forwarded-host")
        forwarded_proto = _last_value(scope["headers"], b"x-forwarded-proto")
        if forwarded_host is None and forwarded_proto is None:
            return scope
        scope = dict(scope)
        if forwarded_proto in (b"http", b"https"):
            scope["scheme"] = "https" if forwarded_proto == b"https" else "http"
        if forwarded_host:
            scope["headers"] = [
                *((name, value) for name, value in scope["headers"] if name != b"host"),
                (b"host", forwarded_host),
            ]
        return scope


def route_of(scope: Scope) -> str:
    """The template of the route that answered (`/api/v1/teacher/lessons/{lesson_id}`),
    never the raw path; `unmatched` when none did."""
    # FastAPI keeps the route as included (its prefix with it) in its own scope entry, and in
    # scope["route"] the route as its router declares it (without the prefix)
    fastapi_scope = scope.get("fastapi")
    if isinstance(fastapi_scope, dict):
        template = getattr(fastapi_scope.get("effective_route_context"), "path_format", None)
        if isinstance(template, str):
            return template
    template = getattr(scope.get("route"), "path_format", None)
    if isinstance(template, str):
        return template
    named = scope.get(ROUTE_KEY)
    return named if isinstance(named, str) else metrics.UNMATCHED


def _last_header(headers: Iterable[tuple[bytes, bytes]], wanted: bytes) -> bytes | None:
    found = None
    for name, value in headers:
        if name == wanted:
            found = value
    return None if found is None else bytes(found).strip()


def _last_value(headers: Iterable[tuple[bytes, bytes]], wanted: bytes) -> bytes | None:
    """The last comma-separated value of the last header `wanted`, stripped; None without."""
    found = None
    for name, value in headers:
        if name == wanted:
            found = value
    if found is None:
        return None
    return found.rpartition(b",")[2].strip().lower()
