"""The JSON API under `/api/v1` (and the health probes and the docs page): routers, their
error handlers.

Imports `attn.http` and below, never `attn.web`.
"""

from __future__ import annotations

from fastapi import FastAPI

from attn.api import docs, errors
from attn.api.routers import admin, auth, health, metrics, student, teacher, verifications

API_PREFIX = "/api/v1"


def install(app: FastAPI) -> None:
    """Add the API's routes and its exception handlers to `app`."""
    errors.install(app)
    for router in (auth.router, teacher.router, student.router, verifications.router, admin.router):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(health.router)
    app.include_router(metrics.router)
    docs.install(app)
