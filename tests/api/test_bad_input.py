"""Bad input never gives a 500 and never writes half a change.

Every refusal must carry the contract's error shape, `{"error": {"code", "message"}}`, with
the exact status and code, and leave Redis exactly as it was: the same keys with the same
contents. After each refused write the tests also check through the API that nothing
happened and that the same write, done properly, still succeeds.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import redis.asyncio as aioredis

from attn.db import users
from attn.models import NewAccount
from tests.conftest import PASSWORD, Api

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
JSON = {"Content-Type": "application/json"}
TWO_MB = 2 * 1024 * 1024

# --- helpers ------------------------------------------------------------------------------


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    """The exact status and code, in the contract's one error shape."""
    request = f"{response.request.method} {response.request.url}"
    assert response.status_code == status, f"{request}: {response.status_code} {response.text}"
    assert response.headers["content-type"].startswith("application/json"), request
    body = response.json()
    assert isinstance(body, dict), body
    assert set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error, dict), body
    assert {"code", "message"} <= set(error) <= {"code", "message", "details"}, body
    assert isinstance(error["code"], str), body
    assert SNAKE_CASE.fullmatch(error["code"]), body
    assert error["code"] == code, f"{request}: {body}"
    assert isinstance(error["message"], str), body
    assert error["message"].strip(), body


async def snapshot(redis: aioredis.Redis) -> dict[str, Any]:
    """Every key with its type and contents, to compare before and after a request."""
    state: dict[str, Any] = {}
    for key in sorted(await redis.keys("*")):
        kind = await redis.type(key)
        value: Any
        if kind == "string":
            value = await redis.get(key)
        elif kind == "hash":
            value = await redis.hgetall(key)
        elif kind == "set":
            value = sorted(await redis.smembers(key))
        elif kind == "zset":
            value = await redis.zrange(key, 0, -1, withscores=True)
        elif kind == "list":
            value = await redis.lrange(key, 0, -1)
        else:
            value = kind
        state[key] = (kind, value)
    return state


def lesson_path(template: str, lesson_id: str) -> str:
    """A lesson route with the id sent as one path segment, percent-encoded as a client would."""
    return template.replace("{id}", quote(lesson_id, safe=""))


@dataclass
class World:
    """An owner teacher with an active lesson, a second teacher with none, a student."""

    api: Api
    redis: aioredis.Redis
    owner: dict[str, str]
    teacher: dict[str, str]
    student: dict[str, str]
    student_user: NewAccount
    lesson: dict[str, Any]

    @property
    def client(self) -> httpx.AsyncClient:
        return self.api.client

    def headers(self, role: str) -> dict[str, str]:
        return {"teacher": self.teacher, "owner": self.owner, "student": self.student}[role]

    async def assert_untouched(self, before: dict[str, Any]) -> None:
        """Redis is exactly as before, and the API agrees that nothing happened."""
        assert await snapshot(self.redis) == before
        lesson_id = self.lesson["lesson_id"]
        got = await self.client.get(f"/teacher/lessons/{lesson_id}", headers=self.owner)
        assert got.status_code == 200, got.text
        assert got.json()["status"] == "active"
        assert got.json()["attendee_count"] == 0
        roll = await self.client.get(f"/teacher/lessons/{lesson_id}/records", headers=self.owner)
        assert roll.status_code == 200, roll.text
        assert roll.json() == []
        mine = await self.client.get("/teacher/lessons", headers=self.teacher)
        assert mine.status_code == 200, mine.text
        assert mine.json() == []
        attended = await self.client.get("/student/attendance", headers=self.student)
        assert attended.status_code == 200, attended.text
        assert attended.json() == []
        for headers in (self.owner, self.teacher, self.student):
            me = await self.client.get("/auth/me", headers=headers)
            assert me.status_code == 200, me.text

    async def assert_can_still_write(self) -> None:
        """The writes that were refused go through when done properly."""
        started = await self.client.post(
            "/teacher/lessons",
            json={"lesson_name": "Compilers", "duration_minutes": 45},
            headers=self.teacher,
        )
        assert started.status_code == 201, started.text
        joined = await self.client.post(
            f"/student/lessons/{self.lesson['lesson_id']}/attendance",
            json={},
            headers=self.student,
        )
        assert joined.status_code == 201, joined.text
        assert joined.json()["student_number"] == self.student_user.school_number


_password_hash: list[str] = []


async def add_accounts(api: Api, *accounts: tuple[str, str]) -> list[NewAccount]:
    """Accounts with PASSWORD, hashed once per run: what `Api.add_user` stores, only faster."""
    if not _password_hash:
        _password_hash.append(await api.context.hasher.hash(PASSWORD))
    entries = [
        NewAccount(
            school_number=f"{role[0].upper()}{secrets.token_hex(4)}",
            full_name=full_name,
            role=role,  # type: ignore[arg-type]
            password=PASSWORD,
        )
        for role, full_name in accounts
    ]
    async with api.context.db() as session, session.begin():
        await users.add_users(
            session=session,
            users=[
                users.NewUser(e.school_number, e.full_name, e.role.value, _password_hash[0])
                for e in entries
            ],
        )
    return entries


@pytest.fixture
async def world(make_api: Callable[..., Any], redis: aioredis.Redis) -> AsyncIterator[World]:
    # Three hashing threads, so that the three logins run side by side.
    async with make_api(PASSWORD_HASH_THREADS=3) as api:
        accounts = await add_accounts(
            api, ("teacher", "Grace Hopper"), ("teacher", "Alan Turing"), ("student", "Ada Byron")
        )
        owner, teacher, student = await asyncio.gather(*(api.login(user) for user in accounts))
        lesson = await api.start_lesson(owner, lesson_name="Algorithms", duration_minutes=60)
        yield World(api, redis, owner, teacher, student, accounts[2], lesson)


# --- POST /auth/login ----------------------------------------------------------------------

LOGIN_NUMBER = "S9000001"

MALFORMED_JSON: dict[str, bytes] = {
    "truncated": b'{"school_number": "S1", ',
    "empty": b"",
    "not-json": b"school_number=S1&password=x",
    "trailing-comma": b'{"a": 1,}',
    "single-quotes": b"{'a': 1}",
    "bare-word": b"nope",
    "invalid-utf8": b'{"school_number": "\xff\xfe", "password": "x"}',
    "deeply-nested": b"[" * 30_000 + b"]" * 30_000,
    "5000-digit-number": b'{"school_number": ' + b"9" * 5000 + b', "password": "x"}',
}


def login_body(**fields: Any) -> bytes:
    body = {"school_number": LOGIN_NUMBER, "password": PASSWORD}
    body.update(fields)
    return json.dumps({k: v for k, v in body.items() if v is not ...}).encode()


LOGIN_REFUSALS: dict[str, tuple[bytes, int, str]] = {
    **{f"malformed-{k}": (v, 422, "validation_error") for k, v in MALFORMED_JSON.items()},
    "array": (b"[]", 422, "validation_error"),
    "string": (b'"S9000001"', 422, "validation_error"),
    "null": (b"null", 422, "validation_error"),
    "number": (b"1", 422, "validation_error"),
    "missing-both": (b"{}", 422, "validation_error"),
    "missing-number": (login_body(school_number=...), 422, "validation_error"),
    "missing-password": (login_body(password=...), 422, "validation_error"),
    "number-int": (login_body(school_number=9000001), 422, "validation_error"),
    "number-null": (login_body(school_number=None), 422, "validation_error"),
    "number-list": (login_body(school_number=[LOGIN_NUMBER]), 422, "validation_error"),
    "password-int": (login_body(password=123456), 422, "validation_error"),
    "password-bool": (login_body(password=True), 422, "validation_error"),
    "password-object": (login_body(password={"p": PASSWORD}), 422, "validation_error"),
    # Correct credentials do not excuse an unknown field: no session is opened.
    "unknown-field": (login_body(role="admin"), 422, "validation_error"),
    "empty-number": (login_body(school_number=""), 422, "validation_error"),
    "empty-password": (login_body(password=""), 422, "validation_error"),
    "10k-number": (login_body(school_number="S" * 10_000), 422, "validation_error"),
    "10k-password": (login_body(password="p" * 10_000), 422, "validation_error"),
    # Well-formed requests naming nobody: the same 401 as for a wrong password, and no
    # failure counter is kept for a school number that cannot exist.
    "blank-number": (login_body(school_number="   "), 401, "invalid_credentials"),
    "nul-number": (login_body(school_number="S9000001\x00"), 422, "validation_error"),
    "esc-number": (login_body(school_number="\x1b[2J"), 422, "validation_error"),
    "rtl-override-number": (login_body(school_number="\u202e1000009S"), 422, "validation_error"),
    "braces-number": (login_body(school_number="{u:S9000001}"), 401, "invalid_credentials"),
    # A lone surrogate is not text: it can be neither hashed nor stored.
    "lone-surrogate-password": (
        b'{"school_number": "S9000001", "password": "\\ud800"}',
        422,
        "validation_error",
    ),
    "lone-surrogate-number": (
        b'{"school_number": "S900\\udfff", "password": "x"}',
        422,
        "validation_error",
    ),
}


@pytest.mark.parametrize(
    ("body", "status", "code"), LOGIN_REFUSALS.values(), ids=LOGIN_REFUSALS.keys()
)
async def test_login_refuses_bad_body(
    api: Api, redis: aioredis.Redis, body: bytes, status: int, code: str
) -> None:
    [user] = await add_accounts(api, ("student", "Ada Byron"))
    body = body.replace(LOGIN_NUMBER.encode(), user.school_number.encode())
    before = await snapshot(redis)
    assert before == {}

    response = await api.client.post("/auth/login", content=body, headers=JSON)

    assert_error(response, status, code)
    assert await snapshot(redis) == {}, "a refused login wrote to Redis"
    await api.login(user)  # not locked out, and logging in still works


# --- POST /teacher/lessons -----------------------------------------------------------------


def lesson_body(**fields: Any) -> bytes:
    body: dict[str, Any] = {"lesson_name": "Databases", "duration_minutes": 30}
    body.update(fields)
    return json.dumps({k: v for k, v in body.items() if v is not ...}).encode()


BAD_NAMES: dict[str, str] = {
    "empty": "",
    "space": " ",
    "whitespace": " \t\n\r ",
    "ideographic-space": "\u3000",
    "201-chars": "x" * 201,
    "10k-chars": "x" * 10_000,
    "nul": "Data\x00bases",
    "only-nul": "\x00",
    "escape": "\x1b[31mDatabases",
    "rtl-override": "\u202esesabataD",
    "zero-width-only": "\u200b",
    "bell": "Databases\x07",
    "del": "Databases\x7f",
    "line-separator-only": "\u2028",
}

START_REFUSALS: dict[str, bytes] = {
    **{f"malformed-{k}": v for k, v in MALFORMED_JSON.items()},
    "array": b"[]",
    "string": b'"Databases"',
    "null": b"null",
    "number": b"30",
    "empty-object": b"{}",
    "missing-name": lesson_body(lesson_name=...),
    "missing-duration": lesson_body(duration_minutes=...),
    "unknown-field": lesson_body(teacher_school_number="T1"),
    "unknown-field-status": lesson_body(status="finished"),
    "duration-string": lesson_body(duration_minutes="30"),
    "duration-float": lesson_body(duration_minutes=30.5),
    "duration-true": lesson_body(duration_minutes=True),
    "duration-null": lesson_body(duration_minutes=None),
    "duration-list": lesson_body(duration_minutes=[30]),
    "duration-zero": lesson_body(duration_minutes=0),
    "duration-negative": lesson_body(duration_minutes=-5),
    "duration-721": lesson_body(duration_minutes=721),
    "duration-huge": lesson_body(duration_minutes=10**30),
    "duration-nan": b'{"lesson_name": "Databases", "duration_minutes": NaN}',
    "duration-infinity": b'{"lesson_name": "Databases", "duration_minutes": Infinity}',
    "duration-1e400": b'{"lesson_name": "Databases", "duration_minutes": 1e400}',
    "name-int": lesson_body(lesson_name=42),
    "name-null": lesson_body(lesson_name=None),
    "name-list": lesson_body(lesson_name=["Databases"]),
    "name-object": lesson_body(lesson_name={"en": "Databases"}),
    "name-lone-surrogate": b'{"lesson_name": "Data\\ud800bases", "duration_minutes": 30}',
    **{f"name-{k}": lesson_body(lesson_name=v) for k, v in BAD_NAMES.items()},
}


@pytest.mark.parametrize("body", START_REFUSALS.values(), ids=START_REFUSALS.keys())
async def test_start_lesson_refuses_bad_body(world: World, body: bytes) -> None:
    before = await snapshot(world.redis)

    response = await world.client.post(
        "/teacher/lessons", content=body, headers={**world.teacher, **JSON}
    )

    assert_error(response, 422, "validation_error")
    await world.assert_untouched(before)
    await world.assert_can_still_write()


@pytest.mark.parametrize(
    ("lesson_name", "duration_minutes"),
    [("x" * 200, 720), ("A", 1), ("  Spaced   out  ", 30)],
    ids=["200-chars-720-min", "1-char-1-min", "surrounding-space"],
)
async def test_start_lesson_accepts_the_boundaries(
    world: World, lesson_name: str, duration_minutes: int
) -> None:
    """The refusals above are refusals of bad input, not of everything."""
    response = await world.client.post(
        "/teacher/lessons",
        json={"lesson_name": lesson_name, "duration_minutes": duration_minutes},
        headers=world.teacher,
    )
    assert response.status_code == 201, response.text
    assert response.json()["lesson_name"] == " ".join(lesson_name.split())


async def test_a_json_body_without_content_type_is_read_as_json(world: World) -> None:
    """Some clients send JSON with no Content-Type at all; the API takes it (bearer tokens
    are not sent by browsers on their own, so this opens no cross-site request)."""
    response = await world.client.post(
        "/teacher/lessons", content=lesson_body(), headers=world.teacher
    )
    assert response.status_code == 201, response.text


async def test_start_lesson_with_text_plain_is_refused(world: World) -> None:
    before = await snapshot(world.redis)
    response = await world.client.post(
        "/teacher/lessons",
        content=lesson_body(),
        headers={**world.teacher, "Content-Type": "text/plain"},
    )
    assert response.status_code in (415, 422), response.text
    assert_error(
        response,
        response.status_code,
        {415: "unsupported_media_type", 422: "validation_error"}[response.status_code],
    )
    await world.assert_untouched(before)
    await world.assert_can_still_write()


# --- POST /student/lessons/{id}/attendance --------------------------------------------------

JOIN_REFUSALS: dict[str, bytes] = {
    **{f"malformed-{k}": v for k, v in MALFORMED_JSON.items() if k != "empty"},
    "array": b"[]",
    "string": b'"join"',
    "number": b"1",
    "true": b"true",
    "unknown-field": b'{"status": "excused"}',
    "unknown-field-student": b'{"student_number": "S1"}',
    "unknown-field-time": b'{"attendance_time": "2000-01-01T00:00:00Z"}',
}


@pytest.mark.parametrize("body", JOIN_REFUSALS.values(), ids=JOIN_REFUSALS.keys())
async def test_join_refuses_bad_body(world: World, body: bytes) -> None:
    before = await snapshot(world.redis)
    lesson_id = world.lesson["lesson_id"]

    response = await world.client.post(
        f"/student/lessons/{lesson_id}/attendance",
        content=body,
        headers={**world.student, **JSON},
    )

    assert_error(response, 422, "validation_error")
    own = await world.client.get(f"/student/lessons/{lesson_id}/attendance", headers=world.student)
    assert own.status_code == 404, own.text
    await world.assert_untouched(before)
    await world.assert_can_still_write()


# --- GET /student/lessons -------------------------------------------------------------------

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


# --- paginated lists ------------------------------------------------------------------------

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


# --- oversized bodies -----------------------------------------------------------------------

WRITE_ROUTES = {
    "login": ("/auth/login", None),
    "start-lesson": ("/teacher/lessons", "teacher"),
    "join": ("/student/lessons/{id}/attendance", "student"),
}


def big_json_body() -> bytes:
    """A JSON object of 2 MB: a lesson whose name is far too long."""
    body = json.dumps({"lesson_name": "x" * TWO_MB, "duration_minutes": 30}).encode()
    assert len(body) > TWO_MB
    return body


async def chunks(body: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize(("template", "role"), WRITE_ROUTES.values(), ids=WRITE_ROUTES.keys())
async def test_oversized_body_is_413(
    world: World, template: str, role: str | None, streamed: bool
) -> None:
    before = await snapshot(world.redis)
    body = big_json_body()
    headers = {**JSON, **(world.headers(role) if role else {})}
    path = lesson_path(template, world.lesson["lesson_id"])
    request = world.client.build_request(
        "POST", path, content=chunks(body) if streamed else body, headers=headers
    )
    if streamed:
        assert "content-length" not in request.headers
        assert request.headers["transfer-encoding"] == "chunked"
    else:
        assert request.headers["content-length"] == str(len(body))

    response = await world.client.send(request)

    assert_error(response, 413, "payload_too_large")
    await world.assert_untouched(before)
    await world.assert_can_still_write()


# --- lesson ids that are not ids ------------------------------------------------------------

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


# --- authentication and roles ---------------------------------------------------------------

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
