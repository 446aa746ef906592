"""Shared fixtures: a real Redis and a real SQL database for every test.

Redis: `ATTN_TEST_REDIS_URL` when set (a `redis+cluster://` URL names a cluster), else with
`ATTN_TEST_REDIS_CLUSTER=1` a 3-primary cluster started for the session
(`tests.support.redis_cluster`), otherwise an embedded Valkey started for the session.
SQL: `ATTN_TEST_DATABASE_URL` when set (a fresh database is created on that PostgreSQL server
for the session and dropped after it), otherwise a SQLite file. Every test starts with an
empty Redis database and empty tables.

The machinery behind these fixtures lives in `tests.support`; tests import from there.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode

from attn.app import create_app
from attn.config import Settings, cluster_nodes, to_async_database_url
from attn.db import admin
from attn.db.migrate import upgrade
from attn.models import NewAccount
from attn.store.embedded import EmbeddedRedis
from tests.support.api import Api
from tests.support.clock import Clock
from tests.support.database import Database, empty_tables
from tests.support.redis_cluster import CLUSTER_ENV, is_cluster_url, local_cluster


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("ATTN_TEST_REDIS_URL")
    if url:
        yield url
        return
    if os.environ.get(CLUSTER_ENV):
        with local_cluster(tmp_path_factory.mktemp("cluster")) as cluster:
            yield cluster.url
        return
    with EmbeddedRedis(tmp_path_factory.mktemp("valkey"), durable=False) as embedded_url:
        yield embedded_url


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    url = os.environ.get("ATTN_TEST_DATABASE_URL")
    if not url:
        path = tmp_path_factory.mktemp("sql") / "attn-test.sqlite3"
        db = Database(f"sqlite:///{path}", to_async_database_url(f"sqlite:///{path}"))
        upgrade(db.async_url)
        yield db
        return
    name = f"attn_test_{secrets.token_hex(4)}"
    test_url = asyncio.run(admin.create_database(url, name))
    db = Database(test_url, to_async_database_url(test_url))
    try:
        upgrade(db.async_url)
        yield db
    finally:
        asyncio.run(admin.drop_database(url, name))


@pytest.fixture(scope="session")
def on_cluster(redis_url: str) -> bool:
    """Whether the tests run on a Redis Cluster."""
    return is_cluster_url(redis_url)


@pytest.fixture
def single_server(on_cluster: bool) -> None:
    """For a test that needs one Redis server (a database number, the lane, the embedded
    server): skipped on a cluster."""
    if on_cluster:
        pytest.skip("needs a single Redis server, not a cluster")


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A raw client on the test Redis, emptied before the test (every primary of a cluster:
    then a `RedisCluster`)."""
    if is_cluster_url(redis_url):
        cluster = aioredis.RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in cluster_nodes(redis_url)],
            decode_responses=True,
            protocol=2,
        )
        await cluster.flushdb(target_nodes=aioredis.RedisCluster.PRIMARIES)
        yield cluster  # type: ignore[misc]
        await cluster.aclose()
        return
    client = aioredis.Redis.from_url(redis_url, decode_responses=True, protocol=2)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture
async def clean_database(database: Database) -> Database:
    await empty_tables(database)
    return database


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_settings(
    redis_url: str, clean_database: Database, tmp_path: Path
) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "DATABASE_URL": clean_database.url,
            "REDIS_URL": redis_url,
            "DATA_DIR": tmp_path / "data",
            "PUBLIC_URL": "http://testserver",  # the test clients' host: links and Host checks
        }
        values.update(overrides)
        return Settings(**values)

    return build


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def make_api(
    make_settings: Callable[..., Settings], redis: aioredis.Redis, clock: Clock
) -> Callable[..., Any]:
    """Build an app with setting overrides; use as `async with make_api(...) as api`."""

    @asynccontextmanager
    async def build(**overrides: Any) -> AsyncIterator[Api]:
        app = create_app(make_settings(**overrides), clock=clock)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver/api/v1"
            ) as client:
                yield Api(app, client)

    return build


@pytest.fixture
async def api(make_api: Callable[..., Any]) -> AsyncIterator[Api]:
    async with make_api() as running:
        yield running


@pytest.fixture
async def fast_api(make_api: Callable[..., Any]) -> AsyncIterator[Api]:
    """An app whose sweep claims run out 0.3 s after they are made, so a test takes over the
    work of a sweeper it crashed by advancing the clock past that."""
    async with make_api(SWEEP_LEASE_SECONDS=0.3) as running:
        yield running


@pytest.fixture
async def teacher(api: Api) -> tuple[NewAccount, dict[str, str]]:
    return await api.user_headers("teacher")


@pytest.fixture
async def student(api: Api) -> tuple[NewAccount, dict[str, str]]:
    return await api.user_headers("student")
