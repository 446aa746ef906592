"""Course rosters: uploaded as CSV and refused whole when any row is bad, kept per teacher;
a lesson of a rostered course flags outsiders, and marks absent the roster students without a
record when it is persisted."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from tests.support.api import Api, Headers
from tests.support.clock import Clock
from tests.support.corrections import (
    add,
    attendee_count,
    audit,
    correct,
    detail_type,
    error_code,
    finish,
    join,
    lesson_counts,
    persist,
    roll,
    start,
)

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
    # attendee_count is the students who attended: the absentees are counted apart
    assert await attendee_count(api, headers, lesson_id) == 3
    assert (await lesson_counts(api, headers, lesson_id))["absent"] == 2
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
    counts = await lesson_counts(api, headers, lesson_id)
    assert (counts["attended"], counts["excused"], counts["absent"]) == (3, 1, 1)

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
