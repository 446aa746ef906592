"""The audit trail: every correction, live and after the lesson moved to SQL, is recorded
once, with who made it, when, the old and the new status and the reason."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.support.api import Api
from tests.support.clock import Clock
from tests.support.corrections import (
    attendee_count,
    audit,
    correct,
    finish,
    join,
    joined_lesson,
    persist,
    roll,
    roll_by_student,
)


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
    # attendee_count counts the students who attended: present or late
    assert await attendee_count(api, teacher_headers, lesson_id) == 2
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
    assert persisted_lesson["attendee_count"] == 2
    assert persisted_lesson["counts"] == {
        "present": 1,
        "late": 1,
        "pending": 0,
        "excused": 1,
        "rejected": 0,
        "absent": 1,
        "attended": 2,
    }

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
    assert await attendee_count(api, teacher_headers, lesson_id) == 1
    own = await api.client.get(f"/student/lessons/{lesson_id}/attendance", headers=c_headers)
    assert own.json()["status"] == "excused"
    history = (await api.client.get("/student/attendance", headers=c_headers)).json()
    assert [(item["lesson_id"], item["status"]) for item in history] == [(lesson_id, "excused")]
    # a decision after persistence survives a retried join
    again = await join(api, c_headers, lesson_id)
    assert again.status_code == 200
    assert again.json() == persisted_roll[c]
