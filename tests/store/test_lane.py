"""The lane (`RedisClient.lane`): the session read and the join's pipeline sent on
connections of its own, packed by `pack`, with the same answers as redis-py's client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis
from redis.asyncio.connection import Connection
from redis.exceptions import ResponseError

from attn.models import Role, UserSessionRedis
from attn.store import keys
from attn.store.redis_client import LANE_NAME, JoinOutcome, RedisClient, connect, pack
from tests.support.lessons import make_lesson, make_record


@pytest.fixture
async def stores(redis: aioredis.Redis, redis_url: str) -> AsyncIterator[tuple[RedisClient, ...]]:
    """A client with a lane of 4 and one without a lane."""
    lane = RedisClient(connect(redis_url, max_connections=20, pool_timeout=5), lane_connections=4)
    plain = RedisClient(connect(redis_url, max_connections=20, pool_timeout=5), lane_connections=0)
    yield lane, plain
    await lane.close()
    await plain.close()


async def lane_clients(redis: aioredis.Redis) -> list[dict[str, str]]:
    return [c for c in await redis.client_list() if c.get("name") == LANE_NAME]


async def save_session(redis: aioredis.Redis, number: str = "S1") -> UserSessionRedis:
    now = datetime.now(UTC)
    session = UserSessionRedis(
        school_number=number,
        full_name="Çağrı Öztürk",
        role=Role.STUDENT,
        token_digest="d" * 64,
        created_at=now,
        expires_at=now + timedelta(minutes=10),
    )
    await redis.set(keys.session(number), session.model_dump_json(), ex=600)
    return session


def test_pack_is_what_redis_py_sends() -> None:
    args = ("EVALSHA", "abc", 2, "k{1}", "şğü", 0, -5, "")
    assert pack(*args) == b"".join(Connection().pack_command(*args))


async def test_the_lane_reads_a_session_as_the_client_does(
    stores: tuple[RedisClient, RedisClient], redis: aioredis.Redis
) -> None:
    lane, plain = stores
    session = await save_session(redis)
    assert await lane.get_user_session("S1") == session == await plain.get_user_session("S1")
    assert await lane.get_user_session("S2") is None
    assert len(await lane_clients(redis)) == 1  # kept open, and the client without one: none


async def test_a_join_on_the_lane_is_the_clients_join(
    stores: tuple[RedisClient, RedisClient], redis: aioredis.Redis
) -> None:
    lane, plain = stores
    lesson = make_lesson()
    await lane.save_lesson(lesson)
    first = await lane.add_attendance_record(make_record(lesson, "S1"))
    again = await plain.add_attendance_record(make_record(lesson, "S1"))
    assert (first.outcome, again.outcome) == (JoinOutcome.CREATED, JoinOutcome.EXISTS)
    assert first.data.record_json == again.data.record_json
    other = await plain.add_attendance_record(make_record(lesson, "S2"))
    rejoined = await lane.add_attendance_record(make_record(lesson, "S2"))
    assert rejoined.outcome is JoinOutcome.EXISTS
    assert rejoined.data.record_json == other.data.record_json
    listed = await redis.zrange(keys.student_lessons("S1"), 0, -1)
    assert listed == [lesson.lesson_id]


async def test_a_connection_the_server_closed_is_replaced(
    stores: tuple[RedisClient, RedisClient], redis: aioredis.Redis
) -> None:
    lane, _ = stores
    session = await save_session(redis)
    assert await lane.get_user_session("S1") == session
    for client in await lane_clients(redis):
        await redis.client_kill_filter(_id=client["id"])
    assert await lane.get_user_session("S1") == session
    assert len(await lane_clients(redis)) == 1


async def test_a_flushed_script_is_loaded_again(
    stores: tuple[RedisClient, RedisClient], redis: aioredis.Redis
) -> None:
    lane, _ = stores
    lesson = make_lesson()
    await lane.save_lesson(lesson)
    await redis.script_flush()
    assert (await lane.add_attendance_record(make_record(lesson))).outcome is JoinOutcome.CREATED


async def test_an_error_reply_is_raised_and_the_connection_kept(
    stores: tuple[RedisClient, RedisClient], redis: aioredis.Redis
) -> None:
    lane, _ = stores
    await redis.hset(keys.session("S9"), "not", "a string")
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        await lane.get_user_session("S9")
    session = await save_session(redis)
    assert await lane.get_user_session("S1") == session
    assert len(await lane_clients(redis)) == 1


async def test_callers_beyond_the_lane_use_the_pool(
    stores: tuple[RedisClient, RedisClient], redis: aioredis.Redis
) -> None:
    lane, _ = stores
    sessions = [await save_session(redis, f"S{n}") for n in range(40)]
    found = await asyncio.gather(*(lane.get_user_session(f"S{n}") for n in range(40)))
    assert found == sessions
    assert 1 <= len(await lane_clients(redis)) <= 4
