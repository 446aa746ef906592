"""`attn worker`'s own `/metrics` listener, on `ATTN_METRICS_HOST:ATTN_METRICS_PORT` and
behind the same bearer token as the web's (`ATTN_METRICS_TOKEN`): the worker is a process of
its own, often on a host of its own, so it is scraped on its own.

A small threaded HTTP server (the standard library's) answers only `GET /metrics`; it reads
the live gauges from Redis through the worker's event loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from attn import metrics
from attn.http import scrape
from attn.services.context import ServiceContext

log = logging.getLogger("attn.metrics")

_SCRAPE_BUDGET_SECONDS = 5.0


class Exporter:
    """Serve the worker's metrics until `close`."""

    def __init__(self, ctx: ServiceContext, loop: asyncio.AbstractEventLoop) -> None:
        settings = ctx.settings
        token = settings.METRICS_TOKEN

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.partition("?")[0] != "/metrics":
                    self._answer(404, b'{"error": {"code": "not_found", "message": "Not Found"}}')
                    return
                if not scrape.allowed(token, self.headers.get("Authorization")):
                    self._answer(
                        401,
                        b'{"error": {"code": "not_authenticated", '
                        b'"message": "/metrics needs ATTN_METRICS_TOKEN."}}',
                        {"WWW-Authenticate": "Bearer"},
                    )
                    return
                try:
                    live = asyncio.run_coroutine_threadsafe(scrape.live_gauges(ctx), loop).result(
                        _SCRAPE_BUDGET_SECONDS
                    )
                except Exception:
                    live = []
                self._answer(200, metrics.render(live), content_type=metrics.CONTENT_TYPE)

            def _answer(
                self,
                status: int,
                body: bytes,
                headers: dict[str, str] | None = None,
                content_type: str = "application/json",
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return  # scrapes are not logged

        self.server = ThreadingHTTPServer(
            (settings.METRICS_HOST, settings.METRICS_PORT or 0), Handler
        )
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="attn-metrics", daemon=True
        )

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self.thread.start()
        host, port = self.address
        log.info("metrics on http://%s:%d/metrics", host, port)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
