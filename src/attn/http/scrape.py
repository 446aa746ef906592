"""The Prometheus scrape's text, for `GET /metrics` (`attn.api.routers.metrics`) and the
worker's own listener (`attn.tasks.exporter`): every process's metrics (`attn.metrics`) and
what is read from Redis at each scrape, the sweep's backlog and lag and the held lessons."""

from __future__ import annotations

import hmac

import anyio

from attn import metrics
from attn.services.context import ServiceContext


def allowed(token: str | None, authorization: str | None) -> bool:
    """Whether an Authorization header value brings `token` as a bearer token."""
    if not token or not authorization:
        return False
    scheme, _, sent = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode())


async def live_gauges(ctx: ServiceContext) -> list[tuple[str, str, float]]:
    """The sweep's backlog, its lag (how long the oldest due lesson has waited) and the
    held lessons, read now (one Redis round trip); none when Redis does not answer."""
    now = ctx.now()
    try:
        due, since, held = await ctx.redis_client.sweep_backlog(now=now)
    except Exception as exc:  # the rest of the scrape still tells what happened
        metrics.backend_error(exc)
        return []
    lag = 0.0 if since is None else max(0.0, (now - since).total_seconds())
    return [
        ("attn_sweep_due_lessons", "Lessons due for the sweep now (its backlog).", due),
        ("attn_sweep_lag_seconds", "How long the oldest due lesson has waited, seconds.", lag),
        ("attn_sweep_held_lessons", "Lessons held back because the database refuses them.", held),
    ]


async def text(ctx: ServiceContext) -> bytes:
    live = await live_gauges(ctx)
    # the multiprocess files are read off the event loop
    return await anyio.to_thread.run_sync(metrics.render, live)
