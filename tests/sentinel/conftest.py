"""Fixtures of the Sentinel tests: a real primary, replica and three sentinels on loopback
(see `tests.support.redis_sentinel`), and apps whose `ATTN_REDIS_URL` is their
`redis+sentinel://` URL. Skipped, with the reason, when no server binary is at hand."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from attn.app import create_app
from attn.config import Settings
from tests.support.api import Api
from tests.support.clock import Clock
from tests.support.redis_sentinel import SentinelSet, sentinel_set, server_binary


def _skip_without_servers() -> None:
    binary, reason = server_binary()
    if binary is None:
        pytest.skip(f"no Redis Sentinel servers: {reason}")


@pytest.fixture(scope="module")
def sentinels(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelSet]:
    """One set for the module's tests that leave it as it is (no failover)."""
    _skip_without_servers()
    with sentinel_set(tmp_path_factory.mktemp("sentinel")) as servers:
        yield servers


@pytest.fixture
def fresh_sentinels(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelSet]:
    """A set of its own, for a test that fails its primary over."""
    _skip_without_servers()
    with sentinel_set(tmp_path_factory.mktemp("failover")) as servers:
        yield servers


@pytest.fixture
def make_sentinel_api(make_settings: Callable[..., Settings], clock: Clock) -> Callable[..., Any]:
    """`async with make_sentinel_api(servers, **overrides) as api`: an app on `servers`."""

    @asynccontextmanager
    async def build(servers: SentinelSet, **overrides: Any) -> AsyncIterator[Api]:
        settings = make_settings(REDIS_URL=servers.url(db=1), **overrides)
        app = create_app(settings, clock=clock)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver/api/v1"
            ) as client:
                yield Api(app, client)

    return build
