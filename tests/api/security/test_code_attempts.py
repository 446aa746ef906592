"""Brute force on codes: wrong codes are counted per student and lesson; after
CODE_MAX_FAILURES even the right code is refused until the failure window has passed; only
wrong codes count, and parallel guesses cannot get past the limit."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from tests.support.check_in import (
    DEVICE_A,
    assert_error,
    assert_nothing_written,
    client_from,
    join,
    now_code,
    started,
    students,
    wrong_codes,
)
from tests.support.clock import FrozenClock


async def test_wrong_codes_are_rate_limited_per_student_and_lesson(
    make_api: Callable[..., Any], clock: FrozenClock
) -> None:
    """Brute force: after CODE_MAX_FAILURES wrong codes even the right code is refused until
    CODE_FAILURE_WINDOW_SECONDS have passed; other students and other lessons are untouched."""
    async with make_api(
        CODE_ROTATION_SECONDS=15, CODE_MAX_FAILURES=3, CODE_FAILURE_WINDOW_SECONDS=60
    ) as api:
        _, teacher = await api.user_headers("teacher")
        _, other_teacher = await api.user_headers("teacher")
        attacker, bystander = await students(api, 2)
        lesson_id = (await started(api, teacher, security=["code"]))["lesson_id"]
        other_lesson = (await started(api, other_teacher, security=["code"]))["lesson_id"]

        for wrong in wrong_codes(api, lesson_id, clock, 3):
            assert_error(await join(api, lesson_id, attacker, code=wrong), 403, "invalid_code")

        blocked = await join(api, lesson_id, attacker, code=now_code(api, lesson_id, clock))
        assert_error(blocked, 429, "too_many_attempts")
        assert blocked.headers["retry-after"] == "60"
        assert_error(await join(api, lesson_id, attacker, code="000000"), 429, "too_many_attempts")
        await assert_nothing_written(api, teacher, lesson_id, attacker, 0)

        # the limit is per student ...
        ok = await join(api, lesson_id, bystander, code=now_code(api, lesson_id, clock))
        assert ok.status_code == 201, ok.text
        # ... and per lesson
        elsewhere = await join(api, other_lesson, attacker, code=now_code(api, other_lesson, clock))
        assert elsewhere.status_code == 201, elsewhere.text

        clock.advance(seconds=59)
        still = await join(api, lesson_id, attacker, code=now_code(api, lesson_id, clock))
        assert_error(still, 429, "too_many_attempts")
        assert still.headers["retry-after"] == "1"

        clock.advance(seconds=1)  # the failure window has passed: counting starts again
        again = await join(api, lesson_id, attacker, code="abcdef")
        assert_error(again, 403, "invalid_code")
        joined = await join(api, lesson_id, attacker, code=now_code(api, lesson_id, clock))
        assert joined.status_code == 201, joined.text


async def test_code_rate_limit_speaks_of_codes_not_logins(
    make_api: Callable[..., Any],
) -> None:
    """The 429 of a join is about check-in codes; a student whose login is fine must not be
    told that their logins failed."""
    async with make_api(CODE_MAX_FAILURES=1) as api:
        _, teacher = await api.user_headers("teacher")
        _, student = await api.user_headers("student")
        lesson_id = (await started(api, teacher, security=["code"]))["lesson_id"]
        assert_error(await join(api, lesson_id, student, code="abcdef"), 403, "invalid_code")
        blocked = await join(api, lesson_id, student, code="abcdef")
        assert_error(blocked, 429, "too_many_attempts")
        assert "login" not in blocked.json()["error"]["message"].lower()


async def test_rate_limit_window_counts_from_the_first_failure(
    make_api: Callable[..., Any], clock: FrozenClock
) -> None:
    async with make_api(CODE_MAX_FAILURES=3, CODE_FAILURE_WINDOW_SECONDS=60) as api:
        _, teacher = await api.user_headers("teacher")
        _, student = await api.user_headers("student")
        lesson_id = (await started(api, teacher, security=["code"]))["lesson_id"]
        assert_error(await join(api, lesson_id, student, code="abcdef"), 403, "invalid_code")
        clock.advance(seconds=30)
        assert_error(await join(api, lesson_id, student, code="abcdef"), 403, "invalid_code")
        assert_error(await join(api, lesson_id, student, code="abcdef"), 403, "invalid_code")
        blocked = await join(api, lesson_id, student, code=now_code(api, lesson_id, clock))
        assert_error(blocked, 429, "too_many_attempts")
        assert blocked.headers["retry-after"] == "30"
        clock.advance(seconds=30)
        joined = await join(api, lesson_id, student, code=now_code(api, lesson_id, clock))
        assert joined.status_code == 201, joined.text


async def test_only_wrong_codes_count_towards_the_limit(
    make_api: Callable[..., Any], clock: FrozenClock
) -> None:
    async with make_api(CODE_MAX_FAILURES=2) as api:
        _, teacher = await api.user_headers("teacher")
        _, student = await api.user_headers("student")
        lesson_id = (await started(api, teacher, security=["code", "network", "device"]))[
            "lesson_id"
        ]
        code = now_code(api, lesson_id, clock)
        async with client_from(api, "10.1.2.3") as outside:
            for _ in range(4):
                response = await join(api, lesson_id, student, code=code, client=outside)
                assert_error(response, 403, "network_not_allowed")
        for _ in range(4):
            assert_error(await join(api, lesson_id, student, code=code), 403, "device_required")
        joined = await join(api, lesson_id, student, code=code, device=DEVICE_A)
        assert joined.status_code == 201, joined.text


async def test_parallel_guesses_cannot_exceed_the_limit(
    make_api: Callable[..., Any], clock: FrozenClock
) -> None:
    """Brute force in parallel: the count and the check are one atomic step."""
    async with make_api(CODE_MAX_FAILURES=3) as api:
        _, teacher = await api.user_headers("teacher")
        _, student = await api.user_headers("student")
        lesson_id = (await started(api, teacher, security=["code"]))["lesson_id"]
        guesses = wrong_codes(api, lesson_id, clock, 20)
        assert len(guesses) == 20
        responses = await asyncio.gather(
            *(join(api, lesson_id, student, code=guess) for guess in guesses)
        )
        codes_seen = sorted(response.json()["error"]["code"] for response in responses)
        assert codes_seen == ["invalid_code"] * 3 + ["too_many_attempts"] * 17
        await assert_nothing_written(api, teacher, lesson_id, student, 0)
