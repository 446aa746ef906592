"""A user's keys in Redis stay bounded: a student's list of live lessons expires (renewed at
each join) and sheds entries of long-ended lessons; a user's remembered devices are capped
at `ATTN_REFRESH_TOKENS_PER_USER`, the oldest revoked first."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import redis.asyncio as aioredis

from attn.models import to_ms
from attn.store import keys
from tests.support.api import PASSWORD, Api
from tests.support.redis_cluster import all_keys

THIRTEEN_HOURS = 13 * 3600


def device(n: int) -> str:
    return f"device-{n:02d}-0123456789abcdef"


async def remember(api: Api, number: str, device_id: str) -> str:
    response = await api.client.post(
        "/auth/login",
        json={
            "school_number": number,
            "password": PASSWORD,
            "remember_device": True,
            "device_id": device_id,
        },
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["refresh_token"]
    return token


async def refresh(api: Api, token: str, device_id: str) -> Any:
    return await api.client.post(
        "/auth/refresh", json={"refresh_token": token, "device_id": device_id}
    )


async def test_unbounded_redis_a_students_live_lesson_list_has_a_ttl_after_a_join(
    api: Api, redis: aioredis.Redis
) -> None:
    _, teacher = await api.user_headers("teacher")
    student, student_headers = await api.user_headers("student")
    lesson = await api.start_lesson(teacher)
    listed = keys.student_lessons(student.school_number)
    # an entry of a lesson joined long ago (its lesson persisted since) is shed by a join
    stale_at = to_ms(api.context.now() - timedelta(hours=14))
    await redis.zadd(listed, {"0" * 32: stale_at})
    joined = await api.client.post(
        f"/student/lessons/{lesson['lesson_id']}/attendance", headers=student_headers
    )
    assert joined.status_code == 201, joined.text
    assert THIRTEEN_HOURS - 60 < await redis.ttl(listed) <= THIRTEEN_HOURS
    assert await redis.zrange(listed, 0, -1) == [lesson["lesson_id"]]
    # the student still finds the live record through the list
    own = await api.client.get("/student/attendance", headers=student_headers)
    assert [record["lesson_id"] for record in own.json()] == [lesson["lesson_id"]]

    # a record the teacher adds for a student lists the lesson with the same lifetime
    absent = await api.add_user("student")
    added = await api.client.post(
        f"/teacher/lessons/{lesson['lesson_id']}/records",
        json={"student_number": absent.school_number},
        headers=teacher,
    )
    assert added.status_code == 201, added.text
    absent_list = keys.student_lessons(absent.school_number)
    assert THIRTEEN_HOURS - 60 < await redis.ttl(absent_list) <= THIRTEEN_HOURS


async def test_unbounded_redis_the_eleventh_remembered_device_revokes_the_first(
    api: Api, redis: aioredis.Redis
) -> None:
    student = await api.add_user("student")
    tokens = [await remember(api, student.school_number, device(n)) for n in range(11)]
    first = await refresh(api, tokens[0], device(0))
    assert first.status_code == 401
    assert first.json()["error"]["code"] == "invalid_refresh_token"
    for n in range(1, 11):
        assert (await refresh(api, tokens[n], device(n))).status_code == 200, n
    assert len(await all_keys(redis, keys.refresh_token(student.school_number, "*"))) == 10
    devices = keys.refresh_devices(student.school_number)
    assert await redis.zcard(devices) == 10
    assert await redis.ttl(devices) > 29 * 24 * 3600

    # signing in again on a remembered device renews it: the oldest is then the second
    tokens[1] = await remember(api, student.school_number, device(1))
    tokens.append(await remember(api, student.school_number, device(11)))
    assert (await refresh(api, tokens[2], device(2))).status_code == 401
    assert (await refresh(api, tokens[1], device(1))).status_code == 200
    # a device's logout unlists it, so it no longer takes a place
    session = await refresh(api, tokens[3], device(3))
    headers = {"Authorization": f"Bearer {session.json()['access_token']}"}
    assert (await api.client.post("/auth/logout", headers=headers)).status_code == 204
    assert await redis.zcard(devices) == 9
    tokens.append(await remember(api, student.school_number, device(12)))
    assert (await refresh(api, tokens[4], device(4))).status_code == 200


async def test_unbounded_redis_remembered_devices_per_user_is_a_setting(
    make_api: Any, redis: aioredis.Redis
) -> None:
    async with make_api(REFRESH_TOKENS_PER_USER=2) as api:
        student = await api.add_user("student")
        other = await api.add_user("student")
        tokens = [await remember(api, student.school_number, device(n)) for n in range(3)]
        other_token = await remember(api, other.school_number, device(0))
        assert (await refresh(api, tokens[0], device(0))).status_code == 401
        assert (await refresh(api, tokens[1], device(1))).status_code == 200
        assert (await refresh(api, tokens[2], device(2))).status_code == 200
        # another user's devices are their own
        assert (await refresh(api, other_token, device(0))).status_code == 200


async def test_unbounded_redis_concurrent_remembered_devices_leave_exactly_the_cap(
    make_api: Any, redis: aioredis.Redis
) -> None:
    """Devices remembered at the same moment race for the places; the cap holds, and every
    revoked device's token is gone with its place. (30 password checks of one account at
    once from one address need a login limit above the default 10.)"""
    async with make_api(LOGIN_MAX_FAILURES=30, LOGIN_ACCOUNT_MAX_FAILURES=30) as api:
        student = await api.add_user("student")
        tokens = await asyncio.gather(
            *(remember(api, student.school_number, device(n)) for n in range(30))
        )
        working = [
            n for n in range(30) if (await refresh(api, tokens[n], device(n))).status_code == 200
        ]
        assert len(working) == 10
        stored = await all_keys(redis, keys.refresh_token(student.school_number, "*"))
        assert len(stored) == 10
        listed = await redis.zrange(keys.refresh_devices(student.school_number), 0, -1)
        assert sorted(stored) == sorted(
            keys.refresh_token(student.school_number, device_key) for device_key in listed
        )
