"""Check-in options together: each check fails on its own with its own error, several
failures report the first in the documented order (code, network, device), a refused join
writes nothing, and a retried join returns the first record whatever it sends."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.check_in import (
    DEVICE_A,
    DEVICE_B,
    assert_error,
    assert_nothing_written,
    client_from,
    join,
    now_code,
    started,
    students,
    wrong_code,
)
from tests.support.clock import FrozenClock


@pytest.mark.parametrize("failure", ["code", "network", "device_missing", "device_used", "none"])
async def test_code_network_and_device_together(
    make_api: Callable[..., Any], clock: FrozenClock, failure: str
) -> None:
    """Each check fails on its own with its own error; a refused join writes nothing (not
    even the device claim); all checks satisfied give 201."""
    async with make_api(CODE_MAX_FAILURES=3) as api:
        _, teacher = await api.user_headers("teacher")
        owner, student, later = await students(api, 3)
        lesson = await started(api, teacher, security=["code", "network", "device"])
        assert sorted(lesson["security"]) == ["code", "device", "network"]
        assert lesson["allowed_subnets"] == ["127.0.0.0/24"]
        lesson_id = lesson["lesson_id"]
        code = now_code(api, lesson_id, clock)
        owned = await join(api, lesson_id, owner, code=code, device=DEVICE_B)
        assert owned.status_code == 201, owned.text
        roll_before = (
            await api.client.get(f"/teacher/lessons/{lesson_id}/records", headers=teacher)
        ).json()

        async with client_from(api, "10.1.2.3") as outside:
            if failure == "code":
                response = await join(
                    api, lesson_id, student, code=wrong_code(api, lesson_id, clock), device=DEVICE_A
                )
                assert_error(response, 403, "invalid_code")
            elif failure == "network":
                response = await join(
                    api, lesson_id, student, code=code, device=DEVICE_A, client=outside
                )
                assert_error(response, 403, "network_not_allowed")
            elif failure == "device_missing":
                response = await join(api, lesson_id, student, code=code)
                assert_error(response, 403, "device_required")
            elif failure == "device_used":
                response = await join(api, lesson_id, student, code=code, device=DEVICE_B)
                assert_error(response, 409, "device_already_used")
            else:
                response = await join(api, lesson_id, student, code=code, device=DEVICE_A)
                assert response.status_code == 201, response.text
                assert response.json()["status"] == "present"
                return

        roll_after = (
            await api.client.get(f"/teacher/lessons/{lesson_id}/records", headers=teacher)
        ).json()
        assert roll_after == roll_before
        await assert_nothing_written(api, teacher, lesson_id, student, 1)
        # the refused attempt did not claim DEVICE_A: another student may use it
        taken = await join(api, lesson_id, later, code=code, device=DEVICE_A)
        assert taken.status_code == 201, taken.text
        # and the refused student can still join once everything is right
        fixed = await join(api, lesson_id, student, code=code, device="device-C-0123456789")
        assert fixed.status_code == 201, fixed.text


@pytest.mark.parametrize(
    ("right_code", "right_network", "device", "expected"),
    [
        (False, False, None, (403, "invalid_code")),
        (False, True, DEVICE_B, (403, "invalid_code")),
        (True, False, None, (403, "network_not_allowed")),
        (True, False, DEVICE_B, (403, "network_not_allowed")),
        (True, True, None, (403, "device_required")),
        (True, True, DEVICE_B, (409, "device_already_used")),
    ],
)
async def test_checks_are_made_in_the_documented_order(
    make_api: Callable[..., Any],
    clock: FrozenClock,
    right_code: bool,
    right_network: bool,
    device: str | None,
    expected: tuple[int, str],
) -> None:
    """Code, then network, then device: several failures report the first of them."""
    async with make_api(CODE_MAX_FAILURES=100) as api:
        _, teacher = await api.user_headers("teacher")
        owner, student = await students(api, 2)
        lesson_id = (await started(api, teacher, security=["device", "network", "code"]))[
            "lesson_id"
        ]
        code = now_code(api, lesson_id, clock)
        assert (await join(api, lesson_id, owner, code=code, device=DEVICE_B)).status_code == 201
        async with client_from(api, "127.0.0.5" if right_network else "10.1.2.3") as client:
            response = await join(
                api,
                lesson_id,
                student,
                code=code if right_code else wrong_code(api, lesson_id, clock),
                device=device,
                client=client,
            )
        assert_error(response, *expected)
        await assert_nothing_written(api, teacher, lesson_id, student, 1)


async def test_retried_join_returns_the_first_record_whatever_it_sends(
    make_api: Callable[..., Any], clock: FrozenClock
) -> None:
    async with make_api(CODE_MAX_FAILURES=1) as api:
        _, teacher = await api.user_headers("teacher")
        _, student = await api.user_headers("student")
        lesson_id = (
            await started(
                api,
                teacher,
                security=["code", "network", "device"],
                allowed_subnets=["127.0.0.0/24"],
            )
        )["lesson_id"]
        first = await join(
            api, lesson_id, student, code=now_code(api, lesson_id, clock), device=DEVICE_A
        )
        assert first.status_code == 201, first.text
        clock.advance(minutes=5)
        async with client_from(api, "10.1.2.3") as outside:
            for attempt in range(3):  # wrong code, wrong network, no device: more than the limit
                again = await join(api, lesson_id, student, code="999999x", client=outside)
                assert again.status_code == 200, (attempt, again.text)
                assert again.json() == first.json()
        finished = await api.client.post(f"/teacher/lessons/{lesson_id}/finish", headers=teacher)
        assert finished.status_code == 200
        after = await join(api, lesson_id, student, code="nope")
        assert after.status_code == 200
        assert after.json() == first.json()
        lesson = await api.client.get(f"/teacher/lessons/{lesson_id}", headers=teacher)
        assert lesson.json()["attendee_count"] == 1


async def test_parallel_repeated_joins_create_one_record(
    api: Api, teacher: Any, student: Any, clock: FrozenClock
) -> None:
    lesson_id = (await started(api, teacher[1], security=["code", "device"]))["lesson_id"]
    code = now_code(api, lesson_id, clock)
    responses = await asyncio.gather(
        *(join(api, lesson_id, student[1], code=code, device=DEVICE_A) for _ in range(8))
    )
    assert sorted(response.status_code for response in responses) == [200] * 7 + [201]
    assert len({response.text for response in responses}) == 1
    lesson = await api.client.get(f"/teacher/lessons/{lesson_id}", headers=teacher[1])
    assert lesson.json()["attendee_count"] == 1
