"""The verifier's webhook: a verified or rejected answer decides a pending check-in, late
joins stay late; bad signatures, stale timestamps, bad bodies and unknown ids are refused and
change nothing; without a verifier, lessons cannot ask for one."""

from __future__ import annotations

import json
import time

import redis.asyncio as aioredis

from attn.services.verification_service import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    check_signature,
    sign,
)
from tests.support.api import Api
from tests.support.clock import Clock
from tests.support.corrections import (
    SECRET,
    VerifierApi,
    answer,
    attendee_count,
    audit,
    detail_type,
    error_code,
    join,
    lesson_counts,
    pending_lesson,
    roll,
    roll_by_student,
    start,
    verifications,
)


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
    # a pending check-in is counted as pending, not yet as attended
    assert await attendee_count(api, teacher_headers, lesson_id) == 0
    assert (await lesson_counts(api, teacher_headers, lesson_id))["pending"] == 1

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
    assert (await lesson_counts(api, teacher_headers, lesson_id))["pending"] == 0


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
