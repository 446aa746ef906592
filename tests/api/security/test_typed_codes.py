"""What a student types as the code: spaces are forgiven; anything that is not the six ASCII
digits of this lesson's code is refused (403, or 422 when it is not a string), never with a
500, and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.check_in import (
    assert_error,
    assert_nothing_written,
    code_at,
    join,
    now_code,
    started,
    window_now,
    wrong_code,
)
from tests.support.clock import FrozenClock


@pytest.mark.parametrize(
    "spell",
    [
        lambda c: c,
        lambda c: f"{c[:3]} {c[3:]}",
        lambda c: f" {c} ",
        lambda c: f"{c[:2]} {c[2:4]} {c[4:]}",
        lambda c: f"{c[:3]}\t{c[3:]}\n",
    ],
    ids=["plain", "3-3", "padded", "2-2-2", "tab-newline"],
)
async def test_code_typed_with_spaces_is_accepted(
    api: Api, teacher: Any, student: Any, clock: FrozenClock, spell: Callable[[str], str]
) -> None:
    lesson_id = (await started(api, teacher[1], security=["code"]))["lesson_id"]
    response = await join(api, lesson_id, student[1], code=spell(now_code(api, lesson_id, clock)))
    assert response.status_code == 201, response.text


FULLWIDTH = {ord("0") + d: 0xFF10 + d for d in range(10)}


ARABIC_INDIC = {ord("0") + d: 0x0660 + d for d in range(10)}


SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


async def test_malformed_codes_are_refused_without_a_500(
    make_api: Callable[..., Any], clock: FrozenClock
) -> None:
    async with make_api(CODE_MAX_FAILURES=1000) as api:
        _, teacher = await api.user_headers("teacher")
        _, student = await api.user_headers("student")
        lesson_id = (await started(api, teacher, security=["code"]))["lesson_id"]
        right = now_code(api, lesson_id, clock)
        refused_403 = [
            "",
            "   ",
            "abcdef",
            right[:5],
            right + "0",
            "0" + right,
            right[:5] + "x",
            "-" + right[1:],
            "+" + right[1:],
            right[:3] + "." + right[3:],
            right[:3] + "-" + right[3:],
            right[:3] + "\u200b" + right[3:],  # zero-width space is not white space
            right.translate(FULLWIDTH),  # the right digits, but not ASCII ones
            right.translate(ARABIC_INDIC),
            right.translate(SUPERSCRIPT),
            "\U0001f600" * 6,
            right[:5] + "\x00",
            "1e5",
            "0x1f4e",
            "9" * 32,
            wrong_code(api, lesson_id, clock),
        ]
        for code in refused_403:
            response = await join(api, lesson_id, student, code=code)
            assert_error(response, 403, "invalid_code")
        assert_error(await join(api, lesson_id, student, code=None), 403, "invalid_code")
        for body in [int(right), [right], {"code": right}, True, "9" * 33]:
            response = await join(api, lesson_id, student, code=body)
            assert_error(response, 422, "validation_error")
        # a character outside the BMP, and a lone surrogate, sent as raw JSON escapes
        raw = await api.client.post(
            f"/student/lessons/{lesson_id}/attendance",
            content=b'{"code": "\\ud800\\udfff1"}',
            headers={**student, "Content-Type": "application/json"},
        )
        assert_error(raw, 403, "invalid_code")
        lone = await api.client.post(
            f"/student/lessons/{lesson_id}/attendance",
            content=b'{"code": "12345\\ud800"}',
            headers={**student, "Content-Type": "application/json"},
        )
        assert_error(lone, 422, "validation_error")
        await assert_nothing_written(api, teacher, lesson_id, student, 0)
        assert (await join(api, lesson_id, student, code=right)).status_code == 201


@pytest.mark.parametrize("body", ["omitted", "empty", "null"])
async def test_missing_code_is_invalid_code(
    api: Api, teacher: Any, student: Any, body: str
) -> None:
    lesson_id = (await started(api, teacher[1], security=["code"]))["lesson_id"]
    path = f"/student/lessons/{lesson_id}/attendance"
    if body == "omitted":
        response = await api.client.post(path, headers=student[1])
    elif body == "empty":
        response = await api.client.post(path, json={}, headers=student[1])
    else:
        response = await api.client.post(path, json={"code": None}, headers=student[1])
    assert_error(response, 403, "invalid_code")
    await assert_nothing_written(api, teacher[1], lesson_id, student[1], 0)


async def test_code_of_another_lesson_is_refused(
    api: Api, student: Any, clock: FrozenClock
) -> None:
    _, first_teacher = await api.user_headers("teacher")
    _, second_teacher = await api.user_headers("teacher")
    first = (await started(api, first_teacher, security=["code"]))["lesson_id"]
    second = (await started(api, second_teacher, security=["code"]))["lesson_id"]
    other = now_code(api, second, clock)
    valid = {
        code_at(api, first, window_now(api, clock)),
        code_at(api, first, window_now(api, clock) - 1),
    }
    if other not in valid:
        assert_error(await join(api, first, student[1], code=other), 403, "invalid_code")
    assert (await join(api, first, student[1], code=now_code(api, first, clock))).status_code == 201
