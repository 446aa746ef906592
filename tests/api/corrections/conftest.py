"""Fixtures of the tests of corrections and verification.

`vapi` runs the app with a verifier configured; the join's outgoing request goes through an
in-memory transport (recorded, answered 202), and the tests answer through the webhook
themselves with signatures they compute.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from attn.services import verification_service
from tests.support.corrections import SECRET, VERIFIER_URL, VerifierApi


@pytest.fixture
async def vapi(
    make_api: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[VerifierApi]:
    """An app with a verifier configured whose outgoing requests are recorded in memory."""
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(202, json={"accepted": True})

    real = verification_service.request_verification
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as fake_http:

        async def through_fake(ctx: Any, **kwargs: Any) -> bool:
            return await real(dataclasses.replace(ctx, http=fake_http), **kwargs)

        monkeypatch.setattr(verification_service, "request_verification", through_fake)
        async with make_api(VERIFIER_URL=VERIFIER_URL, VERIFIER_SECRET=SECRET) as api:
            yield VerifierApi(api, sent)
