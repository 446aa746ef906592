"""Verification webhooks, teacher corrections, the audit trail, added records and rosters.

Verification tests run the app with a verifier configured; the join's outgoing request goes
through an in-memory transport (recorded, answered 202), and the tests answer through the
webhook themselves with signatures they compute. One end-to-end test runs `attn serve` and
`attn fake-verifier` as real processes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from attn.models import NewAccount
from attn.services import verification_service
from attn.services.verification_service import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    check_signature,
    sign,
)
from attn.store import keys
from attn.tasks.sweep import sweep_attendances
from tests.support.api import Api
from tests.support.clock import Clock
from tests.support.database import Database
from tests.support.health import wait_for
from tests.support.ports import free_port
from tests.support.processes import ATTN, stop

SECRET = "s" * 20
VERIFIER_URL = "http://verifier.test/"
Headers = dict[str, str]


# --- helpers ---------------------------------------------------------------------------------


@dataclass
class VerifierApi:
    api: Api
    sent: list[httpx.Request]  # what the app posted to the verifier


@pytest.fixture
async def vapi(
    make_api: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[VerifierApi]:
    """An app with a verifier configured whose outgoing requests are recorded in memory."""
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(202, json={"accepted": True})

    real = verification_service.request_verification
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as fake_http:

        async def through_fake(ctx: Any, **kwargs: Any) -> bool:
            return await real(dataclasses.replace(ctx, http=fake_http), **kwargs)

        monkeypatch.setattr(verification_service, "request_verification", through_fake)
        async with make_api(VERIFIER_URL=VERIFIER_URL, VERIFIER_SECRET=SECRET) as api:
            yield VerifierApi(api, sent)


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
    response = await api.client.get(f"/teacher/lessons/{lesson_id}", headers=headers)
    assert response.status_code == 200, response.text
    return int(response.json()["attendee_count"])


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


# --- verification ----------------------------------------------------------------------------


async def test_a_verified_answer_makes_the_pending_record_present(
    vapi: VerifierApi, redis: aioredis.Redis
) -> None:
    api = vapi.api
    lesson, teacher_headers, [(student, student_headers)] = await pending_lesson(api)
    lesson_id = lesson["lesson_id"]
    assert lesson["security"] == ["verification"]

    # the check-in was posted to the verifier, signed with the shared secret
    [request] = vapi.sent
    assert (request.method, request.url.host) == ("POST", "verifier.test")
    sent = json.loads(request.content)
    [(verification_id, decided, state)] = (await verifications(redis, lesson_id)).values()
    assert (decided, state) == ("present", "open")
    assert verification_id.startswith(lesson_id) and len(verification_id) == 48
    assert sent == {
        "verification_id": verification_id,
        "lesson_id": lesson_id,
        "student_number": student.school_number,
        "student_full_name": student.full_name,
        "callback_url": f"http://testserver/api/v1/verifications/{verification_id}",
    }
    check_signature(
        SECRET,
        verification_id,
        request.headers[TIMESTAMP_HEADER],
        request.headers[SIGNATURE_HEADER],
        request.content,
        time.time(),
    )
    own = await api.client.get(f"/student/lessons/{lesson_id}/attendance", headers=student_headers)
    assert own.json()["status"] == "pending"
    assert await attendee_count(api, teacher_headers, lesson_id) == 1

    response = await answer(api, verification_id, {"result": "verified"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "applied"
    assert body["record"]["status"] == "present"
    assert (body["record"]["reason"], body["record"]["changed_by"]) == (None, None)
    assert body["record"]["student_number"] == student.school_number

    [record] = await roll(api, teacher_headers, lesson_id)
    assert record == body["record"]
    entries = await audit(api, teacher_headers, lesson_id)
    assert [
        (e["student_number"], e["source"], e["changed_by"], e["old_status"], e["new_status"])
        for e in entries
    ] == [(student.school_number, "verifier", None, "pending", "present")]
    assert entries[0]["reason"] is None
    assert (await verifications(redis, lesson_id))[student.school_number][2] == "answered"
    again = await join(api, student_headers, lesson_id)
    assert again.status_code == 200
    assert again.json() == record
    assert await attendee_count(api, teacher_headers, lesson_id) == 1


async def test_a_verified_late_join_becomes_late(
    vapi: VerifierApi, redis: aioredis.Redis, clock: Clock
) -> None:
    api = vapi.api
    _, teacher_headers = await api.user_headers("teacher")
    lesson = await start(api, teacher_headers, security=["verification"], late_after_minutes=5)
    lesson_id = lesson["lesson_id"]
    on_time, on_time_headers = await api.user_headers("student")
    assert (await join(api, on_time_headers, lesson_id)).json()["status"] == "pending"
    clock.advance(minutes=6)
    late, late_headers = await api.user_headers("student")
    joined = await join(api, late_headers, lesson_id)
    assert joined.status_code == 201
    assert joined.json()["status"] == "pending"  # pending hides the late rule until verified
    found = await verifications(redis, lesson_id)
    assert found[late.school_number][1:] == ("late", "open")
    assert found[on_time.school_number][1:] == ("present", "open")
    # the webhook's timestamp is checked against the service's clock
    for student in (late, on_time):
        response = await answer(api, found[student.school_number][0], {"result": "verified"})
        assert response.status_code == 200, response.text
    records = await roll_by_student(api, teacher_headers, lesson_id)
    assert records[late.school_number]["status"] == "late"
    assert records[on_time.school_number]["status"] == "present"
    entries = await audit(api, teacher_headers, lesson_id)
    assert [(e["student_number"], e["new_status"]) for e in entries] == [
        (late.school_number, "late"),
        (on_time.school_number, "present"),
    ]


async def test_a_rejected_answer_rejects_with_its_reason(
    vapi: VerifierApi, redis: aioredis.Redis
) -> None:
    api = vapi.api
    lesson, teacher_headers, joined = await pending_lesson(api, students=2)
    lesson_id = lesson["lesson_id"]
    (first, first_headers), (second, _) = joined
    found = await verifications(redis, lesson_id)

    response = await answer(
        api, found[first.school_number][0], {"result": "rejected", "reason": "face_mismatch"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "applied"
    assert response.json()["record"]["status"] == "rejected"
    assert response.json()["record"]["reason"] == "face_mismatch"
    # without a reason the service supplies one
    response = await answer(api, found[second.school_number][0], {"result": "rejected"})
    assert response.status_code == 200, response.text
    assert response.json()["record"]["reason"] == "verification_failed"

    records = await roll_by_student(api, teacher_headers, lesson_id)
    assert (records[first.school_number]["status"], records[first.school_number]["reason"]) == (
        "rejected",
        "face_mismatch",
    )
    assert records[second.school_number]["status"] == "rejected"
    entries = await audit(api, teacher_headers, lesson_id)
    assert [
        (e["student_number"], e["source"], e["old_status"], e["new_status"], e["reason"])
        for e in entries
    ] == [
        (first.school_number, "verifier", "pending", "rejected", "face_mismatch"),
        (second.school_number, "verifier", "pending", "rejected", "verification_failed"),
    ]
    own = await api.client.get(f"/student/lessons/{lesson_id}/attendance", headers=first_headers)
    assert own.json()["status"] == "rejected"
    assert own.json()["reason"] == "face_mismatch"


async def test_the_webhook_refuses_bad_signatures_old_timestamps_and_bad_bodies(
    vapi: VerifierApi, redis: aioredis.Redis
) -> None:
    api = vapi.api
    lesson, teacher_headers, [(student, _)] = await pending_lesson(api)
    lesson_id = lesson["lesson_id"]
    verification_id = (await verifications(redis, lesson_id))[student.school_number][0]
    now = int(api.context.now().timestamp())
    verified = {"result": "verified"}

    refused = {
        "wrong secret": await answer(api, verification_id, verified, secret="t" * 20),
        "signed for another id": await answer(
            api, verification_id, verified, signed_id=lesson_id + "0" * 16
        ),
        "no signature": await api.client.post(
            f"/verifications/{verification_id}",
            content=json.dumps(verified).encode(),
            headers={TIMESTAMP_HEADER: str(now)},
        ),
        "no timestamp": await api.client.post(
            f"/verifications/{verification_id}",
            content=json.dumps(verified).encode(),
            headers={SIGNATURE_HEADER: sign(SECRET, verification_id, "", b"")},
        ),
        "signature of another body": await answer(
            api,
            verification_id,
            verified,
            signature=sign(SECRET, verification_id, str(now), b'{"result": "rejected"}'),
        ),
        "timestamp 6 minutes old": await answer(
            api, verification_id, verified, timestamp=str(now - 360)
        ),
        "timestamp 6 minutes ahead": await answer(
            api, verification_id, verified, timestamp=str(now + 360)
        ),
        "timestamp not a number": await answer(
            api, verification_id, verified, timestamp="yesterday"
        ),
        "bare hex without sha256=": await answer(
            api,
            verification_id,
            verified,
            timestamp=str(now),
            signature=sign(SECRET, verification_id, str(now), b'{"result": "verified"}')[7:],
        ),
        # the signature is checked before the body is even parsed
        "invalid json, bad signature": await answer(
            api, verification_id, b"{not json", secret="t" * 20
        ),
    }
    for what, response in refused.items():
        assert response.status_code == 401, (what, response.text)
        assert error_code(response) == "invalid_signature", what

    invalid = {
        "not json": await answer(api, verification_id, b"{not json"),
        "empty body": await answer(api, verification_id, b""),
        "unknown result": await answer(api, verification_id, {"result": "maybe"}),
        "no result": await answer(api, verification_id, {"reason": "x"}),
        "unknown field": await answer(api, verification_id, {"result": "verified", "x": 1}),
        "a list": await answer(api, verification_id, b'["verified"]'),
    }
    for what, response in invalid.items():
        assert response.status_code == 422, (what, response.text)
        assert error_code(response) == "validation_error", what

    # nothing of that touched the record or closed the verification
    [record] = await roll(api, teacher_headers, lesson_id)
    assert record["status"] == "pending"
    assert await audit(api, teacher_headers, lesson_id) == []
    assert (await verifications(redis, lesson_id))[student.school_number][2] == "open"

    # four minutes of skew is still accepted
    stamp = str(now - 240)
    body = json.dumps(verified).encode()
    signature = sign(SECRET, verification_id, stamp, body)
    first = await answer(api, verification_id, body, timestamp=stamp, signature=signature)
    assert first.status_code == 200, first.text
    assert first.json()["record"]["status"] == "present"
    # the very same request replayed, and a fresh contrary answer: both refused
    replay = await answer(api, verification_id, body, timestamp=stamp, signature=signature)
    assert replay.status_code == 409
    assert error_code(replay) == "verification_already_answered"
    contrary = await answer(api, verification_id, {"result": "rejected", "reason": "other"})
    assert contrary.status_code == 409
    assert error_code(contrary) == "verification_already_answered"
    [record] = await roll(api, teacher_headers, lesson_id)
    assert record["status"] == "present"
    assert len(await audit(api, teacher_headers, lesson_id)) == 1


async def test_an_unknown_verification_id_is_404(vapi: VerifierApi, redis: aioredis.Redis) -> None:
    api = vapi.api
    lesson, _, [(student, _)] = await pending_lesson(api)
    lesson_id = lesson["lesson_id"]
    real_id = (await verifications(redis, lesson_id))[student.school_number][0]
    for unknown in (
        lesson_id + "0123456789abcdef",  # the right lesson, another id
        "f" * 48,  # no such lesson
        "not-an-id",
        real_id.upper(),
    ):
        response = await answer(api, unknown, {"result": "verified"})
        assert response.status_code == 404, (unknown, response.text)
        assert error_code(response) == "verification_not_found"
    assert (await verifications(redis, lesson_id))[student.school_number][2] == "open"


async def test_the_teachers_decision_survives_a_late_verifier_answer(
    vapi: VerifierApi, redis: aioredis.Redis
) -> None:
    api = vapi.api
    lesson, teacher_headers, joined = await pending_lesson(api, students=2)
    lesson_id = lesson["lesson_id"]
    (rejected, rejected_headers), (accepted, accepted_headers) = joined
    teacher_number = lesson["teacher_school_number"]
    found = await verifications(redis, lesson_id)

    decision = await correct(
        api, teacher_headers, lesson_id, rejected.school_number,
        {"status": "rejected", "reason": "not in the room"},
    )  # fmt: skip
    assert decision.status_code == 200, decision.text
    assert decision.json()["status"] == "rejected"
    assert decision.json()["changed_by"] == teacher_number
    decision = await correct(
        api, teacher_headers, lesson_id, accepted.school_number, {"status": "present"}
    )
    assert decision.status_code == 200, decision.text

    late_yes = await answer(api, found[rejected.school_number][0], {"result": "verified"})
    assert late_yes.status_code == 200, late_yes.text
    assert late_yes.json()["status"] == "ignored"
    assert late_yes.json()["record"]["status"] == "rejected"
    assert late_yes.json()["record"]["reason"] == "not in the room"
    late_no = await answer(
        api, found[accepted.school_number][0], {"result": "rejected", "reason": "face_mismatch"}
    )
    assert late_no.status_code == 200, late_no.text
    assert late_no.json()["status"] == "ignored"
    assert late_no.json()["record"]["status"] == "present"

    records = await roll_by_student(api, teacher_headers, lesson_id)
    assert records[rejected.school_number]["status"] == "rejected"
    assert records[rejected.school_number]["reason"] == "not in the room"
    assert records[rejected.school_number]["changed_by"] == teacher_number
    assert records[accepted.school_number]["status"] == "present"
    assert records[accepted.school_number]["reason"] is None
    entries = await audit(api, teacher_headers, lesson_id)
    assert [(e["source"], e["old_status"], e["new_status"], e["changed_by"]) for e in entries] == [
        ("teacher", "pending", "rejected", teacher_number),
        ("teacher", "pending", "present", teacher_number),
    ]
    # the ignored answers closed their verifications: a replay is refused
    replay = await answer(api, found[rejected.school_number][0], {"result": "verified"})
    assert replay.status_code == 409
    # a re-join returns the teacher's decision
    for student, headers, status in (
        (rejected, rejected_headers, "rejected"),
        (accepted, accepted_headers, "present"),
    ):
        again = await join(api, headers, lesson_id)
        assert again.status_code == 200
        assert again.json() == records[student.school_number]
        assert again.json()["status"] == status


async def test_a_pending_record_unanswered_at_persistence_is_rejected_for_timeout(
    vapi: VerifierApi, redis: aioredis.Redis
) -> None:
    api = vapi.api
    lesson, teacher_headers, joined = await pending_lesson(api, students=2)
    lesson_id = lesson["lesson_id"]
    (answered, _), (silent, silent_headers) = joined
    found = await verifications(redis, lesson_id)
    await finish(api, teacher_headers, lesson_id)
    # an answer after the finish but before the persistence still counts
    response = await answer(api, found[answered.school_number][0], {"result": "verified"})
    assert response.status_code == 200, response.text
    live_audit = await audit(api, teacher_headers, lesson_id)

    await persist(api, lesson_id)
    records = await roll_by_student(api, teacher_headers, lesson_id)
    assert records[answered.school_number]["status"] == "present"
    assert records[silent.school_number]["status"] == "rejected"
    assert records[silent.school_number]["reason"] == "verification_timeout"
    assert records[silent.school_number]["changed_by"] is None
    entries = await audit(api, teacher_headers, lesson_id)
    assert entries[: len(live_audit)] == live_audit
    assert [
        (e["student_number"], e["source"], e["changed_by"], e["old_status"], e["new_status"])
        for e in entries[len(live_audit) :]
    ] == [(silent.school_number, "system", None, "pending", "rejected")]
    assert entries[-1]["reason"] == "verification_timeout"
    # the lesson is persisted: the verification is gone
    late = await answer(api, found[silent.school_number][0], {"result": "verified"})
    assert late.status_code == 404
    assert error_code(late) == "verification_not_found"
    own = await api.client.get(f"/student/lessons/{lesson_id}/attendance", headers=silent_headers)
    assert (own.json()["status"], own.json()["reason"]) == ("rejected", "verification_timeout")
    again = await join(api, silent_headers, lesson_id)
    assert again.status_code == 200
    assert again.json()["status"] == "rejected"


async def test_an_unreachable_verifier_leaves_the_record_pending(
    make_api: Callable[..., Any], redis: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verification_service, "_RETRY_DELAYS", (0.0, 0.0, 0.0))
    async with make_api(VERIFIER_URL=VERIFIER_URL, VERIFIER_SECRET=SECRET) as api:
        lesson, teacher_headers, [(student, _)] = await pending_lesson(api)
        lesson_id = lesson["lesson_id"]
        [record] = await roll(api, teacher_headers, lesson_id)
        assert record["status"] == "pending"
        verification_id, _, state = (await verifications(redis, lesson_id))[student.school_number]
        assert state == "open"
        # the verifier may still answer later
        response = await answer(api, verification_id, {"result": "verified"})
        assert response.status_code == 200
        assert response.json()["record"]["status"] == "present"


async def test_verification_without_a_configured_verifier_is_refused(api: Api) -> None:
    _, headers = await api.user_headers("teacher")
    response = await api.client.post(
        "/teacher/lessons",
        json={"lesson_name": "X", "duration_minutes": 5, "security": ["verification"]},
        headers=headers,
    )
    assert response.status_code == 422
    assert detail_type(response) == "verification_unavailable"
    stranger = await answer(api, "0" * 48, {"result": "verified"})
    assert stranger.status_code == 401
    assert error_code(stranger) == "invalid_signature"


# --- corrections -----------------------------------------------------------------------------


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


async def test_invalid_corrections_are_422_and_change_nothing(api: Api) -> None:
    lesson, teacher_headers, [(student, _)] = await joined_lesson(api, 1)
    lesson_id, number = lesson["lesson_id"], student.school_number
    before = await roll(api, teacher_headers, lesson_id)

    response = await correct(api, teacher_headers, lesson_id, number, {"status": "rejected"})
    assert response.status_code == 422
    assert error_code(response) == "validation_error"
    assert detail_type(response) == "reason_required"
    response = await correct(
        api, teacher_headers, lesson_id, number, {"status": "rejected", "reason": None}
    )
    assert response.status_code == 422
    assert detail_type(response) == "reason_required"
    response = await correct(api, teacher_headers, lesson_id, number, {"status": "pending"})
    assert response.status_code == 422
    assert detail_type(response) == "status_not_allowed"
    for body in (
        {"status": "rejected", "reason": "   "},
        {"status": "rejected", "reason": "x" * 501},
        {"status": "rejected", "reason": "bad\u0000reason"},
        {"status": "gone"},
        {},
        {"status": "present", "changed_by": "someone"},
    ):
        response = await correct(api, teacher_headers, lesson_id, number, body)
        assert response.status_code == 422, (body, response.text)
        assert error_code(response) == "validation_error"
    assert await roll(api, teacher_headers, lesson_id) == before
    assert await audit(api, teacher_headers, lesson_id) == []


async def test_corrections_live_and_after_persistence_are_audited(api: Api, clock: Clock) -> None:
    lesson, teacher_headers, joined = await joined_lesson(api, 4)
    lesson_id = lesson["lesson_id"]
    teacher_number = lesson["teacher_school_number"]
    a, b, c, d = (user.school_number for user, _ in joined)
    joined_roll = await roll_by_student(api, teacher_headers, lesson_id)
    assert await attendee_count(api, teacher_headers, lesson_id) == 4

    steps = [
        (a, "rejected", "someone else's phone"),
        (b, "excused", "medical note"),
        (c, "absent", None),
        (d, "late", None),
        (a, "present", None),  # accepted after all
    ]
    expected_audit = []
    previous = dict.fromkeys((a, b, c, d), "present")
    for number, status, reason in steps:
        clock.advance(seconds=1)
        body = {"status": status} if reason is None else {"status": status, "reason": reason}
        response = await correct(api, teacher_headers, lesson_id, number, body)
        assert response.status_code == 200, response.text
        record = response.json()
        assert (record["status"], record["reason"], record["changed_by"]) == (
            status,
            reason,
            teacher_number,
        )
        changed_at = datetime.fromisoformat(record["changed_at"])
        assert abs(changed_at - clock()) < timedelta(seconds=1)
        # a correction never moves the check-in time
        assert record["attendance_time"] == joined_roll[number]["attendance_time"]
        expected_audit.append(
            {
                "lesson_id": lesson_id,
                "student_number": number,
                "changed_by": teacher_number,
                "source": "teacher",
                "changed_at": record["changed_at"],
                "old_status": previous[number],
                "new_status": status,
                "reason": reason,
            }
        )
        previous[number] = status
    assert await audit(api, teacher_headers, lesson_id) == expected_audit
    live_roll = await roll(api, teacher_headers, lesson_id)
    assert {r["student_number"]: r["status"] for r in live_roll} == {
        a: "present",
        b: "excused",
        c: "absent",
        d: "late",
    }
    # attendee_count counts records that are not absent
    assert await attendee_count(api, teacher_headers, lesson_id) == 3
    [c_headers] = [headers for user, headers in joined if user.school_number == c]
    own = await api.client.get(f"/student/lessons/{lesson_id}/attendance", headers=c_headers)
    assert own.json()["status"] == "absent"

    await finish(api, teacher_headers, lesson_id)
    live_lesson = (
        await api.client.get(f"/teacher/lessons/{lesson_id}", headers=teacher_headers)
    ).json()
    await persist(api, lesson_id)
    # no roster and nothing pending: the sweep adds nothing to the trail
    assert await audit(api, teacher_headers, lesson_id) == expected_audit
    assert await roll(api, teacher_headers, lesson_id) == live_roll
    persisted_lesson = (
        await api.client.get(f"/teacher/lessons/{lesson_id}", headers=teacher_headers)
    ).json()
    assert persisted_lesson == live_lesson
    assert persisted_lesson["attendee_count"] == 3

    # corrections after persistence
    for number, status, reason in ((c, "excused", "came back with a note"), (d, "rejected", "x")):
        clock.advance(seconds=1)
        response = await correct(
            api, teacher_headers, lesson_id, number, {"status": status, "reason": reason}
        )
        assert response.status_code == 200, response.text
        record = response.json()
        assert (record["status"], record["reason"], record["changed_by"]) == (
            status,
            reason,
            teacher_number,
        )
        expected_audit.append(
            {
                "lesson_id": lesson_id,
                "student_number": number,
                "changed_by": teacher_number,
                "source": "teacher",
                "changed_at": record["changed_at"],
                "old_status": previous[number],
                "new_status": status,
                "reason": reason,
            }
        )
        previous[number] = status
    assert await audit(api, teacher_headers, lesson_id) == expected_audit
    persisted_roll = await roll_by_student(api, teacher_headers, lesson_id)
    assert {number: r["status"] for number, r in persisted_roll.items()} == {
        a: "present",
        b: "excused",
        c: "excused",
        d: "rejected",
    }
    assert persisted_roll[d]["reason"] == "x"
    assert await attendee_count(api, teacher_headers, lesson_id) == 4
    own = await api.client.get(f"/student/lessons/{lesson_id}/attendance", headers=c_headers)
    assert own.json()["status"] == "excused"
    history = (await api.client.get("/student/attendance", headers=c_headers)).json()
    assert [(item["lesson_id"], item["status"]) for item in history] == [(lesson_id, "excused")]
    # a decision after persistence survives a retried join
    again = await join(api, c_headers, lesson_id)
    assert again.status_code == 200
    assert again.json() == persisted_roll[c]


async def test_corrections_of_someone_elses_lesson_or_an_unknown_record_are_404(
    api: Api,
) -> None:
    lesson, teacher_headers, [(student, student_headers)] = await joined_lesson(api, 1)
    lesson_id, number = lesson["lesson_id"], student.school_number
    _, stranger = await api.user_headers("teacher")
    other_student, _ = await api.user_headers("student")

    async def check(stage: str) -> None:
        for response in (
            await correct(api, stranger, lesson_id, number, {"status": "excused"}),
            await correct(api, stranger, lesson_id, number, {"status": "rejected", "reason": "r"}),
            await api.client.get(f"/teacher/lessons/{lesson_id}/audit", headers=stranger),
            await add(api, stranger, lesson_id, {"student_number": other_student.school_number}),
            await correct(api, teacher_headers, "0" * 32, number, {"status": "excused"}),
            await correct(api, teacher_headers, "not-an-id", number, {"status": "excused"}),
            await api.client.get("/teacher/lessons/not-an-id/audit", headers=teacher_headers),
        ):
            assert response.status_code == 404, (stage, response.text)
            assert error_code(response) == "lesson_not_found", stage
        for unknown in (other_student.school_number, "NOBODY1"):
            response = await correct(api, teacher_headers, lesson_id, unknown, {"status": "late"})
            assert response.status_code == 404, (stage, response.text)
            assert error_code(response) == "record_not_found", stage
        response = await correct(api, student_headers, lesson_id, number, {"status": "late"})
        assert response.status_code == 403, stage
        response = await correct(api, teacher_headers, lesson_id, "bad number!", {"status": "late"})
        assert response.status_code == 422, stage
        assert await audit(api, teacher_headers, lesson_id) == []
        [record] = await roll(api, teacher_headers, lesson_id)
        assert (record["status"], record["changed_by"]) == ("present", None)

    await check("live")
    await finish(api, teacher_headers, lesson_id)
    await persist(api, lesson_id)
    await check("persisted")


async def concurrent_corrections(
    api: Api, teacher_headers: Headers, lesson_id: str, number: str, start_status: str
) -> None:
    statuses = ["excused", "absent", "late", "present", "rejected"]
    before = len(await audit(api, teacher_headers, lesson_id))
    responses = await asyncio.gather(
        *(
            correct(
                api,
                teacher_headers,
                lesson_id,
                number,
                {"status": statuses[i % len(statuses)], "reason": f"reason {i}"},
            )
            for i in range(10)
        )
    )
    for response in responses:
        assert response.status_code in (200, 409), response.text
        if response.status_code == 409:
            assert error_code(response) == "record_changed"
    succeeded = [response.json() for response in responses if response.status_code == 200]
    assert succeeded, "at least one correction must win"
    entries = (await audit(api, teacher_headers, lesson_id))[before:]
    assert len(entries) == len(succeeded)
    assert sorted((e["new_status"], e["reason"]) for e in entries) == sorted(
        (r["status"], r["reason"]) for r in succeeded
    )
    # the changes happened one after the other: each starts from the one before
    olds = [e["old_status"] for e in entries]
    news = [start_status] + [e["new_status"] for e in entries[:-1]]
    assert olds == news, entries
    [record] = [
        r for r in await roll(api, teacher_headers, lesson_id) if r["student_number"] == number
    ]
    assert (record["status"], record["reason"]) == (
        entries[-1]["new_status"],
        entries[-1]["reason"],
    )
    expected_count = 0 if record["status"] == "absent" else 1
    assert await attendee_count(api, teacher_headers, lesson_id) == expected_count


async def test_concurrent_corrections_of_one_live_record(api: Api) -> None:
    lesson, teacher_headers, [(student, _)] = await joined_lesson(api, 1)
    await concurrent_corrections(
        api, teacher_headers, lesson["lesson_id"], student.school_number, "present"
    )


async def test_concurrent_corrections_of_one_persisted_record(api: Api) -> None:
    lesson, teacher_headers, [(student, _)] = await joined_lesson(api, 1)
    lesson_id = lesson["lesson_id"]
    await finish(api, teacher_headers, lesson_id)
    await persist(api, lesson_id)
    await concurrent_corrections(api, teacher_headers, lesson_id, student.school_number, "present")


# --- adding a student who could not join ------------------------------------------------------


async def test_a_teacher_adds_a_student_live_and_after_persistence(api: Api, clock: Clock) -> None:
    lesson, teacher_headers, [(joined_student, _)] = await joined_lesson(api, 1)
    lesson_id = lesson["lesson_id"]
    teacher_number = lesson["teacher_school_number"]
    added_student, added_headers = await api.user_headers("student")
    assert await attendee_count(api, teacher_headers, lesson_id) == 1

    clock.advance(seconds=1)
    response = await add(
        api, teacher_headers, lesson_id, {"student_number": added_student.school_number}
    )
    assert response.status_code == 201, response.text
    record = response.json()
    assert record["student_number"] == added_student.school_number
    assert record["student_full_name"] == added_student.full_name
    assert (record["status"], record["changed_by"], record["reason"]) == (
        "present",
        teacher_number,
        None,
    )
    assert record["attendance_time"] is not None and record["changed_at"] is not None
    assert await attendee_count(api, teacher_headers, lesson_id) == 2
    records = await roll_by_student(api, teacher_headers, lesson_id)
    assert records[added_student.school_number] == record
    history = (await api.client.get("/student/attendance", headers=added_headers)).json()
    assert [(item["lesson_id"], item["status"]) for item in history] == [(lesson_id, "present")]
    # the added student's own join now returns the teacher's record
    own_join = await join(api, added_headers, lesson_id)
    assert own_join.status_code == 200
    assert own_join.json() == record
    assert await audit(api, teacher_headers, lesson_id) == [
        {
            "lesson_id": lesson_id,
            "student_number": added_student.school_number,
            "changed_by": teacher_number,
            "source": "teacher",
            "changed_at": record["changed_at"],
            "old_status": None,
            "new_status": "present",
            "reason": None,
        }
    ]

    _, someone_teacher = await api.user_headers("teacher")
    someone_teacher_number = (await api.client.get("/auth/me", headers=someone_teacher)).json()[
        "user"
    ]["school_number"]

    async def refusals(stage: str) -> None:
        for number in (added_student.school_number, joined_student.school_number):
            again = await add(api, teacher_headers, lesson_id, {"student_number": number})
            assert again.status_code == 409, (stage, again.text)
            assert error_code(again) == "record_exists", stage
        for number in ("NOBODY42", someone_teacher_number):
            unknown = await add(api, teacher_headers, lesson_id, {"student_number": number})
            assert unknown.status_code == 404, (stage, unknown.text)
            assert error_code(unknown) == "student_not_found", stage
        for body in (
            {"student_number": "bad number!"},
            {},
            {"student_number": "S1", "status": "pending"},
            {"student_number": "S1", "status": "rejected"},
        ):
            invalid = await add(api, teacher_headers, lesson_id, body)
            assert invalid.status_code == 422, (stage, body, invalid.text)

    await refusals("live")
    assert await attendee_count(api, teacher_headers, lesson_id) == 2
    live_audit = await audit(api, teacher_headers, lesson_id)
    assert len(live_audit) == 1

    await finish(api, teacher_headers, lesson_id)
    # finished but not yet persisted: still possible, and persisted with the rest
    between, _ = await api.user_headers("student")
    response = await add(api, teacher_headers, lesson_id, {"student_number": between.school_number})
    assert response.status_code == 201, response.text
    records[between.school_number] = response.json()
    live_audit = await audit(api, teacher_headers, lesson_id)
    assert len(live_audit) == 2
    await persist(api, lesson_id)
    assert await audit(api, teacher_headers, lesson_id) == live_audit
    assert await roll_by_student(api, teacher_headers, lesson_id) == records
    assert await attendee_count(api, teacher_headers, lesson_id) == 3

    late_student, late_headers = await api.user_headers("student")
    response = await add(
        api,
        teacher_headers,
        lesson_id,
        {"student_number": late_student.school_number, "status": "excused", "reason": "sick"},
    )
    assert response.status_code == 201, response.text
    late_record = response.json()
    assert (late_record["status"], late_record["reason"], late_record["changed_by"]) == (
        "excused",
        "sick",
        teacher_number,
    )
    assert late_record["student_full_name"] == late_student.full_name
    assert await attendee_count(api, teacher_headers, lesson_id) == 4
    assert (await roll_by_student(api, teacher_headers, lesson_id))[
        late_student.school_number
    ] == late_record
    history = (await api.client.get("/student/attendance", headers=late_headers)).json()
    assert [(item["lesson_id"], item["status"]) for item in history] == [(lesson_id, "excused")]
    own = await api.client.get(f"/student/lessons/{lesson_id}/attendance", headers=late_headers)
    assert own.status_code == 200
    assert own.json() == late_record
    entries = await audit(api, teacher_headers, lesson_id)
    assert entries[:2] == live_audit
    assert [
        (e["student_number"], e["old_status"], e["new_status"], e["reason"]) for e in entries[2:]
    ] == [(late_student.school_number, None, "excused", "sick")]
    await refusals("persisted")
    again = await add(
        api, teacher_headers, lesson_id, {"student_number": late_student.school_number}
    )
    assert again.status_code == 409
    assert error_code(again) == "record_exists"
    assert len(await audit(api, teacher_headers, lesson_id)) == 3


async def concurrent_adds(api: Api, teacher_headers: Headers, lesson_id: str) -> None:
    student, _ = await api.user_headers("student")
    before = await audit(api, teacher_headers, lesson_id)
    count = await attendee_count(api, teacher_headers, lesson_id)
    responses = await asyncio.gather(
        *(
            add(api, teacher_headers, lesson_id, {"student_number": student.school_number})
            for _ in range(5)
        )
    )
    codes = sorted(response.status_code for response in responses)
    assert codes == [201, 409, 409, 409, 409], [r.text for r in responses]
    assert all(error_code(r) == "record_exists" for r in responses if r.status_code == 409)
    entries = (await audit(api, teacher_headers, lesson_id))[len(before) :]
    assert [(e["student_number"], e["old_status"]) for e in entries] == [
        (student.school_number, None)
    ]
    assert await attendee_count(api, teacher_headers, lesson_id) == count + 1


async def test_concurrent_adds_of_one_student_make_one_record(api: Api) -> None:
    lesson, teacher_headers, _ = await joined_lesson(api, 1)
    lesson_id = lesson["lesson_id"]
    await concurrent_adds(api, teacher_headers, lesson_id)
    await finish(api, teacher_headers, lesson_id)
    await persist(api, lesson_id)
    await concurrent_adds(api, teacher_headers, lesson_id)


# --- rosters -----------------------------------------------------------------------------------

ROSTER_CSV = (
    "\ufeffschool_number,full_name\r\n"
    'R1001,"Kaya, Elif"\r\n'
    'R1002,"Yılmaz, Ahmet ""Ace"""\r\n'
    "\r\n"
    "R1003,Zeynep Demir\r\n"
    'R1004,"Öztürk, Can"\r\n'
)
ROSTER_STUDENTS = [
    {"school_number": "R1001", "full_name": "Kaya, Elif"},
    {"school_number": "R1002", "full_name": 'Yılmaz, Ahmet "Ace"'},
    {"school_number": "R1003", "full_name": "Zeynep Demir"},
    {"school_number": "R1004", "full_name": "Öztürk, Can"},
]


async def put_roster(api: Api, headers: Headers, course: str, body: str | bytes) -> httpx.Response:
    return await api.client.put(
        f"/teacher/rosters/{course}",
        content=body.encode() if isinstance(body, str) else body,
        headers={**headers, "Content-Type": "text/csv"},
    )


async def test_invalid_rosters_are_refused_and_store_nothing(api: Api) -> None:
    _, headers = await api.user_headers("teacher")
    bad: dict[str, str | bytes] = {
        "bad header": "number,name\r\nR1,Ann\r\n",
        "header with a third column": "school_number,full_name,role\r\nR1,Ann,x\r\n",
        "empty": "",
        "duplicate row": "school_number,full_name\r\nR1,Ann\r\nR2,Bob\r\nR1,Ann\r\n",
        "bad school number": "school_number,full_name\r\nR1,Ann\r\n-R2,Bob\r\n",
        "school number with a space": "school_number,full_name\r\nR 2,Bob\r\n",
        "three columns": "school_number,full_name\r\nR1,Ann,extra\r\n",
        "empty name": "school_number,full_name\r\nR1,   \r\n",
        "not utf-8": "school_number,full_name\r\nR1,Gül\r\n".encode("latin-1"),
    }
    for what, body in bad.items():
        response = await put_roster(api, headers, "Algorithms", body)
        assert response.status_code == 422, (what, response.text)
        assert error_code(response) == "validation_error", what
        assert detail_type(response) == "invalid_roster", what
        got = await api.client.get("/teacher/rosters/Algorithms", headers=headers)
        assert got.status_code == 404, what
        assert error_code(got) == "roster_not_found"
    assert (await api.client.get("/teacher/rosters", headers=headers)).json() == []

    # a bad upload does not touch a roster that is already there
    good = await put_roster(api, headers, "Algorithms", ROSTER_CSV)
    assert good.status_code == 200, good.text
    for what, body in bad.items():
        response = await put_roster(api, headers, "Algorithms", body)
        assert response.status_code == 422, what
    got = await api.client.get("/teacher/rosters/Algorithms", headers=headers)
    assert got.status_code == 200
    assert got.json() == {**good.json(), "students": ROSTER_STUDENTS}


async def test_roster_put_get_list_delete(api: Api, clock: Clock) -> None:
    _, headers = await api.user_headers("teacher")
    _, stranger = await api.user_headers("teacher")
    _, student_headers = await api.user_headers("student")
    response = await put_roster(api, headers, "Algorithms", ROSTER_CSV)
    assert response.status_code == 200, response.text
    roster = response.json()
    assert roster["course"] == "Algorithms"
    assert sorted(roster["students"], key=lambda s: s["school_number"]) == ROSTER_STUDENTS
    updated_at = datetime.fromisoformat(roster["updated_at"])
    assert abs(updated_at - clock()) < timedelta(seconds=2)

    for course in ("Algorithms", "ALGORITHMS", "  algorithms "):
        got = await api.client.get(f"/teacher/rosters/{course}", headers=headers)
        assert got.status_code == 200, course
        assert got.json()["students"] == ROSTER_STUDENTS
        assert got.json()["course"] == "Algorithms"
    listed = await api.client.get("/teacher/rosters", headers=headers)
    assert listed.json() == [
        {"course": "Algorithms", "student_count": 4, "updated_at": roster["updated_at"]}
    ]
    # rosters are per teacher
    assert (await api.client.get("/teacher/rosters", headers=stranger)).json() == []
    hidden = await api.client.get("/teacher/rosters/Algorithms", headers=stranger)
    assert hidden.status_code == 404
    assert (
        await api.client.delete("/teacher/rosters/Algorithms", headers=stranger)
    ).status_code == 404
    assert (await api.client.get("/teacher/rosters", headers=student_headers)).status_code == 403

    # a PUT replaces the whole roster
    clock.advance(seconds=5)
    replaced = await put_roster(api, headers, "algorithms", "school_number,full_name\nR9,Nine\n")
    assert replaced.status_code == 200, replaced.text
    got = (await api.client.get("/teacher/rosters/Algorithms", headers=headers)).json()
    assert got["students"] == [{"school_number": "R9", "full_name": "Nine"}]
    listed = (await api.client.get("/teacher/rosters", headers=headers)).json()
    assert [(item["course"], item["student_count"]) for item in listed] == [("algorithms", 1)]

    deleted = await api.client.delete("/teacher/rosters/ALGORITHMS", headers=headers)
    assert deleted.status_code == 204
    assert deleted.content == b""
    for response in (
        await api.client.get("/teacher/rosters/Algorithms", headers=headers),
        await api.client.delete("/teacher/rosters/Algorithms", headers=headers),
    ):
        assert response.status_code == 404
        assert error_code(response) == "roster_not_found"
    assert (await api.client.get("/teacher/rosters", headers=headers)).json() == []


async def test_a_lesson_of_a_rostered_course_flags_outsiders_and_marks_absentees(
    api: Api,
) -> None:
    teacher, headers = await api.user_headers("teacher")
    assert (await put_roster(api, headers, "Algorithms", ROSTER_CSV)).status_code == 200
    # R1001 and R1002 have accounts; R1003 and R1004 exist only on the roster
    on_roster, on_roster_headers = await api.user_headers(
        "student", school_number="R1001", full_name="Elif Kaya"
    )
    _, absentee_headers = await api.user_headers(
        "student", school_number="R1002", full_name="Ahmet Yılmaz"
    )
    outsider, outsider_headers = await api.user_headers("student")

    lesson = await start(api, headers, lesson_name="algorithms")
    lesson_id = lesson["lesson_id"]
    # a roster change after the start does not affect this lesson
    late_roster = ROSTER_CSV + "R1005,Added Later\r\n"
    assert (await put_roster(api, headers, "Algorithms", late_roster)).status_code == 200

    inside = await join(api, on_roster_headers, lesson_id)
    assert inside.status_code == 201
    assert inside.json()["flags"] == []
    outside = await join(api, outsider_headers, lesson_id)
    assert outside.status_code == 201
    assert outside.json()["status"] == "present"
    assert outside.json()["flags"] == ["not_on_roster"]
    # a roster student without an account, added by the teacher: the name comes from the roster
    added = await add(api, headers, lesson_id, {"student_number": "R1004"})
    assert added.status_code == 201, added.text
    assert added.json()["student_full_name"] == "Öztürk, Can"
    assert await attendee_count(api, headers, lesson_id) == 3
    live_audit = await audit(api, headers, lesson_id)
    assert [(e["student_number"], e["source"]) for e in live_audit] == [("R1004", "teacher")]

    await finish(api, headers, lesson_id)
    await persist(api, lesson_id)
    records = await roll(api, headers, lesson_id)
    by_number = {record["student_number"]: record for record in records}
    assert set(by_number) == {"R1001", "R1002", "R1003", "R1004", outsider.school_number}
    for number in ("R1002", "R1003"):
        assert by_number[number]["status"] == "absent"
        assert by_number[number]["attendance_time"] is None
        assert by_number[number]["changed_by"] is None
    assert by_number["R1003"]["student_full_name"] == "Zeynep Demir"
    assert by_number[outsider.school_number]["flags"] == ["not_on_roster"]
    assert by_number["R1001"]["flags"] == []
    assert by_number["R1001"]["student_full_name"] == on_roster.full_name
    # ordered by attendance time, records without one last
    assert [r["student_number"] for r in records[-2:]] == ["R1002", "R1003"]
    assert all(r["attendance_time"] is not None for r in records[:-2])

    entries = await audit(api, headers, lesson_id)
    assert entries[: len(live_audit)] == live_audit
    assert [
        (e["student_number"], e["source"], e["changed_by"], e["old_status"], e["new_status"])
        for e in entries[len(live_audit) :]
    ] == [
        ("R1002", "system", None, None, "absent"),
        ("R1003", "system", None, None, "absent"),
    ]
    # attendee_count leaves the absentees out
    assert await attendee_count(api, headers, lesson_id) == 3
    listed = (await api.client.get("/teacher/lessons", headers=headers)).json()
    assert [(item["lesson_id"], item["attendee_count"]) for item in listed] == [(lesson_id, 3)]
    history = (await api.client.get("/student/attendance", headers=absentee_headers)).json()
    assert [(item["lesson_id"], item["status"], item["attendance_time"]) for item in history] == [
        (lesson_id, "absent", None)
    ]
    # the absentee's excuse arrives later
    excused = await correct(
        api, headers, lesson_id, "R1002", {"status": "excused", "reason": "note"}
    )
    assert excused.status_code == 200
    assert await attendee_count(api, headers, lesson_id) == 4

    # after the roster is deleted, a new lesson of the course flags nobody and marks nobody
    assert (
        await api.client.delete("/teacher/rosters/Algorithms", headers=headers)
    ).status_code == 204
    second = await start(api, headers, lesson_name="Algorithms")
    outside = await join(api, outsider_headers, second["lesson_id"])
    assert outside.json()["flags"] == []
    await finish(api, headers, second["lesson_id"])
    await persist(api, second["lesson_id"])
    assert [r["student_number"] for r in await roll(api, headers, second["lesson_id"])] == [
        outsider.school_number
    ]
    assert await audit(api, headers, second["lesson_id"]) == []
    assert teacher.school_number == lesson["teacher_school_number"]


# --- end to end: attn serve with attn fake-verifier -----------------------------------------


def base_environment(tmp_path: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("ATTN_")}
    env.update(ATTN_DATA_DIR=str(tmp_path / "data"), ATTN_VERIFIER_SECRET=SECRET)
    return env


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

            async def up() -> bool:
                try:
                    server_up = (await client.get(f"{base}/healthz")).status_code == 200
                    verifier_up = (await client.get(f"{verifier_base}/requests")).status_code
                    return server_up and verifier_up == 200
                except httpx.TransportError:
                    return False

            await wait_for(up, 30)

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
