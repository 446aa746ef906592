"""The service on Redis Sentinel: an `attn serve` whose `ATTN_REDIS_URL` is a
`redis+sentinel://` URL signs users in, opens a lesson, takes check-ins that the teacher's
live roll shows, and its finished lesson reaches SQL; every key is on the primary the
sentinels name, in the URL's database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from attn.store import keys
from attn.store.redis_client import LANE_NAME
from attn.tasks.sweep import sweep_attendances
from tests.support.attn_processes import RollStream, attn_process, sign_in
from tests.support.database import Database
from tests.support.ports import free_ports
from tests.support.redis_sentinel import SentinelSet
from tests.support.sweep import sql_counts

pytestmark = pytest.mark.slow


async def test_a_lesson_runs_through_sentinel_from_sign_in_to_sql(
    sentinels: SentinelSet,
    make_sentinel_api: Callable[..., Any],
    clean_database: Database,
    tmp_path: Path,
) -> None:
    async with (
        make_sentinel_api(sentinels) as api,
        attn_process(
            "serve",
            "--no-sweep",
            port=free_ports(1)[0],
            log=tmp_path / "serve.log",
            DATABASE_URL=clean_database.url,
            REDIS_URL=sentinels.url(db=1),
            DATA_DIR=tmp_path / "data",
        ) as server,
        httpx.AsyncClient(base_url=server.url, timeout=10) as client,
    ):
        teacher = await api.add_user("teacher")
        students = [await api.add_user("student") for _ in range(3)]
        teacher_headers = await sign_in(client, teacher.school_number)
        opened = await client.post(
            "/api/v1/teacher/lessons",
            json={"lesson_name": "Networks", "duration_minutes": 30},
            headers=teacher_headers,
        )
        assert opened.status_code == 201, opened.text
        lesson_id = opened.json()["lesson_id"]

        roll = RollStream(server.url, lesson_id, teacher_headers)
        try:
            await roll.ready.wait()
            for student in students:
                joined = await client.post(
                    f"/api/v1/student/lessons/{lesson_id}/attendance",
                    headers=await sign_in(client, student.school_number),
                )
                assert joined.status_code == 201, joined.text
            await roll.wait_for_students({student.school_number for student in students})
        finally:
            await roll.close()

        # the state is on the primary, in database 1 of the URL; and the server's own
        # connections for joins (the lane) went there too
        with sentinels.client(sentinels.primary_port) as primary:
            primary.select(1)
            assert primary.hlen(keys.lesson_records(lesson_id)) == 3
            names = [entry.get("name") for entry in primary.client_list()]
            assert LANE_NAME in names

        finished = await client.post(
            f"/api/v1/teacher/lessons/{lesson_id}/finish", headers=teacher_headers
        )
        assert finished.status_code == 200, finished.text
        summary = await sweep_attendances(api.context)
        assert summary.persisted == 1
        assert await sql_counts(api.context, lesson_id) == (1, 3)
