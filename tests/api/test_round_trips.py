"""Round-trip budget: a join is one Redis round trip beside the one that checks the token."""

from __future__ import annotations

from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection

from attn.store import lane
from tests.support.api import Api


class RoundTrips:
    """Counts writes of commands to Redis sockets (one per request or pipeline, on the pool's
    connections or the lane's)."""

    def __init__(self) -> None:
        self.count = 0


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> RoundTrips:
    counter = RoundTrips()
    original = AbstractConnection.send_packed_command

    async def counting(self: AbstractConnection, command: Any, check_health: bool = True) -> None:
        counter.count += 1
        await original(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    flush = lane._Shared._flush

    def counting_flush(self: lane._Shared) -> None:
        counter.count += bool(self.outgoing)
        flush(self)

    monkeypatch.setattr(lane._Shared, "_flush", counting_flush)
    return counter


async def commandstats(redis: aioredis.Redis) -> dict[str, int]:
    stats = await redis.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()}


@pytest.mark.usefixtures("single_server")  # a cluster's join is two calls at once, one each slot
async def test_join_costs_one_round_trip_after_authentication(
    api: Api, teacher: Any, student: Any, round_trips: RoundTrips, redis: aioredis.Redis
) -> None:
    _, teacher_headers = teacher
    _, headers = student
    lesson = await api.start_lesson(teacher_headers)
    url = f"/student/lessons/{lesson['lesson_id']}/attendance"
    # warm up: the script is loaded on first use after a flush
    await api.client.post(url, headers=(await api.user_headers("student"))[1])

    before_stats = await commandstats(redis)
    before = round_trips.count
    response = await api.client.post(url, headers=headers)
    assert response.status_code == 201
    spent = round_trips.count - before
    after_stats = await commandstats(redis)
    delta = {
        name: after_stats.get(name, 0) - before_stats.get(name, 0)
        for name in after_stats
        if after_stats.get(name, 0) != before_stats.get(name, 0)
    }
    # the two `info` calls of this test are not part of the join
    delta.pop("info", None)
    assert spent == 2, spent  # one GET of the session, one pipeline for the join
    # top-level commands: the session GET, then ZADD (+ the list's trim and expiry) + EVALSHA in
    # one pipeline (commandstats also counts the commands the script runs inside the server)
    assert delta.pop("get") == 1, delta
    assert delta.pop("zadd") == 1, delta
    assert (delta.pop("zremrangebyscore"), delta.pop("pexpire")) == (1, 1), delta
    assert delta.pop("evalsha") == 1, delta
    assert set(delta) <= {"hmget", "hget", "hset", "hincrby", "hexists", "spublish"}, delta

    before = round_trips.count
    response = await api.client.post(url, headers=headers)
    assert response.status_code == 200
    assert round_trips.count - before == 2


async def test_roll_costs_constant_round_trips(
    api: Api, teacher: Any, round_trips: RoundTrips
) -> None:
    _, teacher_headers = teacher
    lesson = await api.start_lesson(teacher_headers)
    url = f"/teacher/lessons/{lesson['lesson_id']}/records"
    spent = []
    for _ in range(2):
        for _ in range(5):
            _, headers = await api.user_headers("student")
            await api.client.post(
                f"/student/lessons/{lesson['lesson_id']}/attendance", headers=headers
            )
        before = round_trips.count
        response = await api.client.get(url, headers=teacher_headers)
        assert response.status_code == 200
        spent.append(round_trips.count - before)
    assert spent[0] == spent[1] <= 3, spent
