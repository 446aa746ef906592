"""The projector link's store: `set_projector_link.lua` and the hash `formats` reads back,
in the lesson's slot and among the keys removed with its live state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import redis.asyncio as aioredis
from redis.crc import key_slot

from attn.store import formats, keys
from attn.store.redis_client import ProjectorLinkOutcome, RedisClient, SaveOutcome, connect
from tests.support.lessons import make_lesson


@pytest.fixture
async def store(redis: aioredis.Redis, redis_url: str) -> AsyncIterator[RedisClient]:
    client = RedisClient(connect(redis_url, max_connections=20, pool_timeout=5))
    yield client
    await client.close()


def test_an_absent_hash_is_link_zero_not_revoked() -> None:
    assert formats.parse_projector_link({}) == formats.ProjectorLinkState(0, revoked=False)
    assert formats.parse_projector_link({"generation": "3", "revoked": "1"}) == (
        formats.ProjectorLinkState(3, revoked=True)
    )


def test_the_link_key_is_in_the_lessons_slot_and_its_live_state() -> None:
    lesson_id = make_lesson().lesson_id
    link_key = keys.lesson_projector(lesson_id)
    assert link_key in keys.lesson_keys(lesson_id)
    assert key_slot(link_key.encode()) == key_slot(keys.lesson(lesson_id).encode())


async def test_new_links_count_up_and_a_revoke_keeps_the_generation(store: RedisClient) -> None:
    lesson = make_lesson()
    assert (await store.save_lesson(lesson)).outcome is SaveOutcome.CREATED
    now = lesson.start_time
    _, state = await store.read_projector(lesson.lesson_id)
    assert state == formats.ProjectorLinkState(0, revoked=False)

    revoked = await store.set_projector_link(
        lesson.lesson_id, teacher_school_number="T1", revoke=True, now=now
    )
    assert (revoked.outcome, revoked.data) == (ProjectorLinkOutcome.OK, 0)
    assert (await store.read_projector(lesson.lesson_id))[1] == formats.ProjectorLinkState(0, True)

    for generation in (1, 2):
        made = await store.set_projector_link(
            lesson.lesson_id, teacher_school_number="T1", revoke=False, now=now
        )
        assert (made.outcome, made.data) == (ProjectorLinkOutcome.OK, generation)
    read_lesson, state = await store.read_projector(lesson.lesson_id)
    assert read_lesson is not None and read_lesson.lesson_id == lesson.lesson_id
    assert state == formats.ProjectorLinkState(2, revoked=False)


async def test_only_the_teacher_of_a_live_lesson_gets_a_new_link(store: RedisClient) -> None:
    lesson = make_lesson()
    await store.save_lesson(lesson)
    other = await store.set_projector_link(
        lesson.lesson_id, teacher_school_number="T2", revoke=False, now=lesson.start_time
    )
    assert other.outcome is ProjectorLinkOutcome.NOT_FOUND
    other_revoke = await store.set_projector_link(
        lesson.lesson_id, teacher_school_number="T2", revoke=True, now=lesson.start_time
    )
    assert other_revoke.outcome is ProjectorLinkOutcome.NOT_FOUND
    ended = await store.set_projector_link(
        lesson.lesson_id,
        teacher_school_number="T1",
        revoke=False,
        now=lesson.end_time + timedelta(seconds=1),
    )
    assert ended.outcome is ProjectorLinkOutcome.NOT_ACTIVE
    missing = await store.set_projector_link(
        make_lesson().lesson_id, teacher_school_number="T1", revoke=False, now=lesson.start_time
    )
    assert missing.outcome is ProjectorLinkOutcome.NOT_FOUND
    assert (await store.read_projector(lesson.lesson_id))[1] == formats.ProjectorLinkState(0, False)
