"""Odd searches (`GET /student/lessons`): missing or oversized names are 422; names that
match nothing are an empty list, never an error."""

from __future__ import annotations

import pytest

from tests.support.refusals import World, assert_error, snapshot

SEARCH_REFUSALS: dict[str, str] = {
    "no-parameters": "",
    "missing-lesson-name": "teacher_name=Grace+Hopper",
    "missing-teacher-name": "lesson_name=Algorithms",
    "empty-lesson-name": "lesson_name=&teacher_name=Grace+Hopper",
    "empty-teacher-name": "lesson_name=Algorithms&teacher_name=",
    "10k-lesson-name": "lesson_name=" + "a" * 10_000 + "&teacher_name=Grace+Hopper",
    "10k-teacher-name": "lesson_name=Algorithms&teacher_name=" + "g" * 10_000,
}


@pytest.mark.parametrize("query", SEARCH_REFUSALS.values(), ids=SEARCH_REFUSALS.keys())
async def test_search_refuses_missing_or_oversized_parameters(world: World, query: str) -> None:
    before = await snapshot(world.redis)
    response = await world.client.get(f"/student/lessons?{query}", headers=world.student)
    assert_error(response, 422, "validation_error")
    await world.assert_untouched(before)


SEARCH_NOTHING: dict[str, str] = {
    "blank-names": "lesson_name=%20%20&teacher_name=%09",
    "nul": "lesson_name=Algo%00rithms&teacher_name=Grace+Hopper",
    "only-nul": "lesson_name=%00&teacher_name=%00",
    "escape": "lesson_name=%1B%5B2J&teacher_name=Grace+Hopper",
    "rtl-override": "lesson_name=%E2%80%AEsmhtiroglA&teacher_name=Grace+Hopper",
    "invalid-utf8": "lesson_name=%FF%FE&teacher_name=%C0%AF",
    "braces": "lesson_name=%7Bl%3A0%7D&teacher_name=%7Bu%3AT1%7D",
    "glob": "lesson_name=*&teacher_name=*",
    "1000-chars": "lesson_name=" + "a" * 1000 + "&teacher_name=" + "g" * 1000,
}


@pytest.mark.parametrize("query", SEARCH_NOTHING.values(), ids=SEARCH_NOTHING.keys())
async def test_search_with_odd_names_finds_nothing(world: World, query: str) -> None:
    """Names that match no lesson are a plain empty list, never an error."""
    before = await snapshot(world.redis)
    response = await world.client.get(f"/student/lessons?{query}", headers=world.student)
    assert response.status_code == 200, response.text
    assert response.json() == []
    await world.assert_untouched(before)
    found = await world.client.get(
        "/student/lessons",
        params={"lesson_name": " algorithms ", "teacher_name": "GRACE   hopper"},
        headers=world.student,
    )
    assert found.status_code == 200, found.text
    assert [lesson["lesson_id"] for lesson in found.json()] == [world.lesson["lesson_id"]]
