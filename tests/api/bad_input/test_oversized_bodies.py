"""Bodies over the size limit are 413, whether declared with Content-Length or streamed in
chunks, on every write route, and write nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from tests.support.refusals import JSON, World, assert_error, lesson_path, snapshot

TWO_MB = 2 * 1024 * 1024


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
