"""`GET /student/lessons/search` (the looser search), `GET /student/lessons/now` (the lessons of
the caller's courses on now) and a lesson's optional room."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.api import Api, Headers
from tests.support.clock import Clock
from tests.support.corrections import finish, persist


async def start(api: Api, headers: Headers, name: str, **fields: Any) -> dict[str, Any]:
    response = await api.client.post(
        "/teacher/lessons",
        json={"lesson_name": name, "duration_minutes": 60, **fields},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    lesson: dict[str, Any] = response.json()
    return lesson


async def search(api: Api, headers: Headers, **params: str) -> httpx.Response:
    return await api.client.get("/student/lessons/search", params=params, headers=headers)


async def put_roster(api: Api, headers: Headers, course: str, numbers: list[str]) -> None:
    rows = "".join(f"{number},Student {number}\r\n" for number in numbers)
    response = await api.client.put(
        f"/teacher/rosters/{course}",
        content=f"school_number,full_name\r\n{rows}".encode(),
        headers={**headers, "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text


async def test_search_finds_by_ascii_word_prefixes_with_the_teacher_optional(
    api: Api, student: Any, clock: Clock
) -> None:
    _, ayse = await api.user_headers("teacher", full_name="Ayşe Yılmaz")
    _, mehmet = await api.user_headers("teacher", full_name="Mehmet Öz")
    fizik = await start(api, ayse, "Fizik 101", room="B-204, Şube 2")
    clock.advance(seconds=1)
    fizyoloji = await start(api, mehmet, "Fizyoloji")
    _, headers = student

    response = await search(api, headers, q="fiz")
    assert response.status_code == 200, response.text
    assert "X-ATTN-More-Results" not in response.headers
    found = response.json()
    assert [lesson["lesson_id"] for lesson in found] == [
        fizyoloji["lesson_id"],
        fizik["lesson_id"],
    ]
    # enough to tell lessons apart: teacher, start time, room (null when none was given)
    assert found[1]["teacher_full_name"] == "Ayşe Yılmaz"
    assert found[1]["room"] == "B-204, Şube 2" and found[0]["room"] is None
    assert found[1]["start_time"] == fizik["start_time"]

    for params in [
        {"q": "fiz", "teacher": "ayse yil"},
        {"q": "FIZIK", "teacher": "AYSE"},
        {"q": "101"},
        {"q": "fizik", "teacher": ""},
    ]:
        response = await search(api, headers, **params)
        assert [lesson["lesson_id"] for lesson in response.json()] == [fizik["lesson_id"]], params
    assert (await search(api, headers, q="fiz", teacher="ayse oz")).json() == []
    # the contract's exact search answers exactly as before
    exact = await api.client.get(
        "/student/lessons",
        params={"lesson_name": "fizik 101", "teacher_name": "AYŞE YILMAZ"},
        headers=headers,
    )
    assert [lesson["lesson_id"] for lesson in exact.json()] == [fizik["lesson_id"]]
    loose_in_exact = await api.client.get(
        "/student/lessons", params={"lesson_name": "fiz", "teacher_name": "ayse"}, headers=headers
    )
    assert loose_in_exact.status_code == 200 and loose_in_exact.json() == []
    # finished lessons are not found
    await finish(api, ayse, fizik["lesson_id"])
    assert (await search(api, headers, q="fizik")).json() == []


BAD_SEARCHES = {
    "no-q": {},
    "empty-q": {"q": ""},
    "blank-q": {"q": "   "},
    "no-word": {"q": "—?!"},
    "too-long-q": {"q": "a" * 201},
    "too-long-teacher": {"q": "fiz", "teacher": "a" * 201},
    "nul": {"q": "fi\x00z"},
    "escape": {"q": "\x1b[2J"},
    "rtl-override-teacher": {"q": "fiz", "teacher": "\u202eayse"},
}


@pytest.mark.parametrize("params", BAD_SEARCHES.values(), ids=BAD_SEARCHES.keys())
async def test_a_bad_search_is_422_in_the_error_shape(
    api: Api, student: Any, params: dict[str, str]
) -> None:
    _, headers = student
    response = await search(api, headers, **params)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error" and error["message"]


async def test_search_and_now_are_for_students(api: Api, teacher: Any) -> None:
    _, headers = teacher
    assert (await search(api, headers, q="fiz")).status_code == 403
    assert (await api.client.get("/student/lessons/now", headers=headers)).status_code == 403
    assert (await api.client.get("/student/lessons/now")).status_code == 401


async def test_now_lists_the_active_lessons_of_the_callers_courses(api: Api, clock: Clock) -> None:
    student, headers = await api.user_headers("student")
    outsider, outsider_headers = await api.user_headers("student")
    _, ayse = await api.user_headers("teacher", full_name="Ayşe Yılmaz")
    _, mehmet = await api.user_headers("teacher", full_name="Mehmet Öz")
    _, zeynep = await api.user_headers("teacher", full_name="Zeynep Demir")
    await put_roster(api, ayse, "Fizik 101", [student.school_number])
    await put_roster(api, mehmet, "Kimya", [student.school_number, outsider.school_number])
    await put_roster(api, zeynep, "Biyoloji", [outsider.school_number])

    async def now(who: Headers) -> list[str]:
        response = await api.client.get("/student/lessons/now", headers=who)
        assert response.status_code == 200, response.text
        return [lesson["lesson_id"] for lesson in response.json()]

    assert await now(headers) == []
    fizik = await start(api, ayse, "  FİZİK   101 ", room="A1")  # the course, however typed
    clock.advance(seconds=1)
    kimya = await start(api, mehmet, "Kimya")
    clock.advance(seconds=1)
    await start(api, zeynep, "Biyoloji")  # a course the student is not on
    assert await now(headers) == [kimya["lesson_id"], fizik["lesson_id"]]
    assert await now(outsider_headers) != []
    # another course of a rostered teacher is not one of the student's
    await finish(api, mehmet, kimya["lesson_id"])
    await start(api, mehmet, "Kimya Lab")
    assert await now(headers) == [fizik["lesson_id"]]
    got = (await api.client.get("/student/lessons/now", headers=headers)).json()
    assert got[0]["room"] == "A1" and got[0]["teacher_full_name"] == "Ayşe Yılmaz"
    # a lesson past its end is not on now
    clock.advance(seconds=3600)
    assert await now(headers) == []


ROOMS = {
    "spaces-collapsed": ("  B-204   Şube 2 ", "B-204 Şube 2"),
    "blank-is-none": ("   ", None),
    "null": (None, None),
    "100-chars": ("r" * 100, "r" * 100),
}


@pytest.mark.parametrize(("typed", "kept"), ROOMS.values(), ids=ROOMS.keys())
async def test_a_lesson_keeps_its_room_as_typed(
    api: Api, teacher: Any, typed: str | None, kept: str | None
) -> None:
    _, headers = teacher
    lesson = await start(api, headers, "Algorithms", room=typed)
    assert lesson["room"] == kept


@pytest.mark.parametrize("room", ["r" * 101, "B\x00204", "B\u200b204", 204])
async def test_a_bad_room_is_422(api: Api, teacher: Any, room: object) -> None:
    _, headers = teacher
    response = await api.client.post(
        "/teacher/lessons",
        json={"lesson_name": "Algorithms", "duration_minutes": 60, "room": room},
        headers=headers,
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"


async def test_the_room_is_kept_in_history(api: Api, teacher: Any) -> None:
    _, headers = teacher
    lesson = await start(api, headers, "Algorithms", room="Lab 3")
    await finish(api, headers, lesson["lesson_id"])
    await persist(api, lesson["lesson_id"])
    response = await api.client.get(f"/teacher/lessons/{lesson['lesson_id']}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["room"] == "Lab 3"


async def test_the_openapi_document_describes_the_search_and_now(api: Api) -> None:
    document = api.app.openapi()
    search = document["paths"]["/api/v1/student/lessons/search"]["get"]
    assert {"q", "teacher"} <= {parameter["name"] for parameter in search["parameters"]}
    assert "X-ATTN-More-Results" in search["responses"]["200"]["headers"]
    assert {"401", "403", "422"} <= set(search["responses"])
    assert {"401", "403"} <= set(
        document["paths"]["/api/v1/student/lessons/now"]["get"]["responses"]
    )
