"""Shared fixtures: a real Redis and a real SQL database for every test.

Redis: `ATTN_TEST_REDIS_URL` when set, otherwise an embedded Valkey started for the session.
SQL: `ATTN_TEST_DATABASE_URL` when set (a fresh database is created on that PostgreSQL server
for the session and dropped after it), otherwise a SQLite file. Every test starts with an
empty Redis database and empty tables.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI
from sqlalchemy import text

from attn.app import create_app
from attn.config import Settings, to_async_database_url
from attn.db import admin
from attn.db.engine import create_engine
from attn.db.migrate import upgrade
from attn.db.tables import Base
from attn.models import NewAccount
from attn.services import accounts
from attn.store.embedded import EmbeddedRedis

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Database:
    url: str  # as a user would configure it
    async_url: str


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("ATTN_TEST_REDIS_URL")
    if url:
        yield url
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


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A raw client on the test Redis, emptied before the test."""
    client = aioredis.Redis.from_url(redis_url, decode_responses=True, protocol=2)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture
async def clean_database(database: Database) -> Database:
    engine = create_engine(database.async_url)
    async with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(text(f"DELETE FROM {table.name}"))
    await engine.dispose()
    return database


class Clock:
    """The real time plus an offset that tests move forward by hand."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


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


class Api:
    """A running app (lifespan entered) and helpers to create users and log them in."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        self.app = app
        self.client = client

    @property
    def context(self) -> Any:
        return self.app.state.context

    async def add_user(
        self, role: str, school_number: str | None = None, full_name: str | None = None
    ) -> NewAccount:
        prefix = {"teacher": "T", "student": "S", "admin": "A"}[role]
        entry = NewAccount(
            school_number=school_number or f"{prefix}{secrets.token_hex(4)}",
            full_name=full_name or f"{role.title()} {secrets.token_hex(3)}",
            role=role,  # type: ignore[arg-type]
            password=PASSWORD,
        )
        await accounts.add_users(db=self.context.db, hasher=self.context.hasher, entries=[entry])
        return entry

    async def login(self, user: NewAccount) -> dict[str, str]:
        response = await self.client.post(
            "/auth/login", json={"school_number": user.school_number, "password": user.password}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def user_headers(self, role: str, **kwargs: Any) -> tuple[NewAccount, dict[str, str]]:
        user = await self.add_user(role, **kwargs)
        return user, await self.login(user)

    async def start_lesson(
        self, headers: dict[str, str], lesson_name: str = "Algorithms", duration_minutes: int = 60
    ) -> dict[str, Any]:
        response = await self.client.post(
            "/teacher/lessons",
            json={"lesson_name": lesson_name, "duration_minutes": duration_minutes},
            headers=headers,
        )
        assert response.status_code == 201, response.text
        lesson: dict[str, Any] = response.json()
        return lesson


@pytest.fixture
def make_api(
    make_settings: Callable[..., Settings], redis: aioredis.Redis, clock: Clock
) -> Callable[..., Any]:
    """Build an app with setting overrides; use as `async with make_api(...) as api`."""
    from contextlib import asynccontextmanager

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
async def teacher(api: Api) -> tuple[NewAccount, dict[str, str]]:
    return await api.user_headers("teacher")


@pytest.fixture
async def student(api: Api) -> tuple[NewAccount, dict[str, str]]:
    return await api.user_headers("student")


Factory = Callable[..., Awaitable[Any]]
