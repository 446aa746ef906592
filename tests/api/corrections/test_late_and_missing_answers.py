"""Verifier answers that come too late or never: the teacher's decision outlives a late answer,
a check-in still unanswered when the lesson is persisted is rejected for timeout, and an
unreachable verifier leaves the record pending for a later answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from attn.services import verification_service
from tests.support.corrections import (
    SECRET,
    VERIFIER_URL,
    VerifierApi,
    answer,
    audit,
    correct,
    error_code,
    finish,
    join,
    pending_lesson,
    persist,
    roll,
    roll_by_student,
    verifications,
)


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
