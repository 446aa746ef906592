"""The live roll over Server-Sent Events, fed by Redis pub/sub across web workers."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.api import PASSWORD, Api
from tests.support.database import Database
from tests.support.health import wait_until_up
from tests.support.ports import free_port
from tests.support.processes import ATTN, child_environment, stop

# `attn serve --workers 2` runs as a real process.
pytestmark = pytest.mark.slow


async def test_teachers_see_check_ins_within_a_second_across_two_workers(
    api: Api, clean_database: Database, redis_url: str, tmp_path: Path
) -> None:
    teacher = await api.add_user("teacher")
    other_teacher = await api.add_user("teacher")
    students = [await api.add_user("student") for _ in range(4)]
    port = free_port()
    env = child_environment(
        DATABASE_URL=clean_database.url, REDIS_URL=redis_url, DATA_DIR=tmp_path / "data"
    )
    server = await asyncio.create_subprocess_exec(
        ATTN,
        "serve",
        "--port",
        str(port),
        "--workers",
        "2",
        "--no-sweep",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            await wait_until_up(f"http://127.0.0.1:{port}/healthz", seconds=30)

            async def headers(user: Any) -> dict[str, str]:
                response = await client.post(
                    "/auth/login", json={"school_number": user.school_number, "password": PASSWORD}
                )
                return {"Authorization": f"Bearer {response.json()['access_token']}"}

            teacher_headers = await headers(teacher)
            lesson = (
                await client.post(
                    "/teacher/lessons",
                    json={"lesson_name": "Live", "duration_minutes": 10},
                    headers=teacher_headers,
                )
            ).json()
            events_url = f"/teacher/lessons/{lesson['lesson_id']}/events"
            # another teacher may not watch it, nor a student, nor anyone without a token
            intruder = await client.get(events_url, headers=await headers(other_teacher))
            assert intruder.status_code == 404
            assert intruder.json()["error"]["code"] == "lesson_not_found"
            as_student = await client.get(events_url, headers=await headers(students[-1]))
            assert as_student.status_code == 403
            assert (await client.get(events_url)).status_code == 401

            received: list[dict[str, Any]] = []
            ready = asyncio.Event()

            async def watch() -> None:
                # its own connection: the events come through whichever worker serves it
                async with (
                    httpx.AsyncClient(
                        base_url=base, timeout=httpx.Timeout(10, read=None)
                    ) as watcher,
                    watcher.stream("GET", events_url, headers=teacher_headers) as stream,
                ):
                    assert stream.headers["content-type"].startswith("text/event-stream")
                    event = ""
                    async for line in stream.aiter_lines():
                        if line.startswith("event: "):
                            event = line.removeprefix("event: ")
                            if event == "ready":
                                ready.set()
                        elif line.startswith("data: ") and event == "record":
                            received.append(json.loads(line.removeprefix("data: ")))
                            if len(received) == len(students) + 1:
                                return

            watcher = asyncio.create_task(watch())
            await asyncio.wait_for(ready.wait(), 10)
            for student in students:
                joined = await client.post(
                    f"/student/lessons/{lesson['lesson_id']}/attendance",
                    headers=await headers(student),
                )
                assert joined.status_code == 201
            # a correction is an event too
            corrected = await client.patch(
                f"/teacher/lessons/{lesson['lesson_id']}/records/{students[0].school_number}",
                json={"status": "excused", "reason": "doctor"},
                headers=teacher_headers,
            )
            assert corrected.status_code == 200
            await asyncio.wait_for(watcher, 5)
            assert [record["student_number"] for record in received[:4]] == [
                student.school_number for student in students
            ]
            assert received[4]["status"] == "excused"
    finally:
        await stop(server)
    assert server.returncode in (0, -signal.SIGTERM)
