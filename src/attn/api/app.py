"""The FastAPI application factory and its lifespan (Redis, database, password hasher).

`create_app()` reads the settings from the environment, which is how `attn serve` starts every
worker process. Without `ATTN_REDIS_URL` the lifespan starts the embedded server itself (the
CLI starts it once, before forking workers, and passes its URL down).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from attn.api import errors
from attn.api.limits import BodySizeLimit
from attn.api.routers import auth, health, student, teacher, verifications
from attn.config import Settings, load_settings
from attn.models import utc_now
from attn.services.context import open_context
from attn.web import routes as pages

STATIC = Path(pages.__file__).parent / "static"

log = logging.getLogger("attn")

API_PREFIX = "/api/v1"


def create_app(
    settings: Settings | None = None, *, clock: Callable[[], datetime] = utc_now
) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_context(settings, clock=clock) as context:
            app.state.context = context
            yield

    app = FastAPI(
        title="ATTN",
        version="1.0.0",
        summary="Live classroom attendance.",
        lifespan=lifespan,
        telemetry={
            "tracing": settings.TELEMETRY,
            "metrics": settings.TELEMETRY,
            "logs": settings.TELEMETRY,
        },
        responses=errors.error_responses(413, 503),
        # A JSON body without a Content-Type header is read as JSON: the API authenticates
        # by bearer token only, so the cross-site form posts this guards against carry no
        # credentials (the pages' forms are checked by their own CSRF token).
        strict_content_type=False,
    )
    errors.install(app)
    for router in (auth.router, teacher.router, student.router, verifications.router):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(health.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(BodySizeLimit, max_bytes=settings.MAX_BODY_BYTES)
    return app
