"""Which codes a join accepts, and when: the current window's and the previous one's, to the
millisecond; never a code of two windows ago, nor the next window's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.check_in import (
    assert_error,
    code_at,
    join,
    now_code,
    started,
    students,
    window_now,
)
from tests.support.clock import FrozenClock


@pytest.mark.parametrize("rotation", [15, 60])
async def test_code_windows_to_the_second(
    make_api: Callable[..., Any], clock: FrozenClock, rotation: int
) -> None:
    """Only the current window's code and the previous one's are accepted; never a code of
    two windows ago, and never the next window's (a code cannot be predicted)."""
    async with make_api(CODE_ROTATION_SECONDS=rotation, CODE_MAX_FAILURES=1000) as api:
        _, teacher = await api.user_headers("teacher")
        prober, *joiners = await students(api, 5)
        lesson_id = (await started(api, teacher, security=["code"]))["lesson_id"]
        window = window_now(api, clock) + 1
        clock.advance_to(datetime.fromtimestamp(window * rotation, UTC))  # first instant

        shown = (await api.client.get(f"/teacher/lessons/{lesson_id}/code", headers=teacher)).json()
        assert shown["code"] == code_at(api, lesson_id, window)
        assert shown["valid_for_seconds"] == rotation
        for stale in (window - 2, window - 3, window + 1, window + 2):
            code = code_at(api, lesson_id, stale)
            if code in (code_at(api, lesson_id, window), code_at(api, lesson_id, window - 1)):
                continue  # a collision of six digits: the code is valid for another reason
            assert_error(await join(api, lesson_id, prober, code=code), 403, "invalid_code")
        joined = await join(api, lesson_id, joiners[0], code=code_at(api, lesson_id, window - 1))
        assert joined.status_code == 201, joined.text

        # the last instant of the window: the previous code still holds
        clock.advance_to(
            datetime.fromtimestamp((window + 1) * rotation, UTC) - timedelta(milliseconds=1)
        )
        shown = (await api.client.get(f"/teacher/lessons/{lesson_id}/code", headers=teacher)).json()
        assert shown["code"] == code_at(api, lesson_id, window)
        assert shown["valid_for_seconds"] == 1
        joined = await join(api, lesson_id, joiners[1], code=code_at(api, lesson_id, window - 1))
        assert joined.status_code == 201, joined.text

        # one millisecond later the window changes: window - 1 is two rotations old now
        clock.advance(milliseconds=1)
        shown = (await api.client.get(f"/teacher/lessons/{lesson_id}/code", headers=teacher)).json()
        assert shown["code"] == code_at(api, lesson_id, window + 1)
        assert shown["valid_for_seconds"] == rotation
        old = code_at(api, lesson_id, window - 1)
        if old not in (code_at(api, lesson_id, window), code_at(api, lesson_id, window + 1)):
            assert_error(await join(api, lesson_id, prober, code=old), 403, "invalid_code")
        joined = await join(api, lesson_id, joiners[2], code=code_at(api, lesson_id, window))
        assert joined.status_code == 201, joined.text

        # the code shown now (window + 1) works right after the next rotation, not two later
        clock.advance(seconds=rotation)
        joined = await join(api, lesson_id, joiners[3], code=shown["code"])
        assert joined.status_code == 201, joined.text
        clock.advance(seconds=rotation)
        if shown["code"] not in (
            code_at(api, lesson_id, window + 2),
            code_at(api, lesson_id, window + 3),
        ):
            too_old = await join(api, lesson_id, prober, code=shown["code"])
            assert_error(too_old, 403, "invalid_code")
        roll = await api.client.get(f"/teacher/lessons/{lesson_id}/records", headers=teacher)
        assert len(roll.json()) == 4


async def test_code_shown_is_accepted_after_one_rotation_and_refused_after_two(
    make_api: Callable[..., Any], clock: FrozenClock
) -> None:
    async with make_api(CODE_ROTATION_SECONDS=15) as api:
        _, teacher = await api.user_headers("teacher")
        first, second = await students(api, 2)
        lesson_id = (await started(api, teacher, security=["code"]))["lesson_id"]
        shown = (await api.client.get(f"/teacher/lessons/{lesson_id}/code", headers=teacher)).json()
        clock.advance(seconds=shown["valid_for_seconds"])  # the code has just rotated
        joined = await join(api, lesson_id, first, code=shown["code"])
        assert joined.status_code == 201, joined.text
        clock.advance(seconds=15)  # two rotations after it was shown
        if shown["code"] != now_code(api, lesson_id, clock):
            refused = await join(api, lesson_id, second, code=shown["code"])
            assert_error(refused, 403, "invalid_code")
