"""Authentication and roles on every route: a missing, malformed, revoked or replaced token is
401, the wrong role 403, and who may call is answered before what was sent."""

from __future__ import annotations

import pytest

from tests.support.refusals import JSON, World, assert_error, lesson_body, lesson_path, snapshot

AUTH_ROUTES: dict[str, tuple[str, str, bytes | None, str | None]] = {
    "logout": ("POST", "/auth/logout", None, None),
    "me": ("GET", "/auth/me", None, None),
    "start-lesson": ("POST", "/teacher/lessons", lesson_body(), "teacher"),
    "teacher-lessons": ("GET", "/teacher/lessons?limit=10", None, "teacher"),
    "teacher-get": ("GET", "/teacher/lessons/{id}", None, "teacher"),
    "teacher-finish": ("POST", "/teacher/lessons/{id}/finish", None, "teacher"),
    "teacher-records": ("GET", "/teacher/lessons/{id}/records", None, "teacher"),
    "search": (
        "GET",
        "/student/lessons?lesson_name=Algorithms&teacher_name=Grace+Hopper",
        None,
        "student",
    ),
    "join": ("POST", "/student/lessons/{id}/attendance", b"{}", "student"),
    "student-record": ("GET", "/student/lessons/{id}/attendance", None, "student"),
    "student-attendance": ("GET", "/student/attendance", None, "student"),
}


def malformed_authorizations(world: World) -> dict[str, str | None]:
    valid = world.owner["Authorization"].removeprefix("Bearer ")
    number, _, secret = valid.rpartition(".")
    other_number = world.teacher["Authorization"].removeprefix("Bearer ").rpartition(".")[0]
    return {
        "missing": None,
        "empty": "",
        "bearer-only": "Bearer",
        "bearer-space": "Bearer ",
        "bearer-x": "Bearer x",
        "basic": "Basic abc",
        "basic-with-valid-token": f"Basic {valid}",
        "token-without-scheme": valid,
        "braces": "Bearer {abc}",
        "braces-in-number": f"Bearer {{u:{number}}}.{secret}",
        "hash-tag-number": f"Bearer {number}}}.{secret}",
        "tampered-secret": f"Bearer {number}.{secret[:-1]}{'A' if secret[-1] != 'A' else 'B'}",
        "secret-only": f"Bearer {secret}",
        "number-only": f"Bearer {number}.",
        "other-users-number": f"Bearer {other_number}.{secret}",
        "two-tokens": f"Bearer {valid} {valid}",
        "10k-token": "Bearer " + "a" * 10_000,
    }


@pytest.mark.parametrize(
    ("method", "template", "body", "role"), AUTH_ROUTES.values(), ids=AUTH_ROUTES.keys()
)
async def test_missing_or_malformed_token_is_401(
    world: World, method: str, template: str, body: bytes | None, role: str | None
) -> None:
    path = lesson_path(template, world.lesson["lesson_id"])
    before = await snapshot(world.redis)
    problems = []
    for name, authorization in malformed_authorizations(world).items():
        headers = dict(JSON)
        if authorization is not None:
            headers["Authorization"] = authorization
        response = await world.client.request(method, path, content=body, headers=headers)
        try:
            assert_error(response, 401, "not_authenticated")
        except AssertionError as exc:
            problems.append(f"{name}: {exc}")
    assert not problems, "\n".join(problems)
    await world.assert_untouched(before)
    await world.assert_can_still_write()


async def test_revoked_and_replaced_tokens_are_401(world: World) -> None:
    old = dict(world.student)
    await world.api.login(world.student_user)  # replaces the session: `old` is dead
    response = await world.client.get("/auth/me", headers=old)
    assert_error(response, 401, "not_authenticated")
    new = await world.api.login(world.student_user)
    assert (await world.client.post("/auth/logout", headers=new)).status_code == 204
    before = await snapshot(world.redis)
    for headers in (old, new):
        join = await world.client.post(
            f"/student/lessons/{world.lesson['lesson_id']}/attendance", json={}, headers=headers
        )
        assert_error(join, 401, "not_authenticated")
    assert await snapshot(world.redis) == before


@pytest.mark.parametrize(
    ("method", "template", "body", "role"),
    [route for route in AUTH_ROUTES.values() if route[3] is not None],
    ids=[name for name, route in AUTH_ROUTES.items() if route[3] is not None],
)
async def test_wrong_role_is_403(
    world: World, method: str, template: str, body: bytes | None, role: str
) -> None:
    path = lesson_path(template, world.lesson["lesson_id"])
    wrong = world.student if role == "teacher" else world.owner
    before = await snapshot(world.redis)
    response = await world.client.request(method, path, content=body, headers={**wrong, **JSON})
    assert_error(response, 403, "forbidden")
    await world.assert_untouched(before)
    await world.assert_can_still_write()


BAD_BODIES = {
    "malformed": b"{bad",
    "not-utf8": b'{"lesson_name": "\xff\xfe"}',
    "wrong-shape": b"[]",
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
@pytest.mark.parametrize(
    "path", ["/teacher/lessons", "/student/lessons/{id}/attendance"], ids=["start", "join"]
)
async def test_who_may_call_is_answered_before_what_was_sent(
    world: World, path: str, body: bytes
) -> None:
    """401 and 403 come before a 422 for the body: a caller without the right to the route
    learns nothing about what it would accept."""
    path = lesson_path(path, world.lesson["lesson_id"])
    wrong = world.owner if "student" in path else world.student
    before = await snapshot(world.redis)
    for headers, status, code in (
        ({}, 401, "not_authenticated"),
        ({"Authorization": "Bearer S1.not-a-token"}, 401, "not_authenticated"),
        (wrong, 403, "forbidden"),
    ):
        response = await world.client.post(path, content=body, headers={**headers, **JSON})
        assert_error(response, status, code)
    right = world.student if "student" in path else world.teacher
    response = await world.client.post(path, content=body, headers={**right, **JSON})
    assert_error(response, 422, "validation_error")
    await world.assert_untouched(before)
