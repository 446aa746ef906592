"""Pages of every paginated list: a bad `limit` or `offset` is 422, the boundaries are
accepted."""

from __future__ import annotations

import pytest

from tests.support.refusals import World, assert_error, snapshot

LIST_ROUTES = {
    "teacher-lessons": ("/teacher/lessons", "owner"),
    "student-attendance": ("/student/attendance", "student"),
    "roll": ("/teacher/lessons/{id}/records", "owner"),
    "search": ("/student/lessons?lesson_name=Algorithms&teacher_name=Owner", "student"),
}


def page_url(world: World, path: str, query: str) -> str:
    path = path.format(id=world.lesson["lesson_id"])
    return f"{path}{'&' if '?' in path else '?'}{query}"


BAD_PAGES = {
    "limit-201": "limit=201",
    "limit-0": "limit=0",
    "limit-negative": "limit=-1",
    "offset-negative": "offset=-1",
    "limit-text": "limit=ten",
    "limit-float": "limit=1.5",
    "offset-float": "offset=0.5",
    "limit-huge": "limit=" + "9" * 30,
    "offset-huge": "offset=" + "9" * 30,
    "limit-5000-digits": "limit=" + "9" * 5000,
    "limit-nul": "limit=%00",
}


@pytest.mark.parametrize("query", BAD_PAGES.values(), ids=BAD_PAGES.keys())
@pytest.mark.parametrize(("path", "role"), LIST_ROUTES.values(), ids=LIST_ROUTES.keys())
async def test_list_refuses_bad_page(world: World, path: str, role: str, query: str) -> None:
    before = await snapshot(world.redis)
    response = await world.client.get(page_url(world, path, query), headers=world.headers(role))
    assert_error(response, 422, "validation_error")
    await world.assert_untouched(before)


@pytest.mark.parametrize("query", ["limit=200&offset=0", "limit=1&offset=1000000000", ""])
@pytest.mark.parametrize(("path", "role"), LIST_ROUTES.values(), ids=LIST_ROUTES.keys())
async def test_list_accepts_the_page_boundaries(
    world: World, path: str, role: str, query: str
) -> None:
    response = await world.client.get(page_url(world, path, query), headers=world.headers(role))
    assert response.status_code == 200, response.text
    assert isinstance(response.json(), list)
