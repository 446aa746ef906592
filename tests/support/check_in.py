"""The words of the check-in security tests: start a lesson with options, join it from a
given address with a code and a device, compute the codes of a window, and check that a
refused join wrote nothing.

The codes are computed here from the lesson's secret (`attn.services.codes`), so a test
knows the right code, and its near misses, for any moment of its clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from attn.services import codes
from tests.support.api import Api, Headers
from tests.support.clock import Clock
from tests.support.issued_devices import issued_device_id

DEVICE_A = "device-A-0123456789"


DEVICE_B = "device-B-0123456789"


NO_BODY = object()


@asynccontextmanager
async def client_from(api: Api, host: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the same app whose connection comes from `host`."""
    transport = httpx.ASGITransport(app=api.app, client=(host, 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver/api/v1") as c:
        yield c


async def start(
    api: Api, headers: Headers, client: httpx.AsyncClient | None = None, **fields: Any
) -> httpx.Response:
    body = {"lesson_name": "Networks", "duration_minutes": 60, **fields}
    return await (client or api.client).post("/teacher/lessons", json=body, headers=headers)


async def started(api: Api, headers: Headers, **fields: Any) -> dict[str, Any]:
    response = await start(api, headers, **fields)
    assert response.status_code == 201, response.text
    lesson: dict[str, Any] = response.json()
    return lesson


async def join(
    api: Api,
    lesson_id: str,
    headers: Headers,
    *,
    code: Any = NO_BODY,
    device: str | None = None,
    client: httpx.AsyncClient | None = None,
    extra: list[tuple[str, str]] | None = None,
) -> httpx.Response:
    sent: list[tuple[str, str]] = list(headers.items()) + (extra or [])
    if device is not None:
        sent.append(("X-ATTN-Device", issued_device_id(api, headers, device)))
    body = None if code is NO_BODY else {"code": code}
    return await (client or api.client).post(
        f"/student/lessons/{lesson_id}/attendance", json=body, headers=sent
    )


def code_at(api: Api, lesson_id: str, window: int) -> str:
    return codes.code_for_window(codes.lesson_secret(api.context.secret_key, lesson_id), window)


def window_now(api: Api, clock: Clock) -> int:
    rotation: int = api.context.settings.CODE_ROTATION_SECONDS
    return int(clock().timestamp()) // rotation


def now_code(api: Api, lesson_id: str, clock: Clock) -> str:
    rotation = api.context.settings.CODE_ROTATION_SECONDS
    return codes.current_code(api.context.secret_key, lesson_id, clock(), rotation)[0]


def wrong_codes(api: Api, lesson_id: str, clock: Clock, count: int = 1) -> list[str]:
    """Near misses: six-digit codes next to the current one that are not accepted now."""
    window = window_now(api, clock)
    accepted = {code_at(api, lesson_id, window), code_at(api, lesson_id, window - 1)}
    right = int(code_at(api, lesson_id, window))
    near = (f"{(right + step) % 10**6:06d}" for step in range(1, count + 3))
    return [code for code in near if code not in accepted][:count]


def wrong_code(api: Api, lesson_id: str, clock: Clock) -> str:
    return wrong_codes(api, lesson_id, clock)[0]


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code, response.text


async def students(api: Api, count: int) -> list[Headers]:
    return [(await api.user_headers("student"))[1] for _ in range(count)]


async def assert_nothing_written(
    api: Api, teacher_headers: Headers, lesson_id: str, student_headers: Headers, count: int
) -> None:
    lesson = await api.client.get(f"/teacher/lessons/{lesson_id}", headers=teacher_headers)
    assert lesson.json()["attendee_count"] == count
    roll = await api.client.get(f"/teacher/lessons/{lesson_id}/records", headers=teacher_headers)
    assert len(roll.json()) == count
    own = await api.client.get("/student/attendance", headers=student_headers)
    assert own.status_code == 200
    assert own.json() == []
    one = await api.client.get(f"/student/lessons/{lesson_id}/attendance", headers=student_headers)
    assert_error(one, 404, "record_not_found")
