"""The looser search's word index: written with the lesson, gone when it can no longer be
found (finished, persisted, swept), and read as a bounded lexicographic range."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis

from attn.models import LessonRedis
from attn.services.context import ServiceContext
from attn.store import formats, keys
from attn.store.redis_client import (
    DropOutcome,
    FinishOutcome,
    RedisClient,
    SearchOutcome,
    connect,
)
from attn.tasks.sweep import sweep_attendances
from tests.support.api import Api
from tests.support.lessons import make_lesson
from tests.support.sweep import live_keys


@pytest.fixture
async def store(redis: aioredis.Redis, redis_url: str) -> AsyncIterator[RedisClient]:
    client = RedisClient(connect(redis_url, max_connections=20, pool_timeout=5))
    yield client
    await client.close()


async def words(redis: aioredis.Redis) -> list[str]:
    return [str(member) for member in await redis.zrange(keys.find_words(), 0, -1)]


async def test_the_entries_are_written_with_the_lesson(
    store: RedisClient, redis: aioredis.Redis
) -> None:
    lesson = make_lesson(name="Fizik-101 (Şube A)", teacher="Ayşe Yılmaz")
    await store.save_lesson(lesson)
    lesson_id = lesson.lesson_id
    assert await words(redis) == [
        f"n:101\x00{lesson_id}",
        f"n:a\x00{lesson_id}",
        f"n:fizik\x00{lesson_id}",
        f"n:sube\x00{lesson_id}",
        f"t:ayse\x00{lesson_id}",
        f"t:yilmaz\x00{lesson_id}",
    ]
    assert await redis.zscore(keys.find_words(), f"n:fizik\x00{lesson_id}") == 0

    async def found(lesson: list[str], teacher: list[str] = []) -> tuple[list[str], bool]:  # noqa: B006
        return await ids_and_more(store, lesson, teacher, limit=10)

    assert await found(["fiz"]) == ([lesson_id], False)
    assert await found(["sub", "fi"]) == ([lesson_id], False)
    assert await found(["fiz"], ["yil"]) == ([lesson_id], False)
    # a prefix is a prefix: neither the middle of a word nor a longer word
    assert await found(["izik"]) == ([], False)
    assert await found(["fizikk"]) == ([], False)
    # a word of the teacher's name is not one of the lesson's, nor the other way round
    assert await found(["ayse"]) == ([], False)
    assert await found(["fiz"], ["fiz"]) == ([], False)
    assert await found([]) == ([], False)


async def ids_and_more(
    store: RedisClient, lesson: list[str], teacher: list[str], *, limit: int
) -> tuple[list[str], bool]:
    reply = await store.find_lesson_ids_by_words(lesson, teacher, limit=limit)
    return reply.data, reply.outcome is SearchOutcome.MORE


async def test_a_name_without_words_saves_and_finishes(
    store: RedisClient, redis: aioredis.Redis
) -> None:
    lesson = make_lesson(name="—·—", teacher="…")
    await store.save_lesson(lesson)
    assert await words(redis) == []
    finish = await store.delete_lesson(
        lesson.lesson_id, teacher_school_number="T1", now=datetime.now(UTC)
    )
    assert finish.outcome is FinishOutcome.OK


async def test_a_range_is_bounded_and_the_narrowest_is_read(store: RedisClient) -> None:
    ids = []
    for n in range(5):
        lesson = make_lesson(name=f"Optik {n}", teacher=f"Hoca {n}")
        await store.save_lesson(lesson)
        ids.append(lesson.lesson_id)
    await store.save_lesson(make_lesson(name="Kimya"))
    found, more = await ids_and_more(store, ["opt"], [], limit=3)
    assert len(found) == 3 and set(found) <= set(ids) and more
    found, more = await ids_and_more(store, ["opt"], [], limit=5)
    assert sorted(found) == sorted(ids) and not more
    # "opt" has 5 entries, "3" one: the range read is the narrower, so the bound is not reached
    assert await ids_and_more(store, ["opt", "3"], [], limit=1) == ([ids[3]], False)
    assert await ids_and_more(store, ["opt"], ["hoca", "3"], limit=1) == (
        [ids[3]],
        False,
    )
    # a lesson with the prefix in two words is one id, not two
    twice = make_lesson(name="Optik Optometri")
    await store.save_lesson(twice)
    found, _ = await ids_and_more(store, ["opt"], [], limit=50)
    assert found.count(twice.lesson_id) == 1


async def test_the_entries_go_with_a_finish_not_with_a_refused_one(
    store: RedisClient, redis: aioredis.Redis
) -> None:
    lesson = make_lesson(name="Fizik 101")
    other = make_lesson(name="Fizik 102", teacher="Grace Hopper")
    await store.save_lesson(lesson)
    await store.save_lesson(other)
    now = datetime.now(UTC)
    refused = await store.delete_lesson(lesson.lesson_id, teacher_school_number="T9", now=now)
    assert refused.outcome is FinishOutcome.NOT_FOUND
    assert len(await words(redis)) == 8
    finished = await store.delete_lesson(lesson.lesson_id, teacher_school_number="T1", now=now)
    assert finished.outcome is FinishOutcome.OK
    assert await words(redis) == [
        f"n:102\x00{other.lesson_id}",
        f"n:fizik\x00{other.lesson_id}",
        f"t:grace\x00{other.lesson_id}",
        f"t:hopper\x00{other.lesson_id}",
    ]


async def test_the_entries_go_before_a_persisted_lesson_is_deleted(
    store: RedisClient, redis: aioredis.Redis
) -> None:
    lesson = make_lesson(name="Fizik 101")
    await store.save_lesson(lesson)
    reply = await store.delete_persisted_lesson(lesson, version=0)
    assert reply.outcome is DropOutcome.DELETED
    assert await words(redis) == []
    assert await live_keys(redis, lesson.lesson_id) == [keys.sweep_due()]


async def test_no_entry_is_left_after_the_sweep(api: Api, redis: aioredis.Redis) -> None:
    """A lesson that lapsed (nobody finished it) keeps its entries until the sweep persists
    it; then nothing of it is left in Redis, word index included."""
    ctx: ServiceContext = api.context
    now = ctx.now()
    lapsed = LessonRedis(
        **make_lesson(name="Fizik 101").model_dump(exclude={"start_time", "end_time"}),
        start_time=now - timedelta(hours=2),
        end_time=now - timedelta(hours=1),
    )
    await ctx.redis_client.save_lesson(lapsed)
    assert len(await words(redis)) == 4
    summary = await sweep_attendances(ctx)
    assert summary.persisted == 1, summary
    assert await words(redis) == []
    assert await live_keys(redis, lapsed.lesson_id) == []


def test_entries_and_ranges_in_their_stored_form() -> None:
    lesson_id = "0" * 32
    entries = formats.word_entries(lesson_id, "Kimya KİMYA Lab", "Çağrı Işık")
    assert entries == [
        f"n:kimya\x00{lesson_id}",
        f"n:lab\x00{lesson_id}",
        f"t:cagri\x00{lesson_id}",
        f"t:isik\x00{lesson_id}",
    ]
    assert [formats.entry_lesson_id(entry) for entry in entries] == [lesson_id] * 4
    low, high = formats.word_range(formats.WordKind.TEACHER, "çi")
    assert (low, high) == (b"[t:\xc3\xa7i", b"(t:\xc3\xa7i\xff")


def test_a_lesson_stored_before_rooms_existed_reads_without_one() -> None:
    lesson = make_lesson().model_copy(update={"room": "B-204"})
    fields = formats.lesson_to_hash(lesson)
    assert formats.lesson_from_hash(fields) == lesson
    del fields["room"]
    assert formats.lesson_from_hash(fields).room is None
