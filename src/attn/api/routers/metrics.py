"""`GET /metrics`: the Prometheus scrape, behind `ATTN_METRICS_TOKEN`.

Without the setting there is no such endpoint (404); with it, the scrape must bring it as a
bearer token (401 otherwise). The text (`attn.http.scrape`) sums every worker process's
metrics and adds what Redis says at each scrape: the lessons due for the sweep, how long the
oldest has waited, and the lessons held back.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from attn import metrics
from attn.errors import NotAuthenticated
from attn.http import scrape as scraping
from attn.http.deps import Context
from attn.http.errors import attn_error_response, error_response

router = APIRouter(tags=["metrics"])


@router.get("/metrics", include_in_schema=False)
async def scrape(request: Request, ctx: Context) -> Response:
    token = ctx.settings.METRICS_TOKEN
    if not token:
        return error_response(404, "not_found", "Not Found")
    if not scraping.allowed(token, request.headers.get("authorization")):
        return attn_error_response(NotAuthenticated("/metrics needs ATTN_METRICS_TOKEN."))
    return Response(await scraping.text(ctx), media_type=metrics.CONTENT_TYPE)
