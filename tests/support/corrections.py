"""The words of the tests that change records after check-in: start, join, finish and persist
a lesson; read its roll, audit trail and attendee count; correct or add a record; and answer
as the external verifier, with signatures the tests compute themselves.

`VerifierApi` is an app with a verifier configured whose outgoing requests are recorded in
memory (the `vapi` fixture in `tests/api/corrections/conftest.py` builds it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import redis.asyncio as aioredis

from attn.models import NewAccount
from attn.services.verification_service import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from attn.store import keys
from attn.tasks.sweep import sweep_attendances
from tests.support.api import Api, Headers

SECRET = "s" * 20
VERIFIER_URL = "http://verifier.test/"


@dataclass
class VerifierApi:
    api: Api
    sent: list[httpx.Request]  # what the app posted to the verifier


async def start(
    api: Api, headers: Headers, lesson_name: str = "Algorithms", **options: Any
) -> dict[str, Any]:
    response = await api.client.post(
        "/teacher/lessons",
        json={"lesson_name": lesson_name, "duration_minutes": 60, **options},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    lesson: dict[str, Any] = response.json()
    return lesson


async def join(api: Api, headers: Headers, lesson_id: str) -> httpx.Response:
    return await api.client.post(f"/student/lessons/{lesson_id}/attendance", headers=headers)


async def finish(api: Api, headers: Headers, lesson_id: str) -> None:
    response = await api.client.post(f"/teacher/lessons/{lesson_id}/finish", headers=headers)
    assert response.status_code == 200, response.text


async def persist(api: Api, lesson_id: str) -> None:
    """Run one sweep pass in-process and check the lesson left Redis for SQL."""
    summary = await sweep_attendances(api.context)
    assert summary.persisted == 1, summary
    assert not await api.context.redis_client.redis.exists(keys.lesson(lesson_id))


async def roll(api: Api, headers: Headers, lesson_id: str) -> list[dict[str, Any]]:
    response = await api.client.get(f"/teacher/lessons/{lesson_id}/records", headers=headers)
    assert response.status_code == 200, response.text
    records: list[dict[str, Any]] = response.json()
    return records


async def roll_by_student(api: Api, headers: Headers, lesson_id: str) -> dict[str, Any]:
    return {record["student_number"]: record for record in await roll(api, headers, lesson_id)}


async def audit(api: Api, headers: Headers, lesson_id: str) -> list[dict[str, Any]]:
    response = await api.client.get(f"/teacher/lessons/{lesson_id}/audit", headers=headers)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return entries


async def attendee_count(api: Api, headers: Headers, lesson_id: str) -> int:
    """The lesson's `attendee_count` (present + late), checked against its counters."""
    counts = await lesson_counts(api, headers, lesson_id)
    return counts["attended"]


async def lesson_counts(api: Api, headers: Headers, lesson_id: str) -> dict[str, int]:
    """The lesson's `counts`, after checking that `attendee_count` is their `attended`."""
    response = await api.client.get(f"/teacher/lessons/{lesson_id}", headers=headers)
    assert response.status_code == 200, response.text
    lesson = response.json()
    counts: dict[str, int] = lesson["counts"]
    assert lesson["attendee_count"] == counts["attended"] == counts["present"] + counts["late"]
    return counts


async def correct(
    api: Api, headers: Headers, lesson_id: str, student_number: str, body: dict[str, Any]
) -> httpx.Response:
    return await api.client.patch(
        f"/teacher/lessons/{lesson_id}/records/{student_number}", json=body, headers=headers
    )


async def add(api: Api, headers: Headers, lesson_id: str, body: dict[str, Any]) -> httpx.Response:
    return await api.client.post(
        f"/teacher/lessons/{lesson_id}/records", json=body, headers=headers
    )


def error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


def detail_type(response: httpx.Response) -> str:
    return str(response.json()["error"]["details"][0]["type"])


async def verifications(redis: aioredis.Redis, lesson_id: str) -> dict[str, tuple[str, str, str]]:
    """Student number -> (verification id, status if verified, open/answered)."""
    entries = await redis.hgetall(keys.lesson_verifications(lesson_id))
    found = {}
    for verification_id, value in entries.items():
        student, decided, state = str(value).split("|")
        found[student] = (str(verification_id), decided, state)
    return found


async def answer(
    api: Api,
    verification_id: str,
    body: dict[str, Any] | bytes,
    *,
    timestamp: str | None = None,
    secret: str = SECRET,
    signature: str | None = None,
    signed_id: str | None = None,
) -> httpx.Response:
    """Post a verifier's answer, signed correctly unless told otherwise."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    stamp = str(int(api.context.now().timestamp())) if timestamp is None else timestamp
    if signature is None:
        signature = sign(secret, signed_id or verification_id, stamp, raw)
    return await api.client.post(
        f"/verifications/{verification_id}",
        content=raw,
        headers={
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: signature,
        },
    )


async def pending_lesson(
    api: Api, students: int = 1, **options: Any
) -> tuple[dict[str, Any], Headers, list[tuple[NewAccount, Headers]]]:
    """A lesson with verification and `students` joins, each answered 201 pending."""
    _, teacher_headers = await api.user_headers("teacher")
    lesson = await start(api, teacher_headers, security=["verification"], **options)
    joined = []
    for _ in range(students):
        user, headers = await api.user_headers("student")
        response = await join(api, headers, lesson["lesson_id"])
        assert response.status_code == 201, response.text
        record = response.json()
        assert record["status"] == "pending"
        assert record["student_number"] == user.school_number
        assert (record["reason"], record["changed_by"], record["flags"]) == (None, None, [])
        joined.append((user, headers))
    return lesson, teacher_headers, joined


async def joined_lesson(
    api: Api, students: int
) -> tuple[dict[str, Any], Headers, list[tuple[NewAccount, Headers]]]:
    _, teacher_headers = await api.user_headers("teacher")
    lesson = await start(api, teacher_headers)
    joined = []
    for _ in range(students):
        user, headers = await api.user_headers("student")
        response = await join(api, headers, lesson["lesson_id"])
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "present"
        joined.append((user, headers))
    return lesson, teacher_headers, joined
