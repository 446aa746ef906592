"""The words of the bad-input tests: the one error shape every refusal must have, a snapshot
of everything in Redis to compare before and after a request, and the `World` of users and a
lesson that each refused request is checked against.

Bad input never gives a 500 and never writes half a change: a refusal carries the contract's
error shape, `{"error": {"code", "message"}}`, with the exact status and code, and leaves
Redis exactly as it was, the same keys with the same contents.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import redis.asyncio as aioredis

from attn.models import NewAccount
from tests.support.api import Api
from tests.support.redis_cluster import all_keys

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")


JSON = {"Content-Type": "application/json"}


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
    for key in sorted(await all_keys(redis, "*")):
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


def lesson_body(**fields: Any) -> bytes:
    body: dict[str, Any] = {"lesson_name": "Databases", "duration_minutes": 30}
    body.update(fields)
    return json.dumps({k: v for k, v in body.items() if v is not ...}).encode()
