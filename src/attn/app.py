"""The composition root: builds the ASGI app, opens the service context in its lifespan, and
installs the two faces, the JSON API (`attn.api`) and the pages (`attn.web`).

`create_app()` reads the settings from the environment, which is how `attn serve` starts every
worker process. Without `ATTN_REDIS_URL` the lifespan starts the embedded server itself (the
CLI starts it once, before forking workers, and passes its URL down).
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp

from attn import api, metrics, web
from attn.api.lean import LeanRoutes
from attn.config import Settings, load_settings
from attn.http.edge import Edge
from attn.http.errors import error_responses
from attn.http.limits import BodySizeLimit
from attn.models import utc_now
from attn.services.context import open_context


class AttnApp(FastAPI):
    """The FastAPI app with the HTTP edge (`attn.http.edge.Edge`) outside everything, so that
    its limits and security headers cover every answer, a server error's included."""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        if self.settings.LEAN_ROUTES:
            stack = LeanRoutes(stack, state=self.state, max_body_bytes=self.settings.MAX_BODY_BYTES)
        return Edge(stack, settings=self.settings)


# The cyclic garbage collector of a served worker runs after this many new container objects
# rather than Python's 700. A request allocates hundreds, nearly all freed by reference
# counting, so at 700 a worker under load collected every few requests and spent ~25 % of a
# join's CPU there (bench/README.md); cycles are still collected, a few times a second.
SERVED_GC_THRESHOLDS = (50_000, 20, 100)


def served_app() -> AttnApp:
    """The app as `attn serve` runs it in each worker: `create_app()`, after which everything
    built so far (modules, routes, templates) is moved out of the collector's sight
    (`gc.freeze`) and its thresholds raised to `SERVED_GC_THRESHOLDS`."""
    app = create_app()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVED_GC_THRESHOLDS)
    return app


def create_app(
    settings: Settings | None = None, *, clock: Callable[[], datetime] = utc_now
) -> AttnApp:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            async with open_context(settings, clock=clock) as context:
                app.state.context = context
                yield
        finally:
            metrics.process_stopped()  # its open-streams gauge leaves the sum

    app = AttnApp(
        settings,
        title="ATTN",
        version="1.0.0",
        summary="Live classroom attendance.",
        lifespan=lifespan,
        telemetry={
            "tracing": settings.TELEMETRY,
            "metrics": settings.TELEMETRY,
            "logs": settings.TELEMETRY,
        },
        responses=error_responses(400, 413, 431, 503),
        # The API docs page is served from local files (attn.api.docs); no ReDoc.
        docs_url=None,
        redoc_url=None,
        # A JSON body without a Content-Type header is read as JSON: the API authenticates
        # by bearer token only, so the cross-site form posts this guards against carry no
        # credentials (the pages' forms are checked by their own CSRF token).
        strict_content_type=False,
    )
    api.install(app)
    web.install(app, settings)
    app.add_middleware(BodySizeLimit, max_bytes=settings.MAX_BODY_BYTES)
    return app
