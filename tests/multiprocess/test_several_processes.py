"""Several processes of one deployment: two `attn serve --no-sweep` and one `attn worker` as
real subprocesses, on the test Redis (whatever its URL: one server, a Sentinel set, a
cluster) and the test SQL database. They share what a deployment on several hosts shares:
the Redis, the database, `ATTN_SECRET_KEY` and `ATTN_PUBLIC_URL`; each has a data directory
of its own.

A teacher's live roll is read from one server while students join through both; the roll
shows every join, the lesson is finished on the other server, and the worker moves it to SQL.
"""

from __future__ import annotations

import asyncio
import secrets
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from attn.db.tables import LessonRow, RecordRow
from tests.support.api import Api
from tests.support.attn_processes import RollStream, attn_process, sign_in
from tests.support.database import Database
from tests.support.health import wait_for
from tests.support.ports import free_ports
from tests.support.sweep import sql_counts

pytestmark = pytest.mark.slow

STUDENTS = 10


async def test_two_servers_and_a_worker_share_one_lesson_from_join_to_sql(
    api: Api, clean_database: Database, redis_url: str, tmp_path: Path
) -> None:
    shared = {
        "DATABASE_URL": clean_database.url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": secrets.token_hex(32),
        "PUBLIC_URL": "http://attn.test",
        "LOG_LEVEL": "warning",
    }
    teacher = await api.add_user("teacher")
    students = [await api.add_user("student") for _ in range(STUDENTS)]
    async with AsyncExitStack() as stack:
        servers = []
        for name, port in zip(("one", "two"), free_ports(2), strict=True):
            servers.append(
                await stack.enter_async_context(
                    attn_process(
                        "serve",
                        "--no-sweep",
                        port=port,
                        log=tmp_path / f"serve-{name}.log",
                        DATA_DIR=tmp_path / name,
                        **shared,
                    )
                )
            )
        worker = await stack.enter_async_context(
            attn_process(
                "worker",
                log=tmp_path / "worker.log",
                DATA_DIR=tmp_path / "worker",
                SWEEP_INTERVAL_SECONDS="0.5",
                **shared,
            )
        )
        two = servers[1]
        clients = [
            await stack.enter_async_context(httpx.AsyncClient(base_url=server.url, timeout=10))
            for server in servers
        ]

        # the teacher signs in on one and watches the roll on two
        teacher_headers = await sign_in(clients[0], teacher.school_number)
        opened = await clients[0].post(
            "/api/v1/teacher/lessons",
            json={"lesson_name": "Distributed systems", "duration_minutes": 45},
            headers=teacher_headers,
        )
        assert opened.status_code == 201, opened.text
        lesson_id = opened.json()["lesson_id"]
        roll = RollStream(two.url, lesson_id, teacher_headers)
        stack.push_async_callback(roll.close)
        await asyncio.wait_for(roll.ready.wait(), 10)

        # students sign in on one server and join on the other, alternately
        for index, student in enumerate(students):
            sign_in_on, join_on = clients[index % 2], clients[(index + 1) % 2]
            headers = await sign_in(sign_in_on, student.school_number)
            joined = await join_on.post(
                f"/api/v1/student/lessons/{lesson_id}/attendance", headers=headers
            )
            assert joined.status_code == 201, joined.text
        await roll.wait_for_students({student.school_number for student in students})
        assert len(roll.records()) == STUDENTS  # each join once

        finished = await clients[1].post(
            f"/api/v1/teacher/lessons/{lesson_id}/finish", headers=teacher_headers
        )
        assert finished.status_code == 200, finished.text

        async def persisted() -> bool:
            return await sql_counts(api.context, lesson_id) == (1, STUDENTS)

        try:
            await wait_for(persisted, seconds=30)
        except AssertionError:
            raise AssertionError(f"the worker did not persist it:\n{worker.log_text()}") from None

    async with api.context.db() as session:
        lesson = await session.scalar(select(LessonRow).where(LessonRow.lesson_id == lesson_id))
        records = (
            await session.scalars(select(RecordRow).where(RecordRow.lesson_id == lesson_id))
        ).all()
    assert lesson is not None
    assert lesson.status == "finished"
    assert lesson.teacher_school_number == teacher.school_number
    assert sorted(record.student_number for record in records) == sorted(
        student.school_number for student in students
    )
    assert {record.status for record in records} == {"present"}
