"""The Redis data-access layer against a real server: atomicity, orphans, cluster slots."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.crc import key_slot
from redis.exceptions import ResponseError

from attn.models import (
    AttendanceRecordRedis,
    LessonRedis,
    RefreshTokenRedis,
    Role,
    UserSessionRedis,
)
from attn.store import keys
from attn.store.redis_client import (
    ClaimOutcome,
    FinishOutcome,
    JoinOutcome,
    RedisClient,
    RefreshOutcome,
    ReleaseOutcome,
    RotateOutcome,
    SaveOutcome,
    connect,
)
from tests.support.lessons import make_lesson, make_record
from tests.support.redis_cluster import all_keys


@pytest.fixture
async def store(redis: aioredis.Redis, redis_url: str) -> AsyncIterator[RedisClient]:
    client = RedisClient(connect(redis_url, max_connections=20, pool_timeout=5))
    yield client
    await client.close()


async def test_keys_written_by_each_script_share_a_slot(
    store: RedisClient, redis: aioredis.Redis
) -> None:
    """Run every script and check, via MONITOR-free inspection, that all keys they wrote
    for one lesson or one user map to one cluster slot."""
    lesson = make_lesson()
    assert (
        await store.claim_teacher_lesson(lesson, claim=f"{lesson.lesson_id}|1")
    ).outcome is ClaimOutcome.CLAIMED
    assert (await store.save_lesson(lesson)).outcome is SaveOutcome.CREATED
    reply = await store.add_attendance_record(make_record(lesson))
    assert reply.outcome is JoinOutcome.CREATED
    finish = await store.delete_lesson(
        lesson.lesson_id, teacher_school_number="T1", now=datetime.now(UTC)
    )
    assert finish.outcome is FinishOutcome.OK
    written = await all_keys(redis, "*")
    by_tag: dict[str, set[int]] = {}
    for name in written:
        if "{" not in name:
            assert name == keys.sweep_due()  # the one global key, written outside scripts
            continue
        tag = name[name.index("{") + 1 : name.index("}")]
        by_tag.setdefault(tag, set()).add(key_slot(name.encode()))
    assert by_tag, written
    assert all(len(slots) == 1 for slots in by_tag.values()), by_tag


async def test_sessions_expire_and_are_replaced(store: RedisClient, redis: aioredis.Redis) -> None:
    now = datetime.now(UTC)

    def session(digest: str) -> UserSessionRedis:
        return UserSessionRedis(
            school_number="S1",
            full_name="S One",
            role=Role.STUDENT,
            token_digest=digest,
            created_at=now,
            expires_at=now + timedelta(seconds=600),
        )

    await store.save_user_session(session("a"), 600, epoch="0")
    await store.save_user_session(session("b"), 600, epoch="0")
    saved = await store.get_user_session("S1")
    assert saved is not None and saved.token_digest == "b"
    assert 590 <= await redis.ttl(keys.session("S1")) <= 600
    assert await store.delete_user_session("S1")
    assert await store.get_user_session("S1") is None


async def test_save_and_delete_lesson_leave_no_orphans(
    store: RedisClient, redis: aioredis.Redis
) -> None:
    lesson = make_lesson()
    assert (await store.save_lesson(lesson)).outcome is SaveOutcome.CREATED
    index = keys.lesson_discovery_index(lesson.lesson_id)
    assert await redis.smembers(index) == {lesson.lesson_id}
    assert await store.get_lesson(lesson.lesson_id) == lesson
    assert await redis.zscore(keys.sweep_due(), lesson.lesson_id) is not None
    found = await store.find_lessons_by_name("  physics ", "ADA   lovelace")
    assert [item.lesson_id for item in found] == [lesson.lesson_id]

    reply = await store.delete_lesson(
        lesson.lesson_id, teacher_school_number="T1", now=datetime.now(UTC)
    )
    finished = reply.data
    assert reply.outcome is FinishOutcome.OK and finished is not None
    assert finished.status.value == "finished" and finished.finished_at is not None
    # discoverability ends with the finish; the empty index set is gone, not left behind
    assert not await redis.exists(index)
    assert await store.find_lessons_by_name("Physics", "Ada Lovelace") == []
    # the lesson's data stays for the persistence job, and is due
    assert await store.get_lesson(lesson.lesson_id) is not None
    assert await redis.zscore(keys.sweep_due(), lesson.lesson_id) is not None


async def test_delete_lesson_checks_owner_and_state(store: RedisClient) -> None:
    lesson = make_lesson()
    await store.save_lesson(lesson)
    now = datetime.now(UTC)
    assert (
        await store.delete_lesson(lesson.lesson_id, teacher_school_number="T2", now=now)
    ).outcome is FinishOutcome.NOT_FOUND
    assert (
        await store.delete_lesson(lesson.lesson_id, teacher_school_number="T1", now=now)
    ).outcome is FinishOutcome.OK
    assert (
        await store.delete_lesson(lesson.lesson_id, teacher_school_number="T1", now=now)
    ).outcome is FinishOutcome.NOT_ACTIVE
    missing = keys.new_lesson_id("x", "y")
    assert (
        await store.delete_lesson(missing, teacher_school_number="T1", now=now)
    ).outcome is FinishOutcome.NOT_FOUND


async def test_fifty_concurrent_joins_leave_one_record(
    store: RedisClient, redis: aioredis.Redis
) -> None:
    lesson = make_lesson()
    await store.save_lesson(lesson)
    replies = await asyncio.gather(
        *(store.add_attendance_record(make_record(lesson)) for _ in range(50))
    )
    assert [reply.outcome for reply in replies].count(JoinOutcome.CREATED) == 1
    assert [reply.outcome for reply in replies].count(JoinOutcome.EXISTS) == 49
    assert len({reply.data.record_json for reply in replies}) == 1  # every caller got one record
    assert await redis.hlen(keys.lesson_records(lesson.lesson_id)) == 1
    assert (await store.get_lesson(lesson.lesson_id)).attendee_count == 1  # type: ignore[union-attr]


async def test_join_refused_after_finish_and_after_end(
    store: RedisClient, redis: aioredis.Redis
) -> None:
    lesson = make_lesson()
    await store.save_lesson(lesson)
    assert (
        await store.add_attendance_record(make_record(lesson, "S1"))
    ).outcome is JoinOutcome.CREATED
    await store.delete_lesson(lesson.lesson_id, teacher_school_number="T1", now=datetime.now(UTC))
    refused = await store.add_attendance_record(make_record(lesson, "S2"))
    assert refused.outcome is JoinOutcome.NOT_ACTIVE
    # a retried join of an existing record still returns it
    assert (
        await store.add_attendance_record(make_record(lesson, "S1"))
    ).outcome is JoinOutcome.EXISTS
    # the refused student's list of live lessons keeps no dangling entry
    assert await redis.zrange(keys.student_lessons("S2"), 0, -1) == []
    assert await redis.zrange(keys.student_lessons("S1"), 0, -1) == [lesson.lesson_id]

    ended = make_lesson("Old", minutes=1)
    await store.save_lesson(ended)
    late = AttendanceRecordRedis(
        lesson_id=ended.lesson_id,
        student_number="S3",
        student_full_name="S3",
        attendance_time=ended.end_time,
    )
    assert (await store.add_attendance_record(late)).outcome is JoinOutcome.NOT_ACTIVE


async def test_join_racing_finish_is_recorded_before_or_refused(store: RedisClient) -> None:
    for _ in range(20):
        lesson = make_lesson()
        await store.save_lesson(lesson)
        joins = [store.add_attendance_record(make_record(lesson, f"S{i}")) for i in range(10)]
        finish = store.delete_lesson(
            lesson.lesson_id, teacher_school_number="T1", now=datetime.now(UTC)
        )
        first_half = await asyncio.gather(*joins[:5], finish, *joins[5:])
        finished: Any = first_half[5]
        replies: list[Any] = first_half[:5] + first_half[6:]
        assert finished.outcome is FinishOutcome.OK
        accepted = [r for r in replies if r.outcome is JoinOutcome.CREATED]
        refused = [r for r in replies if r.outcome is JoinOutcome.NOT_ACTIVE]
        assert len(accepted) + len(refused) == 10
        roll = await store.get_attendance_records(lesson.lesson_id)
        # everything accepted is on the roll, nothing refused is, and the count the finish
        # reported is the final count: nothing was recorded after it
        assert len(roll) == len(accepted) == finished.data.attendee_count


async def test_find_returns_same_named_lessons_of_namesake_teachers(store: RedisClient) -> None:
    first = make_lesson("Calculus", "Ali Veli")
    second = LessonRedis(
        **{**make_lesson("Calculus", "Ali Veli").model_dump(), "teacher_school_number": "T2"}
    )
    other_name = make_lesson("Calculus II", "Ali Veli")
    for lesson in (first, second, other_name):
        await store.save_lesson(lesson)
    found = await store.find_lessons_by_name("calculus", "ali veli")
    assert {lesson.lesson_id for lesson in found} == {first.lesson_id, second.lesson_id}


async def test_teacher_claim_is_exclusive_and_replaceable_only_when_stale(
    store: RedisClient, redis: aioredis.Redis
) -> None:
    first, second = make_lesson(), make_lesson()
    claimed = await store.claim_teacher_lesson(first, claim=f"{first.lesson_id}|1")
    assert claimed.outcome is ClaimOutcome.CLAIMED
    taken = await store.claim_teacher_lesson(second, claim=f"{second.lesson_id}|2")
    assert taken.outcome is ClaimOutcome.TAKEN
    current = taken.data
    assert current == f"{first.lesson_id}|1"
    still = await store.claim_teacher_lesson(second, claim=f"{second.lesson_id}|2", replace="x|0")
    assert (still.outcome, still.data) == (ClaimOutcome.TAKEN, current)
    replaced = await store.claim_teacher_lesson(
        second, claim=f"{second.lesson_id}|2", replace=current
    )
    assert replaced.outcome is ClaimOutcome.CLAIMED
    # the claim expires at the lesson's end time
    ttl_ms = await redis.pttl(keys.teacher_active_lesson("T1"))
    assert 0 < ttl_ms <= 60 * 60 * 1000
    now = datetime.now(UTC)
    assert (
        await store.release_teacher_lesson("T1", first.lesson_id, due=now)
    ).outcome is ReleaseOutcome.NOT_HELD
    assert (
        await store.release_teacher_lesson("T1", second.lesson_id, due=now)
    ).outcome is ReleaseOutcome.RELEASED
    assert not await redis.exists(keys.teacher_active_lesson("T1"))


async def test_scripts_reload_after_script_flush(store: RedisClient, redis: aioredis.Redis) -> None:
    lesson = make_lesson()
    await redis.script_flush()
    assert (await store.save_lesson(lesson)).outcome is SaveOutcome.CREATED
    await redis.script_flush()
    assert (await store.add_attendance_record(make_record(lesson))).outcome is JoinOutcome.CREATED
    await redis.script_flush()
    assert (
        await store.delete_lesson(
            lesson.lesson_id, teacher_school_number="T1", now=datetime.now(UTC)
        )
    ).outcome is FinishOutcome.OK


async def test_a_refresh_token_is_rotated_once_and_keeps_its_expiry(
    store: RedisClient, redis: aioredis.Redis
) -> None:
    now = datetime.now(UTC)
    first = RefreshTokenRedis(
        school_number="S77",
        full_name="Student 77",
        role=Role.STUDENT,
        token_digest="a" * 64,
        created_at=now,
        expires_at=now + timedelta(seconds=600),
    )
    await store.save_refresh_token(first, device_key="d1", ttl=600, per_user=10, epoch="0")
    second = first.model_copy(update={"token_digest": "b" * 64})
    third = first.model_copy(update={"token_digest": "c" * 64})
    rotated = await store.rotate_refresh_token(second, device_key="d1", old_digest="a" * 64)
    assert rotated.outcome is RotateOutcome.ROTATED
    # the same old token again (a replay, or a request racing the first): refused
    again = await store.rotate_refresh_token(third, device_key="d1", old_digest="a" * 64)
    assert again.outcome is RotateOutcome.STALE
    stored = await store.get_refresh_token("S77", "d1")
    assert stored is not None and stored.token_digest == "b" * 64
    assert 590 <= await redis.ttl(keys.refresh_token("S77", "d1")) <= 600
    await store.delete_refresh_token("S77", "d1")
    gone = await store.rotate_refresh_token(third, device_key="d1", old_digest="b" * 64)
    assert gone.outcome is RotateOutcome.GONE


async def test_a_sign_in_that_read_the_account_before_its_sessions_ended_opens_nothing(
    store: RedisClient, redis: aioredis.Redis
) -> None:
    now = datetime.now(UTC)
    user_session = UserSessionRedis(
        school_number="S7",
        full_name="S Seven",
        role=Role.STUDENT,
        token_digest="a",
        created_at=now,
        expires_at=now + timedelta(seconds=600),
    )
    refresh = RefreshTokenRedis(
        school_number="S7",
        full_name="S Seven",
        role=Role.STUDENT,
        token_digest="r",
        created_at=now,
        expires_at=now + timedelta(seconds=600),
    )
    read_before = await store.account_epoch("S7")
    assert read_before == "0"
    assert await store.save_user_session(user_session, 600, epoch=read_before)
    saved = await store.save_refresh_token(
        refresh, device_key="d1", ttl=600, per_user=10, epoch=read_before
    )
    assert saved.outcome is RefreshOutcome.SAVED

    await store.end_user_sessions("S7", epoch_ttl=3600)
    assert await store.get_user_session("S7") is None
    assert await store.get_refresh_token("S7", "d1") is None
    assert await redis.exists(keys.refresh_devices("S7")) == 0
    assert 3590 <= await redis.ttl(keys.account_epoch("S7")) <= 3600

    # a sign-in that looked before the end: refused, both its session and its device
    assert not await store.save_user_session(user_session, 600, epoch=read_before)
    late = await store.save_refresh_token(
        refresh, device_key="d2", ttl=600, per_user=10, epoch=read_before
    )
    assert late.outcome is RefreshOutcome.CHANGED
    assert await store.get_user_session("S7") is None
    assert await store.get_refresh_token("S7", "d2") is None
    # one that looks afterwards opens as usual
    read_after = await store.account_epoch("S7")
    assert read_after != read_before
    assert await store.save_user_session(user_session, 600, epoch=read_after)
    token, epoch = await store.get_refresh_token_and_epoch("S7", "d1")
    assert token is None and epoch == read_after


async def test_sso_state_is_taken_once_and_items_are_seen_once(store: RedisClient) -> None:
    await store.put_sso_state("oidc", "st1", "value", 60)
    assert await store.take_sso_state("oidc", "st1") == "value"
    assert await store.take_sso_state("oidc", "st1") is None
    assert await store.take_sso_state("saml", "unknown") is None
    assert await store.first_sight("saml", "assertion-1", 60)
    assert not await store.first_sight("saml", "assertion-1", 60)
    assert await store.first_sight("oidc", "assertion-1", 60)  # providers apart


async def test_a_script_the_server_forgot_is_loaded_again(
    store: RedisClient, redis: aioredis.Redis
) -> None:
    """After SCRIPT FLUSH (a restarted server, a replica promoted without the scripts) every
    node answers NOSCRIPT; the join and the lesson's start load their scripts again, on a
    cluster on the node that holds the lesson."""
    lesson = make_lesson()
    if isinstance(redis, aioredis.RedisCluster):
        await redis.execute_command("SCRIPT", "FLUSH", target_nodes=redis.get_primaries())
    else:
        await redis.script_flush()
    assert await redis.script_exists(store._add_attendance_record.sha) == [False]
    assert (await store.save_lesson(lesson)).outcome is SaveOutcome.CREATED
    reply = await store.add_attendance_record(make_record(lesson))
    assert reply.outcome is JoinOutcome.CREATED
    assert (await store.add_attendance_record(make_record(lesson))).outcome is JoinOutcome.EXISTS


async def test_a_join_waits_for_the_replicas_it_is_told_to(
    redis: aioredis.Redis, redis_url: str
) -> None:
    """With `wait_replicas` the join is followed by WAIT on its own connection: with no
    replica to acknowledge it, the join is answered NOREPLICAS (503) but kept, and a retry
    finds it."""
    store = RedisClient(
        connect(redis_url, max_connections=20, pool_timeout=5), wait_replicas=1, wait_timeout_ms=50
    )
    try:
        lesson = make_lesson()
        assert (await store.save_lesson(lesson)).outcome is SaveOutcome.CREATED
        with pytest.raises(ResponseError, match="NOREPLICAS"):
            await store.add_attendance_record(make_record(lesson))
        assert await store.get_attendance_record(lesson.lesson_id, "S1") is not None
    finally:
        await store.close()
