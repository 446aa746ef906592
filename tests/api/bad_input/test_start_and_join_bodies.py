"""Bad bodies of starting a lesson (`POST /teacher/lessons`) and of a join
(`POST /student/lessons/{id}/attendance`): refused as 422, nothing written; the boundaries are
accepted."""

from __future__ import annotations

import pytest

from tests.support.refusals import JSON, MALFORMED_JSON, World, assert_error, lesson_body, snapshot

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
