"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from redis.exceptions import ResponseError

from attn.db import users
from attn.http.deps import Context
from attn.http.errors import error_response, error_responses, refused_write
from attn.http.schemas import Health, Readiness

router = APIRouter(tags=["health"])

# How long each probe may take before the service counts as not ready.
_PROBE_BUDGET_SECONDS = 2.0


@router.get("/healthz")
async def healthz() -> Health:
    """200 while the process runs."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses=error_responses(503))
async def readyz(ctx: Context) -> JSONResponse:
    """200 when Redis takes a write and the database reads an account within the budget,
    503 otherwise. The 200 also counts the finished lessons the sweep holds back because the
    database refuses them."""
    problems = []
    held = 0
    try:
        await asyncio.wait_for(ctx.redis_client.probe_write(), _PROBE_BUDGET_SECONDS)
        held = await asyncio.wait_for(ctx.redis_client.held_count(), _PROBE_BUDGET_SECONDS)
    except Exception as exc:
        problems.append(f"redis: {_reason(exc)}")
    try:
        # the server cancels the read at the budget; the outer bound is for a network hang
        async with asyncio.timeout(_PROBE_BUDGET_SECONDS + 1), ctx.db() as session:
            await users.probe(session=session, budget_ms=int(_PROBE_BUDGET_SECONDS * 1000))
    except Exception as exc:
        problems.append(f"database: {_reason(exc)}")
    if problems:
        return error_response(503, "not_ready", "Not ready: " + ", ".join(problems))
    return JSONResponse(Readiness(status="ok", held_lessons=held).model_dump())


def _reason(exc: Exception) -> str:
    """A probe's failure in a few words."""
    if isinstance(exc, TimeoutError):
        return f"no answer within {_PROBE_BUDGET_SECONDS:g} s"
    if isinstance(exc, ResponseError) and (code := refused_write(exc)):
        return f"refuses writes ({code})"
    return type(exc).__name__
