"""The code a teacher shows: the current code and its join link, to the lesson's teacher only,
only while the lesson is active and has codes, as JSON and as a standalone SVG."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from attn.services import codes
from tests.support.api import Api
from tests.support.check_in import assert_error, join, now_code, started
from tests.support.clock import FrozenClock


async def test_code_endpoint_shows_the_current_code_and_a_join_link(
    make_api: Callable[..., Any], clock: FrozenClock
) -> None:
    async with make_api(CODE_ROTATION_SECONDS=15) as api:
        _, teacher = await api.user_headers("teacher")
        _, student = await api.user_headers("student")
        lesson = await started(api, teacher, security=["code"])
        assert lesson["security"] == ["code"]
        lesson_id = lesson["lesson_id"]
        for step in range(16):  # every second of one window, and into the next
            response = await api.client.get(f"/teacher/lessons/{lesson_id}/code", headers=teacher)
            assert response.status_code == 200, response.text
            shown = response.json()
            expected, left = codes.current_code(api.context.secret_key, lesson_id, clock(), 15)
            assert shown["code"] == expected, step
            assert len(shown["code"]) == 6 and shown["code"].isdigit()
            assert shown["valid_for_seconds"] == left
            assert 1 <= shown["valid_for_seconds"] <= 15
            assert shown["rotation_seconds"] == 15
            assert lesson_id in shown["join_url"]
            assert f"code={shown['code']}" in shown["join_url"]
            clock.advance(seconds=1)

        code = (await api.client.get(f"/teacher/lessons/{lesson_id}/code", headers=teacher)).json()[
            "code"
        ]
        joined = await join(api, lesson_id, student, code=code)
        assert joined.status_code == 201, joined.text
        assert joined.json()["status"] == "present"


async def test_code_is_the_teachers_only(api: Api, teacher: Any, student: Any) -> None:
    _, teacher_headers = teacher
    _, student_headers = student
    lesson_id = (await started(api, teacher_headers, security=["code"]))["lesson_id"]
    for path in ("code", "code.svg"):
        as_student = await api.client.get(
            f"/teacher/lessons/{lesson_id}/{path}", headers=student_headers
        )
        assert_error(as_student, 403, "forbidden")
        _, stranger = await api.user_headers("teacher")
        as_stranger = await api.client.get(f"/teacher/lessons/{lesson_id}/{path}", headers=stranger)
        assert_error(as_stranger, 404, "lesson_not_found")
        anonymous = await api.client.get(f"/teacher/lessons/{lesson_id}/{path}")
        assert_error(anonymous, 401, "not_authenticated")
    # nor does the student's view of the lesson carry anything that derives the code
    found = await api.client.get(
        "/student/lessons",
        params={"lesson_name": "Networks", "teacher_name": teacher[0].full_name},
        headers=student_headers,
    )
    assert [item["lesson_id"] for item in found.json()] == [lesson_id]
    assert "code" not in found.json()[0]
    assert "allowed_subnets" not in found.json()[0]


@pytest.mark.parametrize("path", ["code", "code.svg"])
@pytest.mark.parametrize("security", [[], ["network", "device"]])
async def test_code_of_a_lesson_without_codes_is_409(
    api: Api, teacher: Any, path: str, security: list[str]
) -> None:
    _, headers = teacher
    lesson_id = (await started(api, headers, security=security))["lesson_id"]
    response = await api.client.get(f"/teacher/lessons/{lesson_id}/{path}", headers=headers)
    assert_error(response, 409, "code_not_enabled")


@pytest.mark.parametrize("how", ["finished", "past_its_end"])
async def test_code_of_an_ended_lesson_is_not_shown_nor_accepted(
    api: Api, teacher: Any, student: Any, clock: FrozenClock, how: str
) -> None:
    _, headers = teacher
    lesson_id = (await started(api, headers, security=["code"], duration_minutes=10))["lesson_id"]
    if how == "finished":
        finished = await api.client.post(f"/teacher/lessons/{lesson_id}/finish", headers=headers)
        assert finished.status_code == 200
    else:
        clock.advance(minutes=10)
    for path in ("code", "code.svg"):
        response = await api.client.get(f"/teacher/lessons/{lesson_id}/{path}", headers=headers)
        assert_error(response, 409, "lesson_not_active")
    # the lesson's state is checked before the code: right or wrong, the join is 409
    for code in (now_code(api, lesson_id, clock), "000000x"):
        response = await join(api, lesson_id, student[1], code=code)
        assert_error(response, 409, "lesson_not_active")


async def test_code_svg_is_a_standalone_svg(api: Api, teacher: Any, clock: FrozenClock) -> None:
    _, headers = teacher
    lesson_id = (await started(api, headers, security=["code"]))["lesson_id"]
    response = await api.client.get(f"/teacher/lessons/{lesson_id}/code.svg", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.text.lstrip().startswith("<svg")
    assert response.text.rstrip().endswith("</svg>")
    rotation = api.context.settings.CODE_ROTATION_SECONDS
    left = codes.current_code(api.context.secret_key, lesson_id, clock(), rotation)[1]
    assert response.headers["cache-control"] == f"private, max-age={left}"
