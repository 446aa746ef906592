"""The live lesson's counters: kept by the scripts in the step that changes a record, read
with the lesson in one round trip, and, for a lesson stored before the counters existed,
counted from its records (on read, and once and for all by the first script that changes it)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from attn.models import Counts, RecordStatus
from attn.store import formats, keys
from attn.store.redis_client import JoinOutcome, RedisClient, UpdateOutcome, connect
from tests.support.lessons import make_lesson, make_record


@pytest.fixture
async def store(redis: aioredis.Redis, redis_url: str) -> AsyncIterator[RedisClient]:
    client = RedisClient(connect(redis_url, max_connections=20, pool_timeout=5))
    yield client
    await client.close()


async def test_joins_and_changes_move_the_counters(store: RedisClient) -> None:
    lesson = make_lesson()
    await store.save_lesson(lesson)
    for number in ("S1", "S2", "S3"):
        joined = await store.add_attendance_record(make_record(lesson, number))
        assert joined.outcome is JoinOutcome.CREATED
    again = await store.add_attendance_record(make_record(lesson, "S1"))
    assert again.outcome is JoinOutcome.EXISTS  # a repeated join counts nothing
    assert (await store.get_lesson(lesson.lesson_id)).counts == Counts(present=3)  # type: ignore[union-attr]

    for number, status in (("S1", RecordStatus.LATE), ("S2", RecordStatus.ABSENT)):
        stored = await store.get_attendance_record(lesson.lesson_id, number)
        assert stored is not None
        changed = stored.model_copy(update={"status": status})
        updated = await store.update_record(
            lesson.lesson_id,
            number,
            expected=formats.record_json(stored),
            new=formats.record_json(changed),
            audit=None,
        )
        assert updated.outcome is UpdateOutcome.OK
    # a teacher adding a record that was not there counts it once
    added = make_record(lesson, "S4").model_copy(update={"status": RecordStatus.EXCUSED})
    reply = await store.update_record(
        lesson.lesson_id, "S4", expected="", new=formats.record_json(added), audit=None
    )
    assert reply.outcome is UpdateOutcome.OK
    read = await store.get_lesson(lesson.lesson_id)
    assert read is not None
    assert read.counts == Counts(present=1, late=1, absent=1, excused=1)
    assert read.attendee_count == 2
    assert read.counts == Counts.of(
        r.status for r in await store.get_attendance_records(lesson.lesson_id)
    )


async def test_a_lesson_stored_before_the_counters_is_counted(
    store: RedisClient, redis: aioredis.Redis
) -> None:
    lesson = make_lesson()
    await store.save_lesson(lesson)
    for number in ("S1", "S2"):
        await store.add_attendance_record(make_record(lesson, number))
    # as the previous version stored it: no counters, an attendee_count of its own
    lesson_key = keys.lesson(lesson.lesson_id)
    await redis.hdel(lesson_key, *formats.COUNT_FIELDS.values())
    await redis.hset(lesson_key, "attendee_count", "2")

    read = await store.get_lesson(lesson.lesson_id)
    assert read is not None and read.counts == Counts(present=2)  # counted from its records
    [listed] = await store.get_lessons([lesson.lesson_id])
    assert listed.counts == Counts(present=2)
    snapshot = await store.read_lesson_snapshot(lesson.lesson_id)
    assert snapshot is not None and snapshot.lesson.counts == Counts(present=2)

    # the next join counts the records it found, then itself, and stores the counters
    await store.add_attendance_record(make_record(lesson, "S3"))
    stored = await redis.hgetall(lesson_key)
    assert {name: stored[name] for name in formats.COUNT_FIELDS.values()} == {
        "count_present": "3",
        "count_late": "0",
        "count_pending": "0",
        "count_rejected": "0",
        "count_excused": "0",
        "count_absent": "0",
    }
    assert "attendee_count" not in stored

    # and so does a change of a record
    await redis.hdel(lesson_key, *formats.COUNT_FIELDS.values())
    first = await store.get_attendance_record(lesson.lesson_id, "S1")
    assert first is not None
    rejected = first.model_copy(update={"status": RecordStatus.REJECTED, "reason": "x"})
    await store.update_record(
        lesson.lesson_id,
        "S1",
        expected=formats.record_json(first),
        new=formats.record_json(rejected),
        audit=None,
    )
    assert await redis.hget(lesson_key, "count_present") == "2"
    assert await redis.hget(lesson_key, "count_rejected") == "1"
    read = await store.get_lesson(lesson.lesson_id)
    assert read is not None and read.counts == Counts(present=2, rejected=1)


def test_a_stored_record_s_status_is_read_as_the_scripts_read_it() -> None:
    lesson = make_lesson()
    tricky = make_record(lesson).model_copy(
        update={
            "student_full_name": 'Ayşe "status":"absent"',
            "status": RecordStatus.LATE,
            "reason": '"status":"present"',
        }
    )
    assert formats.record_status(formats.record_json(tricky)) is RecordStatus.LATE
