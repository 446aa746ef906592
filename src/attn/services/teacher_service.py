"""A teacher's lessons: start one, finish it, read it and its roll."""

from __future__ import annotations

from datetime import timedelta

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


async def _own_lesson(
    ctx: ServiceContext, teacher: UserSessionRedis, lesson_id: str
) -> LessonRedis:
    if not keys.is_lesson_id(lesson_id):
        raise LessonNotFound
    lesson = await ctx.redis_client.get_lesson(lesson_id)
    if lesson is None or lesson.teacher_school_number != teacher.school_number:
        raise LessonNotFound
    return lesson


async def finish_attendance(
    ctx: ServiceContext, *, teacher: UserSessionRedis, lesson_id: str
) -> LessonRedis:
    """Finish the teacher's active lesson: no new joins, no longer discoverable."""
    if not keys.is_lesson_id(lesson_id):
        raise LessonNotFound
    outcome, lesson = await ctx.redis_client.delete_lesson(
        lesson_id, teacher_school_number=teacher.school_number, now=ctx.now()
    )
    if outcome is FinishOutcome.NOT_FOUND:
        raise LessonNotFound
    if outcome is FinishOutcome.NOT_ACTIVE:
        raise LessonNotActive
    assert lesson is not None
    await ctx.redis_client.release_teacher_lesson(teacher.school_number, lesson_id)
    return lesson


async def get_lesson(
    ctx: ServiceContext, *, teacher: UserSessionRedis, lesson_id: str
) -> LessonRedis:
    return await _own_lesson(ctx, teacher, lesson_id)


async def list_lessons(
    ctx: ServiceContext, *, teacher: UserSessionRedis, limit: int, offset: int
) -> list[LessonRedis]:
    """The teacher's lessons: active ones first, then finished ones, newest first."""
    now = ctx.now()
    ids = await ctx.redis_client.teacher_lesson_ids(teacher.school_number)
    lessons = await ctx.redis_client.get_lessons(ids)
    lessons.sort(key=lambda lesson: (not lesson.is_active(now), -to_ms(lesson.start_time)))
    return lessons[offset : offset + limit]


async def get_roll(
    ctx: ServiceContext, *, teacher: UserSessionRedis, lesson_id: str
) -> list[AttendanceRecordRedis]:
    """Every record of the teacher's lesson, ordered by attendance time."""
    await _own_lesson(ctx, teacher, lesson_id)
    return await ctx.redis_client.get_attendance_records(lesson_id)
