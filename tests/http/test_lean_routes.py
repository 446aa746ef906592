"""The lean handler of the join and `GET /auth/me` (`attn.api.lean`) answers exactly as the
FastAPI routes do: the same status, headers and body for the same request, refusals
included. Two apps on the same stores, one with `ATTN_LEAN_ROUTES=false`, are asked the same
requests and their answers compared byte for byte."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from tests.support.api import Api


@pytest.fixture
async def apps(make_api: Callable[..., Any]) -> AsyncIterator[tuple[Api, Api]]:
    async with make_api() as lean, make_api(LEAN_ROUTES=False) as plain:
        yield lean, plain


def answer(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body; each request's own id (`X-Request-ID`) is only there."""
    headers = [
        (name, "<id>" if name == "x-request-id" else value)
        for name, value in response.headers.multi_items()
    ]
    assert ("x-request-id", "<id>") in headers
    return response.status_code, headers, response.content


async def both(apps: tuple[Api, Api], method: str, path: str, **kwargs: Any) -> httpx.Response:
    """The lean app's answer, after checking that the plain app gives the same."""
    lean, plain = apps
    plain_answer = await plain.client.request(method, path, **kwargs)
    lean_answer = await lean.client.request(method, path, **kwargs)
    assert answer(lean_answer) == answer(plain_answer), (method, path, kwargs)
    return lean_answer


def bearer(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


async def test_me_answers_as_the_route_does(apps: tuple[Api, Api]) -> None:
    lean, _ = apps
    _, student = await lean.user_headers("student", full_name="Öğrenci Çağla Şahin")
    _, teacher = await lean.user_headers("teacher")
    token = bearer(student)
    ok = await both(apps, "GET", "/auth/me", headers=student)
    assert ok.status_code == 200
    assert ok.json()["user"]["full_name"] == "Öğrenci Çağla Şahin"
    assert (await both(apps, "GET", "/auth/me", headers=teacher)).status_code == 200
    assert (await both(apps, "GET", "/auth/me?any=thing", headers=student)).status_code == 200
    for refused in (
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": f"Basic {token}"},
        {"Authorization": f"bearer  {token}x"},
        {"Authorization": "Bearer S1.nope"},
        {"Authorization": "Bearer not a token"},
        {"Authorization": token},
    ):
        assert (await both(apps, "GET", "/auth/me", headers=refused)).status_code == 401
    # other methods and forms of the path are the routes' as before
    assert (await both(apps, "POST", "/auth/me", headers=student)).status_code == 405
    assert (await both(apps, "GET", "/auth/me/", headers=student)).status_code in (307, 404)


async def test_join_refusals_are_the_routes(apps: tuple[Api, Api]) -> None:
    lean, _ = apps
    _, teacher = await lean.user_headers("teacher")
    _, student = await lean.user_headers("student")
    lesson = (await lean.start_lesson(teacher))["lesson_id"]
    path = f"/student/lessons/{lesson}/attendance"
    too_long = "x" * (lean.app.settings.MAX_BODY_BYTES + 1)
    for headers, kwargs, status in (
        ({}, {"json": {}}, 401),
        ({"Authorization": "Bearer S1.nope"}, {"json": {}}, 401),
        ({"Authorization": "Basic abc"}, {}, 401),
        (teacher, {"json": {}}, 403),
        (student, {"content": b"{not json"}, 422),
        (student, {"json": {"code": "1" * 33}}, 422),
        (student, {"json": [1, 2]}, 422),
        (student, {"json": "code"}, 422),
        (
            {**student, "Content-Type": "application/json"},
            {"content": b'{"code": 12}'},
            422,
        ),
        ({**student, "Content-Type": "text/plain"}, {"content": b"{}"}, 422),
        ({}, {"content": b"{not json"}, 401),
        (student, {"content": too_long}, 413),
        (teacher, {"content": too_long}, 413),
    ):
        response = await both(apps, "POST", path, headers=headers, **kwargs)
        assert response.status_code in (status, 200), (headers, kwargs, response.text)
    for wrong_id in ("nope", "L" * 300, "x%2Fy"):
        response = await both(
            apps, "POST", f"/student/lessons/{wrong_id}/attendance", headers=student, json={}
        )
        assert response.status_code == 404, response.text
    missing = lesson[:-4] + ("0000" if not lesson.endswith("0000") else "1111")
    response = await both(
        apps, "POST", f"/student/lessons/{missing}/attendance", headers=student, json={}
    )
    assert response.status_code == 404, response.text


async def test_a_lean_join_is_the_routes_record(apps: tuple[Api, Api]) -> None:
    lean, plain = apps
    _, teacher = await lean.user_headers("teacher")
    _, first = await lean.user_headers("student")
    _, second = await lean.user_headers("student")
    lesson = (await lean.start_lesson(teacher))["lesson_id"]
    path = f"/student/lessons/{lesson}/attendance"
    # one joins through the lean handler, the other through the route; each rejoins through
    # the other: the same record, the same headers
    for joins, rejoins, headers in ((lean, plain, first), (plain, lean, second)):
        created = await joins.client.post(path, headers=headers, json={})
        assert created.status_code == 201, created.text
        again = await rejoins.client.post(path, headers=headers)
        assert again.status_code == 200, again.text
        assert again.content == created.content
        assert answer(again)[1] == answer(created)[1]
        assert created.headers["content-type"] == "application/json"
        assert created.headers["x-content-type-options"] == "nosniff"
    roll = await lean.client.get(f"/teacher/lessons/{lesson}/records", headers=teacher)
    assert len(roll.json()) == 2


async def test_a_lesson_with_a_code_refuses_alike(apps: tuple[Api, Api]) -> None:
    lean, _ = apps
    _, teacher = await lean.user_headers("teacher")
    _, student = await lean.user_headers("student")
    started = await lean.client.post(
        "/teacher/lessons",
        json={"lesson_name": "Coded", "duration_minutes": 60, "security": ["code"]},
        headers=teacher,
    )
    assert started.status_code == 201, started.text
    path = f"/student/lessons/{started.json()['lesson_id']}/attendance"
    # two bodies, each sent to both apps: four wrong codes, below the lock-out's five
    for body in ({"code": "000000"}, None):
        response = await both(apps, "POST", path, headers=student, json=body)
        assert response.status_code == 403, response.text
