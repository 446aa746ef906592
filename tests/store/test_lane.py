"""The lane (`RedisClient.lane`): the session read and the join's pipeline sent on a few
shared connections of its own, packed by `pack`, pipelined, with the same answers as
redis-py's client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis
from redis.asyncio.connection import Connection
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from attn.models import Role, UserSessionRedis
from attn.store import keys
from attn.store.redis_client import LANE_NAME, JoinOutcome, Lane, RedisClient, connect, pack
from tests.support.lessons import make_lesson, make_record

pytestmark = pytest.mark.usefixtures("single_server")  # the lane speaks to one server


@pytest.fixture
async def stores(redis: aioredis.Redis, redis_url: str) -> AsyncIterator[tuple[RedisClient, ...]]:
    """A client with a lane of 1 connection and one without a lane."""
    lane = RedisClient(connect(redis_url, max_connections=20, pool_timeout=5), lane_connections=1)
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


async def test_callers_at_once_share_the_connections_and_each_gets_its_own_reply(
    redis: aioredis.Redis, redis_url: str
) -> None:
    sessions = [await save_session(redis, f"S{n}") for n in range(200)]
    await redis.delete(keys.session("S7"))
    await redis.hset(keys.session("S7"), "not", "a string")
    store = RedisClient(connect(redis_url, max_connections=4, pool_timeout=5), lane_connections=3)
    try:
        found = await asyncio.gather(
            *(store.get_user_session(f"S{n}") for n in range(200)), return_exceptions=True
        )
        assert isinstance(found[7], ResponseError)  # in its place, the others unharmed
        assert [f for n, f in enumerate(found) if n != 7] == [
            s for n, s in enumerate(sessions) if n != 7
        ]
        assert len(await lane_clients(redis)) == 3
    finally:
        await store.close()
    assert await lane_clients(redis) == []


async def test_a_caller_that_gives_up_leaves_the_others_replies_in_order(
    stores: tuple[RedisClient, RedisClient], redis: aioredis.Redis
) -> None:
    lane, _ = stores
    sessions = [await save_session(redis, f"S{n}") for n in range(30)]
    calls = [asyncio.create_task(lane.get_user_session(f"S{n}")) for n in range(30)]
    await asyncio.sleep(0)  # all queued
    for n in range(0, 30, 3):
        calls[n].cancel()
    found = await asyncio.gather(*calls, return_exceptions=True)
    for n in range(30):
        if n % 3:
            assert found[n] == sessions[n]
        else:
            assert isinstance(found[n], asyncio.CancelledError)
    assert await lane.get_user_session("S29") == sessions[29]
    assert len(await lane_clients(redis)) == 1


async def test_a_reply_that_does_not_come_times_out_and_the_next_call_has_a_new_connection(
    redis: aioredis.Redis, redis_url: str
) -> None:
    slow = aioredis.Redis.from_url(redis_url, socket_timeout=0.3, decode_responses=True)
    lane = Lane(slow, 1)
    try:
        waiting = asyncio.create_task(lane.call(pack("BLPOP", "nothing", 0), 1))
        with pytest.raises(RedisTimeoutError):
            await waiting
        await redis.set("k", "v")
        assert await lane.call(pack("GET", "k"), 1) == ["v"]
    finally:
        await lane.close()
        await slow.aclose()
