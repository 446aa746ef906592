"""Fixtures of the bad-input tests.

`world` is an app with an owner teacher and their active lesson, a second teacher without
one, and a student. After each refused write the tests check through the API that nothing
happened and that the same write, done properly, still succeeds (`World.assert_untouched`,
`World.assert_can_still_write` in `tests.support.refusals`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from tests.support.accounts import add_accounts
from tests.support.refusals import World


@pytest.fixture
async def world(make_api: Callable[..., Any], redis: aioredis.Redis) -> AsyncIterator[World]:
    # Three hashing threads, so that the three logins run side by side.
    async with make_api(PASSWORD_HASH_THREADS=3) as api:
        accounts = await add_accounts(
            api, ("teacher", "Grace Hopper"), ("teacher", "Alan Turing"), ("student", "Ada Byron")
        )
        owner, teacher, student = await asyncio.gather(*(api.login(user) for user in accounts))
        lesson = await api.start_lesson(owner, lesson_name="Algorithms", duration_minutes=60)
        yield World(api, redis, owner, teacher, student, accounts[2], lesson)
