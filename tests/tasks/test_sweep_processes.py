"""The persistence job as it runs in production: inside `attn serve`, and as `attn worker`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from attn.models import NewAccount
from tests.support.api import Api
from tests.support.database import Database
from tests.support.health import wait_for, wait_until_up
from tests.support.lessons import run_lesson
from tests.support.ports import free_port
from tests.support.processes import ATTN, child_environment, stop
from tests.support.sweep import sql_counts

# `attn worker` and `attn serve` run as real processes.
pytestmark = pytest.mark.slow


def environment(database: Database, redis_url: str, tmp_path: Path) -> dict[str, str]:
    return child_environment(
        DATABASE_URL=database.url,
        REDIS_URL=redis_url,
        DATA_DIR=tmp_path / "data",
        SWEEP_INTERVAL_SECONDS="0.5",
    )


async def test_attn_worker_persists_finished_lessons_and_stops_on_sigterm(
    api: Api, clean_database: Database, redis_url: str, tmp_path: Path
) -> None:
    worker = await asyncio.create_subprocess_exec(
        ATTN,
        "worker",
        env=environment(clean_database, redis_url, tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        lesson, _, _ = await run_lesson(api, students=3)

        async def persisted() -> bool:
            return await sql_counts(api.context, lesson["lesson_id"]) == (1, 3)

        await wait_for(persisted, 20)
        assert not await api.context.redis_client.redis.exists(
            f"attn:lesson:{{l:{lesson['lesson_id'][:16]}}}:{lesson['lesson_id'][16:]}"
        )
    finally:
        code = await stop(worker)
    assert code == 0
    assert worker.stderr is not None
    log = (await worker.stderr.read()).decode()
    assert "1 lessons persisted, 3 records written" in log


async def test_attn_serve_sweeps_within_one_interval(
    clean_database: Database, redis_url: str, tmp_path: Path, api: Api
) -> None:
    port = free_port()
    env = environment(clean_database, redis_url, tmp_path)
    teacher = await api.add_user("teacher")
    student = await api.add_user("student")
    server = await asyncio.create_subprocess_exec(
        ATTN,
        "serve",
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=f"{base}/api/v1", timeout=10) as client:
            await wait_until_up(f"{base}/healthz", seconds=30)

            async def login(user: NewAccount) -> dict[str, str]:
                response = await client.post(
                    "/auth/login",
                    json={"school_number": user.school_number, "password": user.password},
                )
                return {"Authorization": f"Bearer {response.json()['access_token']}"}

            teacher_headers = await login(teacher)
            student_headers = await login(student)
            lesson = (
                await client.post(
                    "/teacher/lessons",
                    json={"lesson_name": "Sweep me", "duration_minutes": 5},
                    headers=teacher_headers,
                )
            ).json()
            joined = await client.post(
                f"/student/lessons/{lesson['lesson_id']}/attendance", headers=student_headers
            )
            assert joined.status_code == 201
            finished = await client.post(
                f"/teacher/lessons/{lesson['lesson_id']}/finish", headers=teacher_headers
            )
            assert finished.status_code == 200

            async def persisted() -> bool:
                return await sql_counts(api.context, lesson["lesson_id"]) == (1, 1)

            await wait_for(persisted, 10)
            listed = (await client.get("/teacher/lessons", headers=teacher_headers)).json()
            assert [item["lesson_id"] for item in listed] == [lesson["lesson_id"]]
            history = (await client.get("/student/attendance", headers=student_headers)).json()
            assert [item["lesson_id"] for item in history] == [lesson["lesson_id"]]
            assert history[0]["student_number"] == student.school_number
    finally:
        await stop(server)
