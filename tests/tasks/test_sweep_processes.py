"""The persistence job as it runs in production: inside `attn serve`, and as `attn worker`."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from attn.models import NewAccount
from tests.conftest import Api, Database
from tests.tasks.test_sweep import run_lesson, sql_counts

ATTN = str(Path(sys.executable).parent / "attn")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(database: Database, redis_url: str, tmp_path: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("ATTN_")}
    env.update(
        ATTN_DATABASE_URL=database.url,
        ATTN_REDIS_URL=redis_url,
        ATTN_DATA_DIR=str(tmp_path / "data"),
        ATTN_SWEEP_INTERVAL_SECONDS="0.5",
    )
    return env


async def wait_for(predicate: Callable[[], Awaitable[bool]], seconds: float) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


async def stop(process: asyncio.subprocess.Process) -> int:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode


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

            async def up() -> bool:
                try:
                    return (await client.get(f"{base}/healthz")).status_code == 200
                except httpx.TransportError:
                    return False

            await wait_for(up, 30)

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
