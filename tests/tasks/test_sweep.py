"""sweep_attendances: finished lessons move from Redis to SQL once, with nothing lost."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import redis.asyncio as aioredis
from sqlalchemy import func, select

from attn.db.tables import LessonRow, RecordRow, UserRow
from attn.models import AttendanceRecordRedis
from attn.store import keys
from attn.tasks import sweep
from attn.tasks.sweep import sweep_attendances, sweep_until_done
from tests.support.api import Api
from tests.support.clock import Clock
from tests.support.lessons import fill_finished_lessons, run_lesson
from tests.support.sweep import STEPS, live_keys, sql_counts

pytestmark = pytest.mark.usefixtures("redis")


@pytest.fixture
def fault(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[[Callable[[str], Awaitable[None]]], None]]:
    def install(hook: Callable[[str], Awaitable[None]]) -> None:
        monkeypatch.setattr(sweep, "checkpoint", hook)

    return install


async def test_a_finished_lesson_is_persisted_and_leaves_redis(
    fast_api: Api, redis: aioredis.Redis
) -> None:
    api = fast_api
    lesson, teacher_headers, student_headers = await run_lesson(api, students=4)
    lesson_id = lesson["lesson_id"]
    live_roll = (
        await api.client.get(f"/teacher/lessons/{lesson_id}/records", headers=teacher_headers)
    ).json()
    live_lesson = (
        await api.client.get(f"/teacher/lessons/{lesson_id}", headers=teacher_headers)
    ).json()

    summary = await sweep_attendances(api.context)
    assert (summary.persisted, summary.records, summary.retried) == (1, 4, 0)
    assert await sql_counts(api.context, lesson_id) == (1, 4)
    # only the students' own lists still name it, until they are next read
    leftovers = await live_keys(redis, lesson_id)
    assert leftovers
    assert all(name.startswith("attn:student-lessons:") for name in leftovers)

    # the same shapes from SQL as from Redis
    persisted_roll = (
        await api.client.get(f"/teacher/lessons/{lesson_id}/records", headers=teacher_headers)
    ).json()
    assert persisted_roll == live_roll
    persisted_lesson = (
        await api.client.get(f"/teacher/lessons/{lesson_id}", headers=teacher_headers)
    ).json()
    assert persisted_lesson == live_lesson
    listed = (await api.client.get("/teacher/lessons", headers=teacher_headers)).json()
    assert listed == [live_lesson]
    for headers in student_headers:
        history_page = (await api.client.get("/student/attendance", headers=headers)).json()
        assert [item["lesson_id"] for item in history_page] == [lesson_id]
        own = await api.client.get(f"/student/lessons/{lesson_id}/attendance", headers=headers)
        assert own.status_code == 200
        # a retried join of a persisted lesson returns the first join's record
        retried = await api.client.post(f"/student/lessons/{lesson_id}/attendance", headers=headers)
        assert retried.status_code == 200
        assert retried.json() == own.json()
    finish_again = await api.client.post(
        f"/teacher/lessons/{lesson_id}/finish", headers=teacher_headers
    )
    assert finish_again.status_code == 409
    _, newcomer = await api.user_headers("student")
    late = await api.client.post(f"/student/lessons/{lesson_id}/attendance", headers=newcomer)
    assert late.status_code == 409
    _, stranger = await api.user_headers("teacher")
    hidden = await api.client.get(f"/teacher/lessons/{lesson_id}", headers=stranger)
    assert hidden.status_code == 404
    # reading their history dropped the lesson from every student's live list
    assert await live_keys(redis, lesson_id) == []


async def test_an_active_lesson_is_not_swept_until_its_end(
    fast_api: Api, clock: Clock, redis: aioredis.Redis
) -> None:
    api = fast_api
    lesson, teacher_headers, _ = await run_lesson(api, students=2, finish=False)
    lesson_id = lesson["lesson_id"]
    assert (await sweep_attendances(api.context)).persisted == 0
    assert await sql_counts(api.context, lesson_id) == (0, 0)
    clock.advance(minutes=61)  # the lesson lasted 60 minutes and nobody finished it
    assert (await sweep_attendances(api.context)).persisted == 1
    assert await sql_counts(api.context, lesson_id) == (1, 2)
    async with api.context.db() as session:
        row = await session.get(LessonRow, lesson_id)
    assert row is not None
    assert row.status == "finished"
    assert row.finished_at == row.end_time
    got = await api.client.get(f"/teacher/lessons/{lesson_id}", headers=teacher_headers)
    assert got.json()["status"] == "finished"
    leftovers = await live_keys(redis, lesson_id)
    assert all(name.startswith("attn:student-lessons:") for name in leftovers), leftovers


@pytest.mark.slow  # 24 users log in
async def test_two_sweepers_at_once_write_each_lesson_once(
    make_api: Callable[..., Any], fast_api: Api
) -> None:
    api = fast_api
    lessons = [(await run_lesson(api, students=3, name=f"L{i}"))[0] for i in range(6)]
    # a second sweeper with its own connections, as another process would have
    async with make_api(SWEEP_LEASE_SECONDS=0.3) as other:
        first, second = await asyncio.gather(
            sweep_attendances(api.context), sweep_attendances(other.context)
        )
    assert first.persisted + second.persisted == 6
    for lesson in lessons:
        assert await sql_counts(api.context, lesson["lesson_id"]) == (1, 3)


async def test_the_same_lesson_swept_by_two_sweepers_ignoring_the_lease(
    make_api: Callable[..., Any], fast_api: Api, fault: Any
) -> None:
    """Correctness never depends on the lease: both sweepers handle the same lesson."""
    api = fast_api
    lesson, _, _ = await run_lesson(api, students=5)
    lesson_id = lesson["lesson_id"]
    async with make_api(SWEEP_LEASE_SECONDS=0.3) as other:
        both_read = asyncio.Barrier(2)

        async def meet_after_read(step: str) -> None:
            if step == "read":
                await asyncio.wait_for(both_read.wait(), 5)

        fault(meet_after_read)
        outcomes = await asyncio.gather(
            sweep.persist_one(api.context, lesson_id), sweep.persist_one(other.context, lesson_id)
        )
    assert sorted(outcome for outcome, _ in outcomes) == sorted(
        [sweep.Outcome.PERSISTED, sweep.Outcome.ALREADY]
    ) or {outcome for outcome, _ in outcomes} == {sweep.Outcome.PERSISTED}
    assert await sql_counts(api.context, lesson_id) == (1, 5)


@pytest.mark.parametrize("step", STEPS)
async def test_a_crash_at_any_step_loses_nothing_and_duplicates_nothing(
    fast_api: Api, fault: Any, step: str, redis: aioredis.Redis, clock: Clock
) -> None:
    api = fast_api
    lesson, teacher_headers, student_headers = await run_lesson(api, students=3)
    lesson_id = lesson["lesson_id"]

    class Crash(Exception):
        pass

    async def crash(at: str) -> None:
        # between any two steps the lesson is visible exactly once, with its whole roll
        listed = (await api.client.get("/teacher/lessons", headers=teacher_headers)).json()
        assert [item["lesson_id"] for item in listed] == [lesson_id]
        roll = await api.client.get(
            f"/teacher/lessons/{lesson_id}/records", headers=teacher_headers
        )
        assert len(roll.json()) == 3
        for headers in student_headers:
            own = (await api.client.get("/student/attendance", headers=headers)).json()
            assert [item["lesson_id"] for item in own] == [lesson_id]
        if at == step:
            raise Crash(at)

    fault(crash)
    summary = await sweep_attendances(api.context)
    assert summary.retried == 1
    assert list(summary.errors) == [lesson_id]
    fault(sweep._no_fault)
    clock.advance(seconds=0.35)  # the crashed sweeper's claim runs out
    await sweep_attendances(api.context)
    assert await sql_counts(api.context, lesson_id) == (1, 3)
    # dangling index entries of a crash after the delete are tolerated and cleaned by readers
    listed = (await api.client.get("/teacher/lessons", headers=teacher_headers)).json()
    assert [item["lesson_id"] for item in listed] == [lesson_id]
    for headers in student_headers:
        own = (await api.client.get("/student/attendance", headers=headers)).json()
        assert [item["lesson_id"] for item in own] == [lesson_id]
    assert not await redis.exists(keys.lesson(lesson_id), keys.lesson_records(lesson_id))
    assert await redis.zscore(keys.sweep_due(), lesson_id) is None


def unreachable_database_url(api: Api, tmp_path: Any) -> str:
    """A database of the same kind as the test's that cannot be reached."""
    if api.context.settings.async_database_url.startswith("postgresql"):
        return "postgresql://nobody@127.0.0.1:1/none"
    return f"sqlite:///{tmp_path}/missing-dir/db.sqlite3"


async def test_database_down_during_a_pass_then_back(
    make_api: Callable[..., Any], fast_api: Api, tmp_path: Any, clock: Clock
) -> None:
    api = fast_api
    lessons = [(await run_lesson(api, students=2, name=f"L{i}"))[0] for i in range(3)]
    unreachable = unreachable_database_url(api, tmp_path)
    async with make_api(DATABASE_URL=unreachable, SWEEP_LEASE_SECONDS=0.3) as broken:
        summary = await sweep_attendances(broken.context)
        assert summary.persisted == 0
        assert summary.retried == 3
        assert set(summary.errors) == {lesson["lesson_id"] for lesson in lessons}
        summary, left = await sweep_until_done(broken.context)
        assert sorted(left) == sorted(lesson["lesson_id"] for lesson in lessons)
    clock.advance(seconds=0.35)  # the broken sweeper's claims run out
    summary, left = await sweep_until_done(api.context)
    assert left == []
    for lesson in lessons:
        assert await sql_counts(api.context, lesson["lesson_id"]) == (1, 2)


async def test_a_failed_sweep_once_frees_its_lessons_for_the_next_at_once(
    make_api: Callable[..., Any], tmp_path: Any
) -> None:
    """`attn sweep --once` that could not write gives its claims back when it stops, so a
    retry after the database is back does not wait out the lease."""
    async with make_api(SWEEP_LEASE_SECONDS=30) as api:
        lessons = [(await run_lesson(api, students=1, name=f"R{i}"))[0] for i in range(2)]
        unreachable = unreachable_database_url(api, tmp_path)
        async with make_api(DATABASE_URL=unreachable, SWEEP_LEASE_SECONDS=30) as broken:
            _, left = await sweep_until_done(broken.context)
            assert len(left) == 2
        started = asyncio.get_running_loop().time()
        summary, left = await sweep_until_done(api.context)
        assert left == [] and summary.persisted == 2
        assert asyncio.get_running_loop().time() - started < 10  # the lease is 30 s
        for lesson in lessons:
            assert await sql_counts(api.context, lesson["lesson_id"]) == (1, 1)


async def test_a_record_changed_during_a_pass_is_swept_again(
    fast_api: Api, fault: Any, redis: aioredis.Redis
) -> None:
    api = fast_api
    lesson, teacher_headers, _ = await run_lesson(api, students=2)
    lesson_id = lesson["lesson_id"]
    added = AttendanceRecordRedis(
        lesson_id=lesson_id,
        student_number="LATE001",
        student_full_name="Late Comer",
        attendance_time=datetime.now(UTC),
    )

    async def change_after_read(step: str) -> None:
        if step == "read":
            # what a teacher's correction does: a new record and a new version, atomically
            pipe = redis.pipeline(transaction=True)
            pipe.hset(keys.lesson_records(lesson_id), "LATE001", added.model_dump_json())
            pipe.hincrby(keys.lesson(lesson_id), "version", 1)
            await pipe.execute()
            fault(sweep._no_fault)

    fault(change_after_read)
    await sweep_attendances(api.context)
    assert await sql_counts(api.context, lesson_id) == (1, 3)
    assert not await redis.exists(keys.lesson(lesson_id))
    roll = (
        await api.client.get(f"/teacher/lessons/{lesson_id}/records", headers=teacher_headers)
    ).json()
    assert "LATE001" in {record["student_number"] for record in roll}


async def test_a_student_unknown_to_sql_is_created_from_the_record(fast_api: Api) -> None:
    api = fast_api
    lesson, _, _ = await run_lesson(api, students=1)
    lesson_id = lesson["lesson_id"]
    record = AttendanceRecordRedis(
        lesson_id=lesson_id,
        student_number="NEW2024",
        student_full_name="Yeni Öğrenci",
        attendance_time=datetime.now(UTC),
    )
    await api.context.redis_client.redis.hset(
        keys.lesson_records(lesson_id), "NEW2024", record.model_dump_json()
    )
    await sweep_attendances(api.context)
    async with api.context.db() as session:
        user = await session.get(UserRow, "NEW2024")
        row = await session.get(RecordRow, (lesson_id, "NEW2024"))
    assert user is not None
    assert (user.full_name, user.role, user.password_hash) == ("Yeni Öğrenci", "student", "")
    assert row is not None and row.student_full_name == "Yeni Öğrenci"
    # an account created by the sweep cannot log in until it gets a password
    response = await api.client.post(
        "/auth/login", json={"school_number": "NEW2024", "password": ""}
    )
    assert response.status_code == 422
    response = await api.client.post(
        "/auth/login", json={"school_number": "NEW2024", "password": "anything"}
    )
    assert response.status_code == 401


async def test_one_bad_lesson_does_not_stop_the_others(
    fast_api: Api, redis: aioredis.Redis
) -> None:
    api = fast_api
    good = [(await run_lesson(api, students=2, name=f"Good {i}"))[0] for i in range(3)]
    bad, _, _ = await run_lesson(api, students=2, name="Bad")
    await redis.hdel(keys.lesson(bad["lesson_id"]), "lesson_name")  # a corrupted live lesson
    summary = await sweep_attendances(api.context)
    assert summary.persisted == 3
    assert summary.retried == 0
    assert list(summary.held) == [bad["lesson_id"]]
    for lesson in good:
        assert await sql_counts(api.context, lesson["lesson_id"]) == (1, 2)
    assert await redis.zscore(keys.sweep_due(), bad["lesson_id"]) is None


async def test_a_failed_batch_is_rolled_back_and_retried_lesson_by_lesson(
    fast_api: Api, fault: Any
) -> None:
    """Lessons are written several to a transaction; when that transaction fails, none of
    it stays, and the same pass writes the lessons again one at a time."""
    api = fast_api
    lessons = [(await run_lesson(api, students=2, name=f"Batch {i}"))[0] for i in range(4)]
    failures = []

    async def fail_first_write(step: str) -> None:
        if step == "written" and not failures:
            failures.append(step)
            counts = [await sql_counts(api.context, lesson["lesson_id"]) for lesson in lessons]
            assert counts == [(0, 0)] * 4  # not yet visible outside the transaction
            raise RuntimeError("the database went away mid-batch")

    fault(fail_first_write)
    summary = await sweep_attendances(api.context, concurrency=1)
    assert failures == ["written"]
    assert (summary.persisted, summary.records, summary.retried) == (4, 8, 0)
    for lesson in lessons:
        assert await sql_counts(api.context, lesson["lesson_id"]) == (1, 2)


@pytest.mark.slow  # a burst of 10,000 records
async def test_burst_of_lessons_in_one_pass(fast_api: Api) -> None:
    """200 lessons x 50 records, written straight to the store, swept in one pass."""
    api = fast_api
    lesson_ids = await fill_finished_lessons(api.context.redis_client, lessons=200, records=50)
    summary = await sweep_attendances(api.context)
    assert (summary.persisted, summary.records, summary.retried) == (200, 10_000, 0)
    async with api.context.db() as session:
        total = await session.scalar(
            select(func.count()).select_from(RecordRow).where(RecordRow.lesson_id.in_(lesson_ids))
        )
    assert total == 10_000
