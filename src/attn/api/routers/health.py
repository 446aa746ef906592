"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from attn.http.deps import Context
from attn.http.errors import error_response, error_responses
from attn.http.schemas import Health, Readiness

router = APIRouter(tags=["health"])

_PROBE_TIMEOUT_SECONDS = 2.0


@router.get("/healthz")
async def healthz() -> Health:
    """200 while the process runs."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses=error_responses(503))
async def readyz(ctx: Context) -> JSONResponse:
    """200 when Redis and the database answer, 503 otherwise. The 200 also counts the
    finished lessons the sweep holds back because the database refuses them."""
    problems = []
    held = 0
    try:
        await asyncio.wait_for(ctx.redis_client.ping(), _PROBE_TIMEOUT_SECONDS)
        held = await asyncio.wait_for(ctx.redis_client.held_count(), _PROBE_TIMEOUT_SECONDS)
    except Exception as exc:
        problems.append(f"redis: {type(exc).__name__}")
    try:
        async with asyncio.timeout(_PROBE_TIMEOUT_SECONDS), ctx.db() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:
        problems.append(f"database: {type(exc).__name__}")
    if problems:
        return error_response(503, "not_ready", "Not ready: " + ", ".join(problems))
    return JSONResponse(Readiness(status="ok", held_lessons=held).model_dump())
