"""Student routes: find, join (idempotent, atomic), own records; refusal rules."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from attn.tasks.sweep import sweep_attendances
from tests.support.api import Api
from tests.support.clock import Clock


async def test_find_matches_names_ignoring_case_and_spacing(api: Api, student: Any) -> None:
    _, teacher_headers = await api.user_headers("teacher", full_name="Ayşe Yılmaz")
    lesson = await api.start_lesson(teacher_headers, lesson_name="Physics 101")
    _, headers = student
    for lesson_name, teacher_name in [
        ("Physics 101", "Ayşe Yılmaz"),
        ("  physics   101 ", "AYŞE   YILMAZ"),
    ]:
        response = await api.client.get(
            "/student/lessons",
            params={"lesson_name": lesson_name, "teacher_name": teacher_name},
            headers=headers,
        )
        assert response.status_code == 200
        assert [item["lesson_id"] for item in response.json()] == [lesson["lesson_id"]]
    for lesson_name, teacher_name in [("Physics", "Ayşe Yılmaz"), ("Physics 101", "Ayşe")]:
        response = await api.client.get(
            "/student/lessons",
            params={"lesson_name": lesson_name, "teacher_name": teacher_name},
            headers=headers,
        )
        assert response.json() == []


async def test_same_named_lessons_of_namesake_teachers_are_both_found(
    api: Api, student: Any
) -> None:
    _, first_teacher = await api.user_headers("teacher", full_name="Ali Veli")
    _, second_teacher = await api.user_headers("teacher", full_name="Ali Veli")
    first = await api.start_lesson(first_teacher, lesson_name="Calculus")
    second = await api.start_lesson(second_teacher, lesson_name="Calculus")
    _, headers = student
    response = await api.client.get(
        "/student/lessons",
        params={"lesson_name": "calculus", "teacher_name": "ali veli"},
        headers=headers,
    )
    found = response.json()
    assert {item["lesson_id"] for item in found} == {first["lesson_id"], second["lesson_id"]}
    assert {item["teacher_school_number"] for item in found} == {
        first["teacher_school_number"],
        second["teacher_school_number"],
    }


async def test_search_results_page_on_request(api: Api, student: Any, clock: Clock) -> None:
    starts = []
    for _ in range(3):
        _, teacher_headers = await api.user_headers("teacher", full_name="Ayşe Kaya")
        starts.append((await api.start_lesson(teacher_headers, lesson_name="Optics"))["lesson_id"])
        clock.advance(seconds=1)
    newest_first = starts[::-1]
    _, headers = student
    search = {"lesson_name": "optics", "teacher_name": "ayşe kaya"}

    async def found(**page: int) -> list[str]:
        response = await api.client.get(
            "/student/lessons", params={**search, **page}, headers=headers
        )
        assert response.status_code == 200, response.text
        return [lesson["lesson_id"] for lesson in response.json()]

    assert await found() == newest_first
    assert await found(limit=2) == newest_first[:2]
    assert await found(limit=2, offset=2) == newest_first[2:]
    response = await api.client.get(
        "/student/lessons", params={**search, "limit": 201}, headers=headers
    )
    assert response.status_code == 422


async def test_finished_and_ended_lessons_are_not_found(
    api: Api, student: Any, clock: Clock
) -> None:
    _, teacher_headers = await api.user_headers("teacher", full_name="Ada Lovelace")
    _, other_headers = await api.user_headers("teacher", full_name="Ada Lovelace")
    finished = await api.start_lesson(teacher_headers, lesson_name="Logic")
    await api.client.post(
        f"/teacher/lessons/{finished['lesson_id']}/finish", headers=teacher_headers
    )
    await api.start_lesson(other_headers, lesson_name="Logic", duration_minutes=1)
    _, headers = student
    params = {"lesson_name": "Logic", "teacher_name": "Ada Lovelace"}
    assert (
        len((await api.client.get("/student/lessons", params=params, headers=headers)).json()) == 1
    )
    clock.advance(minutes=1)
    assert (await api.client.get("/student/lessons", params=params, headers=headers)).json() == []


async def test_a_teacher_cannot_use_student_routes(api: Api, teacher: Any) -> None:
    _, headers = teacher
    response = await api.client.get(
        "/student/lessons", params={"lesson_name": "a", "teacher_name": "b"}, headers=headers
    )
    assert response.status_code == 403
    lesson = await api.start_lesson(headers)
    response = await api.client.post(
        f"/student/lessons/{lesson['lesson_id']}/attendance", headers=headers
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


async def test_join_creates_a_complete_record_then_is_idempotent(
    api: Api, teacher: Any, student: Any, clock: Clock
) -> None:
    _, teacher_headers = teacher
    user, headers = student
    lesson = await api.start_lesson(teacher_headers)
    url = f"/student/lessons/{lesson['lesson_id']}/attendance"
    first = await api.client.post(url, headers=headers, json={})
    assert first.status_code == 201
    record = first.json()
    assert record["lesson_id"] == lesson["lesson_id"]
    assert record["student_number"] == user.school_number
    assert record["student_full_name"] == user.full_name
    assert record["status"] == "present"
    assert record["attendance_time"].endswith("Z")
    clock.advance(seconds=30)
    again = await api.client.post(url, headers=headers)
    assert again.status_code == 200
    assert again.json() == record
    own = await api.client.get(url, headers=headers)
    assert own.status_code == 200 and own.json() == record
    # after the finish a retried join still gets what the first one got
    await api.client.post(f"/teacher/lessons/{lesson['lesson_id']}/finish", headers=teacher_headers)
    after = await api.client.post(url, headers=headers)
    assert after.status_code == 200 and after.json() == record


async def test_fifty_concurrent_joins_of_one_student_leave_one_record(
    api: Api, teacher: Any, student: Any
) -> None:
    _, teacher_headers = teacher
    _, headers = student
    lesson = await api.start_lesson(teacher_headers)
    url = f"/student/lessons/{lesson['lesson_id']}/attendance"
    responses = await asyncio.gather(*(api.client.post(url, headers=headers) for _ in range(50)))
    assert sorted(r.status_code for r in responses) == [200] * 49 + [201]
    assert len({r.text for r in responses}) == 1
    roll = await api.client.get(
        f"/teacher/lessons/{lesson['lesson_id']}/records", headers=teacher_headers
    )
    assert len(roll.json()) == 1
    got = await api.client.get(f"/teacher/lessons/{lesson['lesson_id']}", headers=teacher_headers)
    assert got.json()["attendee_count"] == 1


async def test_join_racing_a_finish_is_recorded_before_it_or_refused(
    api: Api, teacher: Any
) -> None:
    _, teacher_headers = teacher
    students = [await api.user_headers("student") for _ in range(12)]
    for round_number in range(3):
        lesson = await api.start_lesson(teacher_headers, lesson_name=f"Race {round_number}")
        lesson_id = lesson["lesson_id"]
        joins = [
            api.client.post(f"/student/lessons/{lesson_id}/attendance", headers=headers)
            for _, headers in students
        ]
        finish = api.client.post(f"/teacher/lessons/{lesson_id}/finish", headers=teacher_headers)
        results = await asyncio.gather(*joins[:6], finish, *joins[6:])
        finished = results[6]
        join_results = results[:6] + results[7:]
        assert finished.status_code == 200
        assert {r.status_code for r in join_results} <= {201, 409}
        accepted = {r.json()["student_number"] for r in join_results if r.status_code == 201}
        for refused in (r for r in join_results if r.status_code == 409):
            assert refused.json()["error"]["code"] == "lesson_not_active"
        roll = await api.client.get(
            f"/teacher/lessons/{lesson_id}/records", headers=teacher_headers
        )
        assert {record["student_number"] for record in roll.json()} == accepted
        # the finish saw every record that was ever accepted: none landed after it
        assert finished.json()["attendee_count"] == len(accepted)


async def test_join_is_refused_when_finished_or_past_end(
    api: Api, teacher: Any, student: Any, clock: Clock
) -> None:
    _, teacher_headers = teacher
    _, headers = student
    lesson = await api.start_lesson(teacher_headers, duration_minutes=10)
    await api.client.post(f"/teacher/lessons/{lesson['lesson_id']}/finish", headers=teacher_headers)
    response = await api.client.post(
        f"/student/lessons/{lesson['lesson_id']}/attendance", headers=headers
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "lesson_not_active"

    ending = await api.start_lesson(teacher_headers, lesson_name="Ends", duration_minutes=10)
    clock.advance(minutes=10)
    response = await api.client.post(
        f"/student/lessons/{ending['lesson_id']}/attendance", headers=headers
    )
    assert response.status_code == 409
    history = await api.client.get("/student/attendance", headers=headers)
    assert history.json() == []


@pytest.mark.parametrize("lesson_id", ["0" * 32, "not-an-id", "ABCDEF" * 6])
async def test_unknown_lessons_are_not_found(api: Api, student: Any, lesson_id: str) -> None:
    _, headers = student
    for method in ("POST", "GET"):
        response = await api.client.request(
            method, f"/student/lessons/{lesson_id}/attendance", headers=headers
        )
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "lesson_not_found"


async def test_own_record_of_a_lesson_not_joined_is_404(
    api: Api, teacher: Any, student: Any
) -> None:
    _, teacher_headers = teacher
    _, headers = student
    lesson = await api.start_lesson(teacher_headers)
    response = await api.client.get(
        f"/student/lessons/{lesson['lesson_id']}/attendance", headers=headers
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "record_not_found"


async def test_own_record_of_a_closed_lesson_never_joined_is_lesson_not_found(
    api: Api, teacher: Any, student: Any
) -> None:
    """Once a lesson is closed to joins, a student who has no record in it cannot see it:
    the answer is the same as for a lesson that never existed, live or persisted."""
    _, teacher_headers = teacher
    _, headers = student
    lesson = await api.start_lesson(teacher_headers)
    url = f"/student/lessons/{lesson['lesson_id']}/attendance"
    finished = await api.client.post(
        f"/teacher/lessons/{lesson['lesson_id']}/finish", headers=teacher_headers
    )
    assert finished.status_code == 200
    for stage in ("finished", "persisted"):
        response = await api.client.get(url, headers=headers)
        assert response.status_code == 404, stage
        assert response.json()["error"]["code"] == "lesson_not_found", stage
        await sweep_attendances(api.context)


async def test_own_history_lists_joined_lessons_newest_first(
    api: Api, student: Any, clock: Clock
) -> None:
    user, headers = student
    lesson_ids = []
    for i in range(3):
        _, teacher_headers = await api.user_headers("teacher")
        lesson = await api.start_lesson(teacher_headers, lesson_name=f"Course {i}")
        response = await api.client.post(
            f"/student/lessons/{lesson['lesson_id']}/attendance", headers=headers
        )
        assert response.status_code == 201
        lesson_ids.append(lesson["lesson_id"])
        clock.advance(seconds=5)
    history = (await api.client.get("/student/attendance", headers=headers)).json()
    assert [item["lesson_id"] for item in history] == list(reversed(lesson_ids))
    first = history[0]
    assert first["lesson_name"] == "Course 2"
    assert first["student_number"] == user.school_number
    assert set(first) == {
        "lesson_id",
        "student_number",
        "student_full_name",
        "status",
        "attendance_time",
        "lesson_name",
        "teacher_full_name",
        "start_time",
        "reason",
        "flags",
        "changed_by",
        "changed_at",
    }
    page = (await api.client.get("/student/attendance?limit=1&offset=1", headers=headers)).json()
    assert [item["lesson_id"] for item in page] == [lesson_ids[1]]
    # another student sees none of them
    _, other = await api.user_headers("student")
    assert (await api.client.get("/student/attendance", headers=other)).json() == []
