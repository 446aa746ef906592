"""The live roll's event streams on a real `attn serve`: a cap per user, and a stream that
ends with its session (logout, expiry, a newer login) and with its lesson's live state
(persisted, or gone from Redis), on the API and on the page.

The server renews every stream each 0.3 s (`ATTN_EVENTS_KEEPALIVE_SECONDS`) and allows two
per user, so each end shows within a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from attn.tasks.sweep import sweep_attendances
from tests.support.api import PASSWORD, Api
from tests.support.database import Database
from tests.support.http_server import Server, serving

KEEPALIVE = 0.3
MOST_STREAMS = 2
# a stream must end within a few renewals of the change that ends it
END_WITHIN = 3.0


@pytest.fixture(scope="module")
def server(
    database: Database, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with serving(
        database,
        redis_url,
        tmp_path_factory.mktemp("events"),
        EVENTS_KEEPALIVE_SECONDS=str(KEEPALIVE),
        MAX_EVENT_STREAMS_PER_USER=str(MOST_STREAMS),
    ) as running:
        yield running


class Stream:
    """One open event stream and the events read from it so far."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.events: list[tuple[str, str]] = []
        self.closed = asyncio.Event()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        event = ""
        try:
            async for line in self.response.aiter_lines():
                if line.startswith("event: "):
                    event = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    self.events.append((event, line.removeprefix("data: ")))
        except httpx.HTTPError:
            pass
        finally:
            self.closed.set()

    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    async def wait_closed(self, seconds: float = END_WITHIN) -> None:
        await asyncio.wait_for(self.closed.wait(), seconds)

    def end_reason(self) -> str:
        assert self.events and self.events[-1][0] == "end", self.events
        reason: str = json.loads(self.events[-1][1])["reason"]
        return reason


@contextlib.asynccontextmanager
async def opened(
    client: httpx.AsyncClient, path: str, **request: Any
) -> AsyncIterator[Stream | httpx.Response]:
    """The stream at `path`, once its `ready` came; the plain response when it is refused."""
    async with client.stream("GET", path, **request) as response:
        if response.status_code != 200:
            await response.aread()
            yield response
            return
        stream = Stream(response)
        try:
            for _ in range(100):
                if "ready" in stream.names():
                    break
                await asyncio.sleep(0.05)
            assert "ready" in stream.names()
            yield stream
        finally:
            stream.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stream.reader


@pytest.fixture
async def client(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    timeout = httpx.Timeout(10, read=None)
    async with httpx.AsyncClient(base_url=server.url, timeout=timeout) as running:
        yield running


async def login(client: httpx.AsyncClient, school_number: str) -> str:
    response = await client.post(
        "/api/v1/auth/login", json={"school_number": school_number, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def teacher_with_lesson(api: Api, client: httpx.AsyncClient) -> tuple[str, str, str]:
    """A teacher's school number, token and active lesson id, through the real server."""
    teacher = await api.add_user("teacher")
    token = await login(client, teacher.school_number)
    lesson = await client.post(
        "/api/v1/teacher/lessons",
        json={"lesson_name": "Streams", "duration_minutes": 30},
        headers=bearer(token),
    )
    assert lesson.status_code == 201, lesson.text
    return teacher.school_number, token, lesson.json()["lesson_id"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def events_path(lesson_id: str) -> str:
    return f"/api/v1/teacher/lessons/{lesson_id}/events"


async def test_event_streams_per_user_are_capped_with_429(
    api: Api, client: httpx.AsyncClient
) -> None:
    _, token, lesson_id = await teacher_with_lesson(api, client)
    async with (
        opened(client, events_path(lesson_id), headers=bearer(token)) as first,
        # the page's stream (by cookie) counts against the same user
        opened(
            client, f"/teacher/lessons/{lesson_id}/live", cookies={"attn_session": token}
        ) as second,
    ):
        assert isinstance(first, Stream) and isinstance(second, Stream)
        async with opened(client, events_path(lesson_id), headers=bearer(token)) as third:
            assert isinstance(third, httpx.Response)
            assert third.status_code == 429
            assert third.json()["error"]["code"] == "too_many_streams"
            assert int(third.headers["Retry-After"]) >= 1
    # a stream that closed stops counting at once
    await asyncio.sleep(0.3)
    async with opened(client, events_path(lesson_id), headers=bearer(token)) as again:
        assert isinstance(again, Stream)


async def test_event_stream_ends_when_its_session_is_logged_out(
    api: Api, client: httpx.AsyncClient
) -> None:
    _, token, lesson_id = await teacher_with_lesson(api, client)
    async with opened(client, events_path(lesson_id), headers=bearer(token)) as stream:
        assert isinstance(stream, Stream)
        await asyncio.sleep(2 * KEEPALIVE)
        assert not stream.closed.is_set()  # a live session's stream goes on
        assert (await client.post("/api/v1/auth/logout", headers=bearer(token))).status_code == 204
        await stream.wait_closed()
        assert stream.end_reason() == "session_ended"


async def test_event_stream_ends_when_a_new_login_replaces_its_session(
    api: Api, client: httpx.AsyncClient
) -> None:
    number, token, lesson_id = await teacher_with_lesson(api, client)
    async with opened(client, events_path(lesson_id), headers=bearer(token)) as stream:
        assert isinstance(stream, Stream)
        await login(client, number)
        await stream.wait_closed()
        assert stream.end_reason() == "session_ended"


async def test_event_stream_ends_when_its_session_expires(
    api: Api, client: httpx.AsyncClient, redis: aioredis.Redis
) -> None:
    number, token, lesson_id = await teacher_with_lesson(api, client)
    async with opened(client, events_path(lesson_id), headers=bearer(token)) as stream:
        assert isinstance(stream, Stream)
        # the session's TTL runs out in Redis, as it would at the role's lifetime
        assert await redis.pexpire(f"attn:session:{{u:{number}}}", 200)
        await stream.wait_closed()
        assert stream.end_reason() == "session_ended"


async def test_page_event_stream_ends_when_its_session_is_logged_out(
    api: Api, client: httpx.AsyncClient
) -> None:
    _, token, lesson_id = await teacher_with_lesson(api, client)
    page_stream = f"/teacher/lessons/{lesson_id}/live"
    async with opened(client, page_stream, cookies={"attn_session": token}) as stream:
        assert isinstance(stream, Stream)
        assert (await client.post("/api/v1/auth/logout", headers=bearer(token))).status_code == 204
        await stream.wait_closed()
        assert stream.end_reason() == "session_ended"


async def test_event_stream_ends_when_its_lesson_is_finished_and_persisted(
    api: Api, client: httpx.AsyncClient
) -> None:
    _, token, lesson_id = await teacher_with_lesson(api, client)
    async with opened(client, events_path(lesson_id), headers=bearer(token)) as stream:
        assert isinstance(stream, Stream)
        finished = await client.post(
            f"/api/v1/teacher/lessons/{lesson_id}/finish", headers=bearer(token)
        )
        assert finished.status_code == 200
        # finished but still in Redis: corrections still arrive, so the stream goes on
        await asyncio.sleep(3 * KEEPALIVE)
        assert not stream.closed.is_set()
        assert (await sweep_attendances(api.context)).persisted == 1
        await stream.wait_closed()
        assert stream.end_reason() == "lesson_closed"


async def test_event_stream_ends_when_its_lesson_is_gone_from_redis(
    api: Api, client: httpx.AsyncClient, redis: aioredis.Redis
) -> None:
    _, token, lesson_id = await teacher_with_lesson(api, client)
    async with opened(client, events_path(lesson_id), headers=bearer(token)) as stream:
        assert isinstance(stream, Stream)
        assert await redis.delete(f"attn:lesson:{{l:{lesson_id[:16]}}}:{lesson_id[16:]}")
        await stream.wait_closed()
        assert stream.end_reason() == "lesson_closed"
