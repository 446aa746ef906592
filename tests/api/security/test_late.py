"""Late status: a join more than `late_after_minutes` after the start is late, to the
millisecond; the setting is validated."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.check_in import assert_error, join, start, started
from tests.support.clock import FrozenClock


@pytest.mark.parametrize(
    ("late_after", "after", "expected"),
    [
        (5, timedelta(0), "present"),
        (5, timedelta(minutes=4, seconds=59), "present"),
        (5, timedelta(minutes=5), "present"),
        (5, timedelta(minutes=5, milliseconds=1), "late"),
        (5, timedelta(minutes=6), "late"),
        (0, timedelta(0), "present"),
        (0, timedelta(seconds=1), "late"),
        (None, timedelta(minutes=59), "present"),
    ],
)
async def test_late_after_minutes(
    api: Api,
    teacher: Any,
    student: Any,
    clock: FrozenClock,
    late_after: int | None,
    after: timedelta,
    expected: str,
) -> None:
    lesson = await started(api, teacher[1], late_after_minutes=late_after)
    assert lesson["late_after_minutes"] == late_after
    clock.advance(microseconds=after // timedelta(microseconds=1))
    response = await join(api, lesson["lesson_id"], student[1])
    assert response.status_code == 201, response.text
    assert response.json()["status"] == expected
    own = await api.client.get(
        f"/student/lessons/{lesson['lesson_id']}/attendance", headers=student[1]
    )
    assert own.json()["status"] == expected
    roll = await api.client.get(
        f"/teacher/lessons/{lesson['lesson_id']}/records", headers=teacher[1]
    )
    assert [record["status"] for record in roll.json()] == [expected]


async def test_late_after_minutes_is_validated(api: Api, teacher: Any) -> None:
    for late_after in [-1, 721, 5.0, 5.5, "5", True]:
        response = await start(api, teacher[1], late_after_minutes=late_after)
        assert_error(response, 422, "validation_error")
