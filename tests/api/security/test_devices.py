"""Devices: a lesson with the device option needs a well-formed device id (a header or a
cookie) and admits each device for one student only, also when joins race; other lessons
ignore it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.check_in import (
    DEVICE_A,
    DEVICE_B,
    assert_error,
    assert_nothing_written,
    join,
    started,
    students,
)
from tests.support.issued_devices import on_phone


async def test_device_missing_or_malformed_is_required(
    api: Api, teacher: Any, student: Any
) -> None:
    lesson_id = (await started(api, teacher[1], security=["device"]))["lesson_id"]
    for device_headers in [
        {},
        {"X-ATTN-Device": ""},
        {"X-ATTN-Device": "a" * 15},  # too short
        {"X-ATTN-Device": "a" * 129},  # too long
        {"X-ATTN-Device": "abcdefghijklmnop!"},
        {"X-ATTN-Device": "abcdefgh ijklmnop"},
        {"X-ATTN-Device": "abcdefgh.ijklmnop"},
        {"X-ATTN-Device": "abcdefgh%2Fijklmnop"},
        {"Cookie": "attn_device=short"},
        {"Cookie": "other_cookie=abcdefghijklmnopqrst"},
    ]:
        response = await api.client.post(
            f"/student/lessons/{lesson_id}/attendance", headers={**student[1], **device_headers}
        )
        assert_error(response, 403, "device_required")
    await assert_nothing_written(api, teacher[1], lesson_id, student[1], 0)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"X-ATTN-Device": DEVICE_A}, {"X-ATTN-Device": DEVICE_A}),
        ({"Cookie": f"attn_device={DEVICE_A}"}, {"Cookie": f"attn_device={DEVICE_A}"}),
        ({"X-ATTN-Device": DEVICE_A}, {"Cookie": f"attn_device={DEVICE_A}"}),
        ({"X-ATTN-Device": DEVICE_A}, {"Cookie": f"theme=dark; attn_device={DEVICE_A}; x=1"}),
        # a bad header does not hide a valid cookie
        ({"X-ATTN-Device": DEVICE_A}, {"X-ATTN-Device": "x", "Cookie": f"attn_device={DEVICE_A}"}),
        ({"X-ATTN-Device": "A" * 128}, {"X-ATTN-Device": "A" * 128}),
        ({"X-ATTN-Device": "a_b-" * 4}, {"X-ATTN-Device": "a_b-" * 4}),
    ],
    ids=[
        "header",
        "cookie",
        "header-then-cookie",
        "among-other-cookies",
        "bad-header-good-cookie",
        "128",
        "16",
    ],
)
async def test_device_shared_by_two_students_is_refused(
    api: Api, teacher: Any, first: dict[str, str], second: dict[str, str]
) -> None:
    lesson_id = (await started(api, teacher[1], security=["device"]))["lesson_id"]
    owner, other = await students(api, 2)
    path = f"/student/lessons/{lesson_id}/attendance"
    created = await api.client.post(path, headers={**owner, **on_phone(api, owner, first)})
    assert created.status_code == 201, created.text
    refused = await api.client.post(path, headers={**other, **on_phone(api, other, second)})
    assert_error(refused, 409, "device_already_used")
    await assert_nothing_written(api, teacher[1], lesson_id, other, 1)
    again = await api.client.post(path, headers={**owner, **on_phone(api, owner, second)})
    assert again.status_code == 200
    assert again.json() == created.json()


async def test_devices_are_distinct_per_student_and_per_lesson(api: Api, teacher: Any) -> None:
    lesson_id = (await started(api, teacher[1], security=["device"]))["lesson_id"]
    first, second = await students(api, 2)
    assert (await join(api, lesson_id, first, device=DEVICE_A)).status_code == 201
    assert (await join(api, lesson_id, second, device=DEVICE_B)).status_code == 201
    # the same device in another teacher's lesson is free
    _, other_teacher = await api.user_headers("teacher")
    other_lesson = (await started(api, other_teacher, security=["device"]))["lesson_id"]
    assert (await join(api, other_lesson, second, device=DEVICE_A)).status_code == 201
    roll = await api.client.get(f"/teacher/lessons/{lesson_id}/records", headers=teacher[1])
    assert len(roll.json()) == 2


async def test_device_is_ignored_by_lessons_without_the_option(api: Api, teacher: Any) -> None:
    lesson_id = (await started(api, teacher[1]))["lesson_id"]
    first, second = await students(api, 2)
    assert (await join(api, lesson_id, first, device=DEVICE_A)).status_code == 201
    assert (await join(api, lesson_id, second, device=DEVICE_A)).status_code == 201
    third = (await students(api, 1))[0]
    assert (await join(api, lesson_id, third)).status_code == 201


async def test_parallel_joins_with_one_device_admit_one_student(api: Api, teacher: Any) -> None:
    lesson_id = (await started(api, teacher[1], security=["device"]))["lesson_id"]
    crowd = await students(api, 6)
    responses = await asyncio.gather(
        *(join(api, lesson_id, headers, device=DEVICE_A) for headers in crowd)
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * 5
    assert all(
        response.json()["error"]["code"] == "device_already_used"
        for response in responses
        if response.status_code == 409
    )
    lesson = await api.client.get(f"/teacher/lessons/{lesson_id}", headers=teacher[1])
    assert lesson.json()["attendee_count"] == 1
