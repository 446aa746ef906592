"""End to end: `attn serve` and `attn fake-verifier` as real processes; the fake verifier
answers every check-in through the signed webhook, rejecting the students it was told to."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from attn.models import NewAccount
from tests.support.api import Api, Headers
from tests.support.corrections import SECRET
from tests.support.database import Database
from tests.support.health import wait_for, wait_until_up
from tests.support.ports import free_port
from tests.support.processes import ATTN, child_environment, stop

# `attn serve` and `attn fake-verifier` run as real processes.
pytestmark = pytest.mark.slow


def base_environment(tmp_path: Path) -> dict[str, str]:
    return child_environment(DATA_DIR=tmp_path / "data", VERIFIER_SECRET=SECRET)


async def test_end_to_end_with_the_fake_verifier(
    api: Api, clean_database: Database, redis_url: str, tmp_path: Path
) -> None:
    teacher = await api.add_user("teacher")
    trusted = await api.add_user("student")
    impostor = await api.add_user("student")
    verifier_port, server_port = free_port(), free_port()
    verifier = await asyncio.create_subprocess_exec(
        ATTN,
        "fake-verifier",
        "--port",
        str(verifier_port),
        "--reject",
        impostor.school_number,
        "--delay",
        "0.1",
        env=base_environment(tmp_path),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    server_env = base_environment(tmp_path)
    server_env.update(
        ATTN_DATABASE_URL=clean_database.url,
        ATTN_REDIS_URL=redis_url,
        ATTN_VERIFIER_URL=f"http://127.0.0.1:{verifier_port}/",
        ATTN_PUBLIC_URL=f"http://127.0.0.1:{server_port}",
    )
    server = await asyncio.create_subprocess_exec(
        ATTN,
        "serve",
        "--port",
        str(server_port),
        env=server_env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{server_port}"
    verifier_base = f"http://127.0.0.1:{verifier_port}"
    try:
        async with httpx.AsyncClient(base_url=f"{base}/api/v1", timeout=10) as client:
            await wait_until_up(f"{base}/healthz", f"{verifier_base}/requests", seconds=30)

            async def login(user: NewAccount) -> Headers:
                response = await client.post(
                    "/auth/login",
                    json={"school_number": user.school_number, "password": user.password},
                )
                assert response.status_code == 200, response.text
                return {"Authorization": f"Bearer {response.json()['access_token']}"}

            teacher_headers = await login(teacher)
            lesson = await client.post(
                "/teacher/lessons",
                json={
                    "lesson_name": "Verified",
                    "duration_minutes": 5,
                    "security": ["verification"],
                },
                headers=teacher_headers,
            )
            assert lesson.status_code == 201, lesson.text
            lesson_id = lesson.json()["lesson_id"]
            for user in (trusted, impostor):
                joined = await client.post(
                    f"/student/lessons/{lesson_id}/attendance", headers=await login(user)
                )
                assert joined.status_code == 201, joined.text
                assert joined.json()["status"] == "pending"

            async def roll_now() -> dict[str, Any]:
                response = await client.get(
                    f"/teacher/lessons/{lesson_id}/records", headers=teacher_headers
                )
                return {r["student_number"]: r for r in response.json()}

            async def all_answered() -> bool:
                records = await roll_now()
                return len(records) == 2 and all(r["status"] != "pending" for r in records.values())

            await wait_for(all_answered, 20)
            records = await roll_now()
            assert (
                records[trusted.school_number]["status"],
                records[trusted.school_number]["reason"],
            ) == ("present", None)
            assert (
                records[impostor.school_number]["status"],
                records[impostor.school_number]["reason"],
            ) == ("rejected", "face_mismatch")
            entries = (
                await client.get(f"/teacher/lessons/{lesson_id}/audit", headers=teacher_headers)
            ).json()
            assert sorted(
                (e["student_number"], e["source"], e["new_status"]) for e in entries
            ) == sorted(
                [
                    (trusted.school_number, "verifier", "present"),
                    (impostor.school_number, "verifier", "rejected"),
                ]
            )
            received = (await client.get(f"{verifier_base}/requests")).json()
            assert sorted(r["student_number"] for r in received) == sorted(
                [trusted.school_number, impostor.school_number]
            )
            for request in received:
                assert request["lesson_id"] == lesson_id
                assert request["callback_url"] == (
                    f"{base}/api/v1/verifications/{request['verification_id']}"
                )
    finally:
        await stop(server)
        await stop(verifier)
