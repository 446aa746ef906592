"""Teacher routes: start, list, get, finish, roll; ownership and roles."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest

from attn.tasks.sweep import sweep_attendances
from tests.support.api import Api
from tests.support.clock import Clock


async def test_start_returns_an_active_lesson(api: Api, teacher: Any) -> None:
    user, headers = teacher
    lesson = await api.start_lesson(
        headers, lesson_name="  Data   Structures ", duration_minutes=45
    )
    assert lesson["status"] == "active"
    assert lesson["lesson_name"] == "Data Structures"
    assert lesson["teacher_school_number"] == user.school_number
    assert lesson["teacher_full_name"] == user.full_name
    assert lesson["attendee_count"] == 0
    start = datetime.fromisoformat(lesson["start_time"])
    end = datetime.fromisoformat(lesson["end_time"])
    assert end - start == timedelta(minutes=45)
    got = await api.client.get(f"/teacher/lessons/{lesson['lesson_id']}", headers=headers)
    assert got.json() == lesson


async def test_one_active_lesson_per_teacher(api: Api, teacher: Any) -> None:
    _, headers = teacher
    await api.start_lesson(headers)
    response = await api.client.post(
        "/teacher/lessons", json={"lesson_name": "Other", "duration_minutes": 10}, headers=headers
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "lesson_already_active"


async def test_two_concurrent_starts_leave_one_active_lesson(api: Api, teacher: Any) -> None:
    _, headers = teacher
    responses = await asyncio.gather(
        *(
            api.client.post(
                "/teacher/lessons",
                json={"lesson_name": f"L{i}", "duration_minutes": 10},
                headers=headers,
            )
            for i in range(2)
        )
    )
    assert sorted(r.status_code for r in responses) == [201, 409]
    listed = (await api.client.get("/teacher/lessons", headers=headers)).json()
    assert [lesson["status"] for lesson in listed] == ["active"]


async def test_many_concurrent_starts_leave_one_active_lesson(api: Api, teacher: Any) -> None:
    _, headers = teacher
    responses = await asyncio.gather(
        *(
            api.client.post(
                "/teacher/lessons",
                json={"lesson_name": "Same", "duration_minutes": 10},
                headers=headers,
            )
            for _ in range(20)
        )
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 19
    listed = (await api.client.get("/teacher/lessons", headers=headers)).json()
    assert len(listed) == 1


async def test_a_lesson_past_its_end_frees_the_teacher(
    api: Api, teacher: Any, clock: Clock
) -> None:
    _, headers = teacher
    first = await api.start_lesson(headers, duration_minutes=5)
    clock.advance(minutes=5)
    got = await api.client.get(f"/teacher/lessons/{first['lesson_id']}", headers=headers)
    assert got.json()["status"] == "finished"
    second = await api.start_lesson(headers, lesson_name="Next")
    listed = (await api.client.get("/teacher/lessons", headers=headers)).json()
    assert [(item["lesson_id"], item["status"]) for item in listed] == [
        (second["lesson_id"], "active"),
        (first["lesson_id"], "finished"),
    ]
    finish = await api.client.post(f"/teacher/lessons/{first['lesson_id']}/finish", headers=headers)
    assert finish.status_code == 409
    assert finish.json()["error"]["code"] == "lesson_not_active"


async def test_finish_then_start_again(api: Api, teacher: Any) -> None:
    _, headers = teacher
    lesson = await api.start_lesson(headers)
    response = await api.client.post(
        f"/teacher/lessons/{lesson['lesson_id']}/finish", headers=headers
    )
    assert response.status_code == 200
    assert response.json()["status"] == "finished"
    again = await api.client.post(f"/teacher/lessons/{lesson['lesson_id']}/finish", headers=headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "lesson_not_active"
    await api.start_lesson(headers, lesson_name="Second")
    listed = (await api.client.get("/teacher/lessons", headers=headers)).json()
    assert [item["status"] for item in listed] == ["active", "finished"]


async def test_list_is_paginated(api: Api, teacher: Any) -> None:
    _, headers = teacher
    ids = []
    for i in range(5):
        lesson = await api.start_lesson(headers, lesson_name=f"L{i}")
        ids.append(lesson["lesson_id"])
        await api.client.post(f"/teacher/lessons/{lesson['lesson_id']}/finish", headers=headers)
    newest_first = list(reversed(ids))
    page = await api.client.get("/teacher/lessons?limit=2&offset=1", headers=headers)
    assert [item["lesson_id"] for item in page.json()] == newest_first[1:3]
    everything = await api.client.get("/teacher/lessons", headers=headers)
    assert [item["lesson_id"] for item in everything.json()] == newest_first


async def test_a_student_cannot_start_or_list_lessons(api: Api, student: Any) -> None:
    _, headers = student
    response = await api.client.post(
        "/teacher/lessons", json={"lesson_name": "X", "duration_minutes": 5}, headers=headers
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert (await api.client.get("/teacher/lessons", headers=headers)).status_code == 403


async def test_another_teachers_lesson_is_not_found(api: Api, teacher: Any) -> None:
    _, owner = teacher
    _, intruder = await api.user_headers("teacher")
    lesson = await api.start_lesson(owner)
    lesson_id = lesson["lesson_id"]
    for method, path in [
        ("POST", f"/teacher/lessons/{lesson_id}/finish"),
        ("GET", f"/teacher/lessons/{lesson_id}"),
        ("GET", f"/teacher/lessons/{lesson_id}/records"),
    ]:
        response = await api.client.request(method, path, headers=intruder)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "lesson_not_found"
    # the owner's lesson is untouched
    got = await api.client.get(f"/teacher/lessons/{lesson_id}", headers=owner)
    assert got.json()["status"] == "active"


async def join_one_a_second(api: Api, clock: Clock, lesson_id: str, count: int) -> list[str]:
    """`count` new students join the lesson a second apart; their numbers in that order."""
    joined = []
    for _ in range(count):
        user, student_headers = await api.user_headers("student")
        response = await api.client.post(
            f"/student/lessons/{lesson_id}/attendance", headers=student_headers
        )
        assert response.status_code == 201
        joined.append(user.school_number)
        clock.advance(seconds=1)
    return joined


async def test_roll_is_ordered_by_attendance_time(api: Api, teacher: Any, clock: Clock) -> None:
    _, headers = teacher
    lesson = await api.start_lesson(headers)
    joined = await join_one_a_second(api, clock, lesson["lesson_id"], 4)
    roll = (
        await api.client.get(f"/teacher/lessons/{lesson['lesson_id']}/records", headers=headers)
    ).json()
    assert [record["student_number"] for record in roll] == joined
    assert all(record["status"] == "present" for record in roll)
    got = await api.client.get(f"/teacher/lessons/{lesson['lesson_id']}", headers=headers)
    assert got.json()["attendee_count"] == 4


@pytest.mark.slow  # 55 students log in
async def test_the_roll_is_whole_by_default_and_pages_on_request(
    api: Api, teacher: Any, clock: Clock
) -> None:
    """A roll comes whole (a teacher needs every record), live and persisted; `?limit=` and
    `?offset=` give a page of it, with the same bounds as every list."""
    _, headers = teacher
    lesson = await api.start_lesson(headers)
    lesson_id = lesson["lesson_id"]
    joined = await join_one_a_second(api, clock, lesson_id, 55)  # more than a default page
    url = f"/teacher/lessons/{lesson_id}/records"

    async def numbers(params: dict[str, int]) -> list[str]:
        response = await api.client.get(url, headers=headers, params=params)
        assert response.status_code == 200, response.text
        return [record["student_number"] for record in response.json()]

    async def check() -> None:
        assert await numbers({}) == joined
        assert await numbers({"limit": 10}) == joined[:10]
        assert await numbers({"limit": 10, "offset": 50}) == joined[50:]
        assert await numbers({"offset": 5}) == joined[5:]
        for bad in ({"limit": 201}, {"limit": 0}, {"offset": -1}):
            response = await api.client.get(url, headers=headers, params=bad)
            assert response.status_code == 422, bad
            assert response.json()["error"]["code"] == "validation_error"

    await check()
    finished = await api.client.post(f"/teacher/lessons/{lesson_id}/finish", headers=headers)
    assert finished.status_code == 200
    await sweep_attendances(api.context)
    assert await api.context.redis_client.get_lesson(lesson_id) is None  # now from SQL
    await check()


async def test_a_lesson_says_when_it_finished(api: Api, teacher: Any, clock: Clock) -> None:
    """`finished_at`: None while active; the finish time when its teacher finished it early,
    the end time when it lapsed; the same after the lesson moved to SQL."""
    _, headers = teacher
    early = await api.start_lesson(headers, lesson_name="Early", duration_minutes=60)
    assert early["finished_at"] is None
    clock.advance(minutes=20)
    finished = await api.client.post(
        f"/teacher/lessons/{early['lesson_id']}/finish", headers=headers
    )
    finished_at = datetime.fromisoformat(finished.json()["finished_at"])
    planned_finish = datetime.fromisoformat(early["start_time"]) + timedelta(minutes=20)
    assert abs(finished_at - planned_finish) < timedelta(seconds=5)
    assert finished.json()["end_time"] == early["end_time"]  # the plan stays as it was

    lapsed = await api.start_lesson(headers, lesson_name="Lapsed", duration_minutes=10)
    clock.advance(minutes=11)
    for stage in ("live", "persisted"):
        for lesson, expected in ((early, finished_at), (lapsed, None)):
            got = (
                await api.client.get(f"/teacher/lessons/{lesson['lesson_id']}", headers=headers)
            ).json()
            assert got["status"] == "finished", stage
            when = datetime.fromisoformat(got["finished_at"])
            assert when == (expected or datetime.fromisoformat(lesson["end_time"])), stage
        await sweep_attendances(api.context)
