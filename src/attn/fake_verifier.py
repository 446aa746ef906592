"""A stand-in for an external verifier (say face recognition), for tests and demos.

It takes ATTN's signed verification requests, and after `delay` seconds answers each one
through its callback: `verified`, or `rejected` (reason `face_mismatch`) for the student
numbers it was told to reject. `GET /requests` lists what it received. Run it with
`attn fake-verifier`; it shares `ATTN_VERIFIER_SECRET` with the service.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Collection
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from attn.errors import InvalidSignature
from attn.services.verification_service import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    check_signature,
    sign,
)

log = logging.getLogger("attn.fake_verifier")


def create_fake_verifier(
    secret: str, *, reject: Collection[str] = (), delay: float = 0.5
) -> Starlette:
    received: list[dict[str, Any]] = []
    answers: set[asyncio.Task[None]] = set()

    async def answer(request_body: dict[str, Any]) -> None:
        await asyncio.sleep(delay)
        verification_id = request_body["verification_id"]
        rejected = request_body["student_number"] in reject
        result = (
            {"result": "rejected", "reason": "face_mismatch"}
            if rejected
            else {"result": "verified"}
        )
        body = json.dumps(result).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(secret, verification_id, timestamp, body),
        }
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                response = await client.post(
                    request_body["callback_url"], content=body, headers=headers
                )
            log.info("answered %s: HTTP %s", verification_id, response.status_code)
        except httpx.HTTPError as exc:
            log.warning("could not answer %s: %s", verification_id, exc)

    async def verify(request: Request) -> JSONResponse:
        body = await request.body()
        try:
            request_body = json.loads(body)
            check_signature(
                secret,
                request_body["verification_id"],
                request.headers.get(TIMESTAMP_HEADER),
                request.headers.get(SIGNATURE_HEADER),
                body,
                time.time(),
            )
        except (ValueError, KeyError, TypeError, InvalidSignature):
            return JSONResponse({"error": "bad request"}, status_code=400)
        received.append(request_body)
        task = asyncio.create_task(answer(request_body))
        answers.add(task)
        task.add_done_callback(answers.discard)
        return JSONResponse({"accepted": True}, status_code=202)

    async def requests(_request: Request) -> JSONResponse:
        return JSONResponse(received)

    return Starlette(routes=[Route("/", verify, methods=["POST"]), Route("/requests", requests)])
