"""Small crashes: page numbers and offsets are bounded (422, never a 500 or 503), and on
PostgreSQL no request waits long behind a lock (statement and lock timeouts; `/readyz` fails
when its probe read runs over its budget). A 500 that says `Connection: close` is checked on a
real server in `tests/http/test_http_limits.py`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from attn.db.engine import create_engine
from tests.support.api import PASSWORD, Api
from tests.support.database import Database

# The documented bounds: an API offset up to 1,000,000,000, a history page up to 20,000,000
# (of 50 lessons each).
MAX_OFFSET = 1_000_000_000
HISTORY_LAST_PAGE = 20_000_000

NEEDS_POSTGRESQL = (
    "needs PostgreSQL (ATTN_TEST_DATABASE_URL): SQLite has no statement or lock timeout, and "
    "its readers never wait for a writer"
)


def postgresql_only(database: Database) -> None:
    if not database.url.startswith("postgres"):
        pytest.skip(NEEDS_POSTGRESQL)


async def test_every_page_number_and_offset_is_bounded_not_a_500(api: Api) -> None:
    _, teacher = await api.user_headers("teacher")
    _, student = await api.user_headers("student")
    lesson = await api.start_lesson(teacher)
    # the pages: a teacher's history
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app),
        base_url="http://testserver",
        cookies={"attn_session": teacher["Authorization"].removeprefix("Bearer ")},
    ) as pages:
        for page in (10**30, 2**63, HISTORY_LAST_PAGE + 1, -1, "many"):
            html = await pages.get(f"/teacher/history?page={page}", headers={"accept": "text/html"})
            assert html.status_code == 422, (page, html.text)
            assert html.headers["content-type"].startswith("text/html")
            fetched = await pages.get(f"/teacher/history?page={page}")
            assert fetched.status_code == 422
            assert fetched.json()["error"]["code"] == "validation_error"
        for page in (0, 1, HISTORY_LAST_PAGE):
            assert (await pages.get(f"/teacher/history?page={page}")).status_code == 200, page
    # the API: every list
    lists = [
        ("/teacher/lessons", teacher),
        (f"/teacher/lessons/{lesson['lesson_id']}/records", teacher),
        ("/student/attendance", student),
        ("/student/lessons?lesson_name=Algorithms&teacher_name=x", student),
    ]
    for path, headers in lists:
        joiner = "&" if "?" in path else "?"
        at_bound = await api.client.get(
            f"{path}{joiner}offset={MAX_OFFSET}&limit=200", headers=headers
        )
        assert at_bound.status_code == 200, (path, at_bound.text)
        assert at_bound.json() == []
        for query in (f"offset={MAX_OFFSET + 1}", f"offset={10**30}", "limit=201", "offset=-1"):
            refused = await api.client.get(f"{path}{joiner}{query}", headers=headers)
            assert refused.status_code == 422, (path, query, refused.text)
            assert refused.json()["error"]["code"] == "validation_error"


async def test_postgresql_sessions_have_a_statement_and_a_lock_timeout(
    make_api: Callable[..., Any], database: Database
) -> None:
    postgresql_only(database)
    async with (
        make_api(DB_STATEMENT_TIMEOUT_SECONDS=7, DB_LOCK_TIMEOUT_SECONDS=1.5) as api,
        api.context.db() as session,
    ):
        assert (await session.execute(text("SHOW statement_timeout"))).scalar() == "7s"
        assert (await session.execute(text("SHOW lock_timeout"))).scalar() == "1500ms"


async def test_a_login_behind_a_lock_on_users_is_503_within_the_lock_timeout(
    make_api: Callable[..., Any], database: Database
) -> None:
    postgresql_only(database)
    lock_timeout = 1.0
    async with make_api(DB_LOCK_TIMEOUT_SECONDS=lock_timeout) as api:
        student = await api.add_user("student")
        holder = create_engine(database.async_url)
        try:
            async with holder.connect() as connection:
                locked = await connection.begin()
                await connection.execute(text("LOCK TABLE users IN ACCESS EXCLUSIVE MODE"))
                started = time.monotonic()
                login = await asyncio.wait_for(
                    api.client.post(
                        "/auth/login",
                        json={"school_number": student.school_number, "password": PASSWORD},
                    ),
                    lock_timeout + 5,
                )
                waited = time.monotonic() - started
                assert login.status_code == 503, login.text
                assert login.json()["error"]["code"] == "service_unavailable"
                assert waited < lock_timeout + 2
                # readiness reads an account too, and does not call this ready
                started = time.monotonic()
                ready = await asyncio.wait_for(api.client.get("http://testserver/readyz"), 10)
                assert ready.status_code == 503
                assert "database" in ready.json()["error"]["message"]
                assert time.monotonic() - started < 2 + 2
                await locked.rollback()
        finally:
            await holder.dispose()
        # the lock gone, both answer again
        assert (await api.client.get("http://testserver/readyz")).status_code == 200
        login = await api.client.post(
            "/auth/login", json={"school_number": student.school_number, "password": PASSWORD}
        )
        assert login.status_code == 200
