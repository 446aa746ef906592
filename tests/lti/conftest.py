"""Fixtures of the LTI tests: a real LTI 1.3 platform on a loopback port, in
ATTN_TEST_PORT_RANGE when that is set (tests/support/lti_platform.py: lti1p3platform
signing, a small HTTP server around it), an app that has it registered, and a browser-like
client of the app's pages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from attn.services import lti
from tests.support.api import Api
from tests.support.lti_platform import LtiTestPlatform, running
from tests.support.ports import free_ports


@pytest.fixture
def platform() -> Iterator[LtiTestPlatform]:
    # in ATTN_TEST_PORT_RANGE when it is set (a machine shared with others)
    with running(free_ports(1)[0]) as server:
        yield server


@pytest.fixture
async def lti_api(make_api: Callable[..., Any], platform: LtiTestPlatform) -> AsyncIterator[Api]:
    async with make_api(LTI_CREATE_USERS=True, LTI_GRADE_RETRY_SECONDS=30) as api:
        await lti.add_platform(
            api.context,
            issuer=platform.issuer,
            client_id=platform.client_id,
            auth_login_url=f"{platform.url}/auth",
            auth_token_url=f"{platform.url}/token",
            keyset_url=f"{platform.url}/jwks",
            deployment_ids=[platform.deployment_id],
            name="Test Moodle",
        )
        # the platform knows the tool's keys as ATTN publishes them
        platform.tool_jwks = await lti.published_keys(api.context)
        yield api


def browser(api: Api) -> httpx.AsyncClient:
    """A client of the app's pages with its own cookie jar (one person's browser)."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app), base_url="http://testserver"
    )
