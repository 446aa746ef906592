"""Every page form refuses the same bad input as its API twin, with nothing changed.

Each case is sent once through the JSON API and once through the page form that does the
same thing; both must answer 422, and the lesson's roll must be as it was.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from attn.models import NewAccount
from tests.support.sign_in_form import sign_in_token_of

LONG_REASON = "x" * 3000


@dataclass
class Scene:
    api: Any
    teacher: NewAccount
    teacher_headers: dict[str, str]
    student: NewAccount
    student_headers: dict[str, str]
    lesson_id: str
    teacher_page: httpx.AsyncClient
    student_page: httpx.AsyncClient


def page_client(api: Any, headers: dict[str, str]) -> httpx.AsyncClient:
    """A browser on the pages in the same session as the API client (a user has one session
    at a time; the page cookie holds the same access token)."""
    token = headers["Authorization"].removeprefix("Bearer ")
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app),
        base_url="http://testserver",
        headers={"Accept": "text/html"},
        cookies={"attn_session": token},
    )


def csrf_of(page: httpx.Response) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


@pytest.fixture
async def scene(api: Any) -> AsyncIterator[Scene]:
    teacher, teacher_headers = await api.user_headers("teacher")
    student, student_headers = await api.user_headers("student")
    lesson = await api.start_lesson(teacher_headers, lesson_name="Fizik 101")
    joined = await api.client.post(
        f"/student/lessons/{lesson['lesson_id']}/attendance", headers=student_headers
    )
    assert joined.status_code == 201
    teacher_page = page_client(api, teacher_headers)
    student_page = page_client(api, student_headers)
    try:
        yield Scene(
            api,
            teacher,
            teacher_headers,
            student,
            student_headers,
            lesson["lesson_id"],
            teacher_page,
            student_page,
        )
    finally:
        await teacher_page.aclose()
        await student_page.aclose()


async def correct_by_api(scene: Scene, form: dict[str, str]) -> httpx.Response:
    return await scene.api.client.patch(
        f"/teacher/lessons/{scene.lesson_id}/records/{scene.student.school_number}",
        json=form,
        headers=scene.teacher_headers,
    )


async def correct_by_page(scene: Scene, form: dict[str, str]) -> httpx.Response:
    page = await scene.teacher_page.get(f"/teacher/lessons/{scene.lesson_id}")
    return await scene.teacher_page.post(
        f"/teacher/lessons/{scene.lesson_id}/records/{scene.student.school_number}",
        data={"csrf": csrf_of(page), **form},
    )


async def add_by_api(scene: Scene, form: dict[str, str]) -> httpx.Response:
    return await scene.api.client.post(
        f"/teacher/lessons/{scene.lesson_id}/records", json=form, headers=scene.teacher_headers
    )


async def add_by_page(scene: Scene, form: dict[str, str]) -> httpx.Response:
    page = await scene.teacher_page.get(f"/teacher/lessons/{scene.lesson_id}")
    return await scene.teacher_page.post(
        f"/teacher/lessons/{scene.lesson_id}/add", data={"csrf": csrf_of(page), **form}
    )


async def start_by_api(scene: Scene, form: dict[str, Any]) -> httpx.Response:
    return await scene.api.client.post("/teacher/lessons", json=form, headers=scene.teacher_headers)


async def start_by_page(scene: Scene, form: dict[str, Any]) -> httpx.Response:
    page = await scene.teacher_page.get("/teacher")
    fields = {
        "lesson_name": form.get("lesson_name", "Fizik 102"),
        "duration_minutes": str(form.get("duration_minutes", 60)),
        "late_after_minutes": str(form.get("late_after_minutes", "")),
        "subnets": ",".join(form.get("allowed_subnets", [])),
        **{f"opt_{option}": "on" for option in form.get("security", [])},
    }
    return await scene.teacher_page.post("/teacher/start", data={"csrf": csrf_of(page), **fields})


async def join_by_api(scene: Scene, form: dict[str, str]) -> httpx.Response:
    return await scene.api.client.post(
        f"/student/lessons/{scene.lesson_id}/attendance", json=form, headers=scene.student_headers
    )


async def join_by_page(scene: Scene, form: dict[str, str]) -> httpx.Response:
    page = await scene.student_page.get(f"/join/{scene.lesson_id}")
    return await scene.student_page.post(
        f"/student/lessons/{scene.lesson_id}/join", data={"csrf": csrf_of(page), **form}
    )


async def login_by_api(scene: Scene, form: dict[str, str]) -> httpx.Response:
    return await scene.api.client.post("/auth/login", json=form)


async def login_by_page(scene: Scene, form: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=scene.api.app), base_url="http://testserver"
    ) as anonymous:
        token = sign_in_token_of(await anonymous.get("/login"))
        return await anonymous.post("/login", data={"sign_in_token": token, **form})


FACES = {
    "correct": (correct_by_api, correct_by_page),
    "add": (add_by_api, add_by_page),
    "start": (start_by_api, start_by_page),
    "join": (join_by_api, join_by_page),
    "login": (login_by_api, login_by_page),
}

CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("reason of 3,000 characters", "correct", {"status": "rejected", "reason": LONG_REASON}),
    ("reason with a NUL byte", "correct", {"status": "rejected", "reason": "copied\x00it"}),
    ("reason with a terminal escape", "correct", {"status": "rejected", "reason": "\x1b[31mred"}),
    ("reason of only spaces", "correct", {"status": "rejected", "reason": "   "}),
    ("rejection without a reason", "correct", {"status": "rejected"}),
    ("status the verifier owns", "correct", {"status": "pending"}),
    ("unknown status", "correct", {"status": "gone"}),
    ("student number with a slash", "add", {"student_number": "../etc"}),
    ("student number of 40 characters", "add", {"student_number": "S" * 40}),
    ("lesson name of 201 characters", "start", {"lesson_name": "F" * 201, "duration_minutes": 60}),
    ("lesson name with a NUL byte", "start", {"lesson_name": "Fizik\x00", "duration_minutes": 60}),
    ("lesson of no minutes", "start", {"lesson_name": "Fizik", "duration_minutes": 0}),
    ("lesson of 13 hours", "start", {"lesson_name": "Fizik", "duration_minutes": 780}),
    (
        "late threshold below zero",
        "start",
        {"lesson_name": "Fizik", "duration_minutes": 60, "late_after_minutes": -1},
    ),
    (
        "subnet that is not one",
        "start",
        {"lesson_name": "Fizik", "duration_minutes": 60, "allowed_subnets": ["999.1.1.1/24"]},
    ),
    ("code of 33 digits", "join", {"code": "1" * 33}),
    ("school number of 65 characters", "login", {"school_number": "S" * 65, "password": "pw"}),
    (
        "password of 1,025 characters",
        "login",
        {"school_number": "S1", "password": "p" * 1025},
    ),
]


@pytest.mark.parametrize(("face", "form"), [case[1:] for case in CASES], ids=[c[0] for c in CASES])
async def test_a_page_form_and_its_api_twin_refuse_the_same_input(
    scene: Scene, face: str, form: dict[str, Any]
) -> None:
    by_api, by_page = FACES[face]
    roll_before = await scene.api.client.get(
        f"/teacher/lessons/{scene.lesson_id}/records", headers=scene.teacher_headers
    )
    refused_by_api = await by_api(scene, form)
    assert refused_by_api.status_code == 422, refused_by_api.text
    assert refused_by_api.json()["error"]["code"] == "validation_error"
    refused_by_page = await by_page(scene, form)
    assert refused_by_page.status_code == 422, refused_by_page.text[:300]
    assert 'role="alert"' in refused_by_page.text  # the page says what is wrong
    roll_after = await scene.api.client.get(
        f"/teacher/lessons/{scene.lesson_id}/records", headers=scene.teacher_headers
    )
    assert roll_after.json() == roll_before.json()
    lessons = await scene.api.client.get("/teacher/lessons", headers=scene.teacher_headers)
    assert [lesson["lesson_id"] for lesson in lessons.json()] == [scene.lesson_id]
