"""Lesson ids that are not ids, and another teacher's lesson: `lesson_not_found` on every
lesson route, and nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.refusals import World, assert_error, lesson_path, snapshot

LESSON_ROUTES = {
    "teacher-get": ("GET", "/teacher/lessons/{id}", "owner"),
    "teacher-finish": ("POST", "/teacher/lessons/{id}/finish", "owner"),
    "teacher-records": ("GET", "/teacher/lessons/{id}/records", "owner"),
    "student-join": ("POST", "/student/lessons/{id}/attendance", "student"),
    "student-record": ("GET", "/student/lessons/{id}/attendance", "student"),
}


NOT_IDS = {
    "dot-dot-slash": "../x",
    "slash": "a/b",
    "percent-00": "%00",
    "nul": "\x00",
    "300-chars": "a" * 300,
    "braces": "{abc}",
    "hash-tag": "{l:0123456789abcdef}",
    "space": " ",
    "newline": "\n",
    "unicode": "ders-\u202e\u00e7",
    "unknown-32-hex": "0" * 32,
    "upper-hex": "A" * 32,
    "31-hex": "a" * 31,
    "33-hex": "a" * 33,
}


@pytest.mark.parametrize("lesson_id", NOT_IDS.values(), ids=NOT_IDS.keys())
async def test_lesson_id_that_is_not_an_id_is_lesson_not_found(
    world: World, lesson_id: str
) -> None:
    before = await snapshot(world.redis)
    problems = []
    for method, template, role in LESSON_ROUTES.values():
        kwargs: dict[str, Any] = {"json": {}} if method == "POST" else {}
        response = await world.client.request(
            method, lesson_path(template, lesson_id), headers=world.headers(role), **kwargs
        )
        try:
            assert_error(response, 404, "lesson_not_found")
        except AssertionError as exc:
            problems.append(str(exc).splitlines()[0])
    assert not problems, "\n".join(problems)
    await world.assert_untouched(before)


@pytest.mark.parametrize(
    ("method", "template"),
    [(m, t) for m, t, role in LESSON_ROUTES.values() if role == "owner"],
    ids=[k for k, (_, _, role) in LESSON_ROUTES.items() if role == "owner"],
)
async def test_another_teachers_lesson_is_lesson_not_found(
    world: World, method: str, template: str
) -> None:
    before = await snapshot(world.redis)
    response = await world.client.request(
        method, lesson_path(template, world.lesson["lesson_id"]), headers=world.teacher
    )
    assert_error(response, 404, "lesson_not_found")
    await world.assert_untouched(before)
