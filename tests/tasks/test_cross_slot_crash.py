"""On a Redis Cluster a step that spans slots is two writes on two nodes, and a process can die
(or a node fail) between them. Each test here makes one of them happen and not the other, as
such a death would leave it, and shows that nothing accepted is lost and the indexes heal:
the join (the student's list and the lesson's script), the start of a lesson (the persistence
queue and the word index, then the lesson's script) and its finish (the lesson's script, then
the word index)."""

from __future__ import annotations

from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from attn.models import to_ms
from attn.services.context import ServiceContext
from attn.services.student_service import search_active_lessons
from attn.services.teacher_service import CLAIM_GRACE_MS
from attn.store import keys
from attn.tasks.sweep import sweep_attendances
from tests.support.api import Api
from tests.support.clock import Clock
from tests.support.sweep import live_keys, sql_counts


@pytest.fixture(autouse=True)
def cluster_only(on_cluster: bool) -> None:
    if not on_cluster:
        pytest.skip("a single server takes both writes in one pipeline: nothing in between")


class Lost:
    """Stands for a script whose call never reached Redis: the process died first."""

    def __init__(self, script: Any) -> None:
        self.sha, self.script = script.sha, script.script

    async def __call__(self, **_: Any) -> Any:
        raise RedisConnectionError("the process died before this write")


async def test_a_join_whose_script_is_lost_leaves_a_listing_that_a_retry_completes(
    api: Api, redis: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx: ServiceContext = api.context
    _, teacher = await api.user_headers("teacher")
    lesson = await api.start_lesson(teacher)
    lesson_id = lesson["lesson_id"]
    student, headers = await api.user_headers("student")
    store = ctx.redis_client
    with monkeypatch.context() as patch:
        patch.setattr(store, "_add_attendance_record", Lost(store._add_attendance_record))
        failed = await api.client.post(f"/student/lessons/{lesson_id}/attendance", headers=headers)
    assert failed.status_code == 503
    assert failed.headers["Retry-After"]
    # the first write landed: the student's list names a lesson with no record of them
    assert await store.student_lesson_ids(student.school_number) == [lesson_id]
    assert await store.get_attendance_record(lesson_id, student.school_number) is None
    listed = await api.client.get("/student/attendance", headers=headers)
    assert listed.status_code == 200
    assert listed.json() == []  # the entry without a record is passed over
    retried = await api.client.post(f"/student/lessons/{lesson_id}/attendance", headers=headers)
    assert retried.status_code == 201
    finished = await api.client.post(f"/teacher/lessons/{lesson_id}/finish", headers=teacher)
    assert finished.status_code == 200
    summary = await sweep_attendances(ctx)
    assert summary.persisted == 1, summary
    assert await sql_counts(ctx, lesson_id) == (1, 1)
    assert await live_keys(redis, lesson_id) == [keys.student_lessons(student.school_number)]


async def test_a_join_whose_listing_is_lost_is_still_persisted(
    api: Api, redis: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx: ServiceContext = api.context
    _, teacher = await api.user_headers("teacher")
    lesson = await api.start_lesson(teacher)
    lesson_id = lesson["lesson_id"]
    student, headers = await api.user_headers("student")
    store = ctx.redis_client

    async def lost(commands: Any) -> list[Any]:
        raise RedisConnectionError("the student's node did not answer")

    with monkeypatch.context() as patch:
        patch.setattr(store, "_send_plain", lost)
        failed = await api.client.post(f"/student/lessons/{lesson_id}/attendance", headers=headers)
    assert failed.status_code == 503
    # the lesson's write landed: the record is there, the student's list does not name it
    assert await store.get_attendance_record(lesson_id, student.school_number) is not None
    assert await store.student_lesson_ids(student.school_number) == []
    retried = await api.client.post(f"/student/lessons/{lesson_id}/attendance", headers=headers)
    assert retried.status_code == 200  # the record the first try wrote
    assert await store.student_lesson_ids(student.school_number) == [lesson_id]
    finished = await api.client.post(f"/teacher/lessons/{lesson_id}/finish", headers=teacher)
    assert finished.status_code == 200
    summary = await sweep_attendances(ctx)
    assert summary.persisted == 1, summary
    assert await sql_counts(ctx, lesson_id) == (1, 1)


async def test_a_start_whose_script_is_lost_leaves_a_queue_entry_the_sweep_drops(
    api: Api, redis: aioredis.Redis, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    ctx: ServiceContext = api.context
    _, teacher = await api.user_headers("teacher")
    store = ctx.redis_client
    with monkeypatch.context() as patch:
        patch.setattr(store, "_save_lesson", Lost(store._save_lesson))
        failed = await api.client.post(
            "/teacher/lessons",
            json={"lesson_name": "Fizik 101", "duration_minutes": 60},
            headers=teacher,
        )
    assert failed.status_code == 503
    queued = await redis.zrange(keys.sweep_due(), 0, -1)
    assert len(queued) == 1  # the recovery pointer, written first, names no lesson
    (lesson_id,) = queued
    assert await store.get_lesson(lesson_id) is None
    assert (await search_active_lessons(ctx, text="fizik")).lessons == []
    # the teacher starts it again (the claim the dead start left is stale once its grace is
    # over); the sweep drops the pointer to the lesson that never was
    clock.advance(milliseconds=CLAIM_GRACE_MS + 1000)
    again = await api.client.post(
        "/teacher/lessons",
        json={"lesson_name": "Fizik 101", "duration_minutes": 60},
        headers=teacher,
    )
    assert again.status_code == 201, again.text
    started = again.json()["lesson_id"]
    await redis.zadd(keys.sweep_due(), {lesson_id: 0})  # due now, as it will be at its end
    await sweep_attendances(ctx)
    assert await redis.zrange(keys.sweep_due(), 0, -1) == [started]
    found = (await search_active_lessons(ctx, text="fizik")).lessons
    assert [found_lesson.lesson_id for found_lesson in found] == [started]


async def test_a_finish_whose_word_entries_are_left_is_healed_by_the_sweep(
    api: Api, redis: aioredis.Redis
) -> None:
    ctx: ServiceContext = api.context
    _, teacher = await api.user_headers("teacher")
    lesson = await api.start_lesson(teacher, lesson_name="Fizik 101")
    lesson_id = lesson["lesson_id"]
    for _ in range(3):
        _, headers = await api.user_headers("student")
        joined = await api.client.post(f"/student/lessons/{lesson_id}/attendance", headers=headers)
        assert joined.status_code == 201
    store = ctx.redis_client
    teacher_number = lesson["teacher_school_number"]
    # the finish's own write (the lesson's slot) lands; the word index's (another slot) not
    reply = await store._delete_lesson(
        keys=[keys.lesson(lesson_id), keys.lesson_discovery_index(lesson_id)],
        args=[lesson_id, teacher_number, to_ms(ctx.now())],
    )
    assert reply[0] == "ok"
    words = await redis.zrange(keys.find_words(), 0, -1)
    assert any(entry.endswith(lesson_id) for entry in words)
    assert (await search_active_lessons(ctx, text="fizik")).lessons == []  # finished: skipped
    await store.release_teacher_lesson(teacher_number, lesson_id, due=ctx.now())
    summary = await sweep_attendances(ctx)
    assert summary.persisted == 1, summary
    assert await sql_counts(ctx, lesson_id) == (1, 3)
    assert await redis.zrange(keys.find_words(), 0, -1) == []
