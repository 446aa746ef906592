"""A teacher adds a student who could not join: live, between the finish and the sweep, and
after persistence; refused for a student already there, an unknown one or a bad body; and one
record when adds race."""

from __future__ import annotations

import asyncio

from tests.support.api import Api, Headers
from tests.support.clock import Clock
from tests.support.corrections import (
    add,
    attendee_count,
    audit,
    error_code,
    finish,
    join,
    joined_lesson,
    lesson_counts,
    persist,
    roll_by_student,
)


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
    # an excused student is counted as excused, not as attended
    assert await attendee_count(api, teacher_headers, lesson_id) == 3
    assert (await lesson_counts(api, teacher_headers, lesson_id))["excused"] == 1
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
