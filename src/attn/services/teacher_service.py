"""A teacher's lessons: start one, finish it, read it and its roll."""

from __future__ import annotations

from datetime import datetime, timedelta

from attn.db import history
from attn.errors import LessonAlreadyActive, LessonNotActive, LessonNotFound
from attn.models import AttendanceRecordRedis, LessonRedis, LessonStatus, UserSessionRedis, to_ms
from attn.services.context import ServiceContext
from attn.store import keys
from attn.store.redis_client import FinishOutcome

# How long a claim on a teacher's active-lesson slot may exist before its lesson does. A
# start claims the slot and then saves the lesson; a claim older than this whose lesson is
# missing was left by a process that died in between, and may be replaced.
CLAIM_GRACE_MS = 10_000
_CLAIM_ATTEMPTS = 3


async def start_attendance(
    ctx: ServiceContext, *, teacher: UserSessionRedis, lesson_name: str, duration_minutes: int
) -> LessonRedis:
    """Open a lesson for attendance; a teacher has at most one active lesson."""
    now = ctx.now()
    lesson = LessonRedis(
        lesson_id=keys.new_lesson_id(lesson_name, teacher.full_name),
        lesson_name=lesson_name,
        teacher_school_number=teacher.school_number,
        teacher_full_name=teacher.full_name,
        start_time=now,
        end_time=now + timedelta(minutes=duration_minutes),
        status=LessonStatus.ACTIVE,
    )
    claim = f"{lesson.lesson_id}|{to_ms(now)}"
    stale = ""
    for _ in range(_CLAIM_ATTEMPTS):
        current = await ctx.redis_client.claim_teacher_lesson(lesson, claim=claim, replace=stale)
        if current is None:
            break
        current_id, _, claimed_ms = current.partition("|")
        existing = await ctx.redis_client.get_lesson(current_id)
        if existing is not None and existing.is_active(now):
            raise LessonAlreadyActive
        if existing is None and to_ms(now) - int(claimed_ms or 0) < CLAIM_GRACE_MS:
            raise LessonAlreadyActive  # another start is between its claim and its save
        stale = current
    else:
        raise LessonAlreadyActive
    await ctx.redis_client.save_lesson(lesson)
    return lesson


def _check_owner(lesson: LessonRedis | None, teacher: UserSessionRedis) -> LessonRedis:
    if lesson is None or lesson.teacher_school_number != teacher.school_number:
        raise LessonNotFound
    return lesson


async def _persisted_lesson(ctx: ServiceContext, lesson_id: str) -> LessonRedis | None:
    async with ctx.db() as session:
        return await history.get_lesson(session=session, lesson_id=lesson_id)


async def _own_lesson(
    ctx: ServiceContext, teacher: UserSessionRedis, lesson_id: str
) -> LessonRedis:
    """The teacher's lesson, live or persisted. Redis is read first: the sweep commits to
    SQL before it deletes from Redis, so a lesson missing there is already in SQL."""
    if not keys.is_lesson_id(lesson_id):
        raise LessonNotFound
    lesson = await ctx.redis_client.get_lesson(lesson_id)
    if lesson is None:
        lesson = await _persisted_lesson(ctx, lesson_id)
    return _check_owner(lesson, teacher)


async def finish_attendance(
    ctx: ServiceContext, *, teacher: UserSessionRedis, lesson_id: str
) -> LessonRedis:
    """Finish the teacher's active lesson: no new joins, no longer discoverable."""
    if not keys.is_lesson_id(lesson_id):
        raise LessonNotFound
    now = ctx.now()
    outcome, lesson = await ctx.redis_client.delete_lesson(
        lesson_id, teacher_school_number=teacher.school_number, now=now
    )
    if outcome is FinishOutcome.NOT_FOUND:
        _check_owner(await _persisted_lesson(ctx, lesson_id), teacher)
        raise LessonNotActive  # the teacher's lesson, already persisted
    if outcome is FinishOutcome.NOT_ACTIVE:
        raise LessonNotActive
    assert lesson is not None
    await ctx.redis_client.release_teacher_lesson(teacher.school_number, lesson_id, due=now)
    return lesson


async def get_lesson(
    ctx: ServiceContext, *, teacher: UserSessionRedis, lesson_id: str
) -> LessonRedis:
    return await _own_lesson(ctx, teacher, lesson_id)


async def list_lessons(
    ctx: ServiceContext, *, teacher: UserSessionRedis, limit: int, offset: int
) -> list[LessonRedis]:
    """The teacher's lessons: active ones first, then finished ones, newest first.

    Live lessons come from Redis, persisted ones from SQL, read in that order so that a
    lesson the sweep moves meanwhile is seen at least once; one seen twice is listed once.
    """
    now = ctx.now()
    ids = await ctx.redis_client.teacher_lesson_ids(teacher.school_number)
    live = await ctx.redis_client.get_lessons(ids)
    await _forget_vanished(ctx, teacher, ids, live, now)
    async with ctx.db() as session:
        persisted = await history.list_teacher_lessons(
            session=session,
            teacher_school_number=teacher.school_number,
            limit=offset + limit,
            exclude=[lesson.lesson_id for lesson in live],
        )
    lessons = live + persisted
    lessons.sort(
        key=lambda lesson: (not lesson.is_active(now), -to_ms(lesson.start_time), lesson.lesson_id)
    )
    return lessons[offset : offset + limit]


async def _forget_vanished(
    ctx: ServiceContext,
    teacher: UserSessionRedis,
    ids: list[str],
    live: list[LessonRedis],
    now: datetime,
) -> None:
    """Drop list entries whose lesson left Redis (a sweep that died before unlisting it).

    Only entries older than a start's claim-to-save window: a younger one may belong to a
    start that has claimed its slot but not saved its lesson yet.
    """
    present = {lesson.lesson_id for lesson in live}
    missing = [lesson_id for lesson_id in ids if lesson_id not in present]
    if missing:
        scores = await ctx.redis_client.teacher_lesson_scores(teacher.school_number, missing)
        stale = [
            lesson_id
            for lesson_id, score in zip(missing, scores, strict=True)
            if score is not None and to_ms(now) - score > CLAIM_GRACE_MS
        ]
        await ctx.redis_client.forget_teacher_lessons(teacher.school_number, stale)


async def get_roll(
    ctx: ServiceContext, *, teacher: UserSessionRedis, lesson_id: str
) -> list[AttendanceRecordRedis]:
    """Every record of the teacher's lesson, ordered by attendance time, live or persisted."""
    if not keys.is_lesson_id(lesson_id):
        raise LessonNotFound
    snapshot = await ctx.redis_client.read_lesson_snapshot(lesson_id)
    if snapshot is not None:
        lesson, records, _ = snapshot
        _check_owner(lesson, teacher)
        return records
    _check_owner(await _persisted_lesson(ctx, lesson_id), teacher)
    async with ctx.db() as session:
        return await history.get_records(session=session, lesson_id=lesson_id)
