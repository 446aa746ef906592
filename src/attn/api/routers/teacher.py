"""`/teacher`: start, finish and watch attendance lessons."""

from __future__ import annotations

from fastapi import APIRouter

from attn.api.deps import Context, CurrentTeacher, Limit, Offset
from attn.api.errors import error_responses
from attn.models import LessonIn, LessonOut, RecordOut
from attn.services import teacher_service

router = APIRouter(prefix="/teacher", tags=["teacher"])


@router.post("/lessons", status_code=201, responses=error_responses(401, 403, 409, 422))
async def start_lesson(ctx: Context, teacher: CurrentTeacher, body: LessonIn) -> LessonOut:
    """Open a lesson for attendance (one active lesson per teacher)."""
    lesson = await teacher_service.start_attendance(
        ctx, teacher=teacher, lesson_name=body.lesson_name, duration_minutes=body.duration_minutes
    )
    return LessonOut.of(lesson, ctx.now())


@router.get("/lessons", responses=error_responses(401, 403, 422))
async def list_lessons(
    ctx: Context, teacher: CurrentTeacher, limit: Limit = 50, offset: Offset = 0
) -> list[LessonOut]:
    """The teacher's lessons: active first, then finished ones, newest first."""
    lessons = await teacher_service.list_lessons(ctx, teacher=teacher, limit=limit, offset=offset)
    now = ctx.now()
    return [LessonOut.of(lesson, now) for lesson in lessons]


@router.get("/lessons/{lesson_id}", responses=error_responses(401, 403, 404))
async def get_lesson(ctx: Context, teacher: CurrentTeacher, lesson_id: str) -> LessonOut:
    """One of the teacher's lessons."""
    lesson = await teacher_service.get_lesson(ctx, teacher=teacher, lesson_id=lesson_id)
    return LessonOut.of(lesson, ctx.now())


@router.post("/lessons/{lesson_id}/finish", responses=error_responses(401, 403, 404, 409))
async def finish_lesson(ctx: Context, teacher: CurrentTeacher, lesson_id: str) -> LessonOut:
    """Finish the lesson: no new joins, and it is no longer found by students."""
    lesson = await teacher_service.finish_attendance(ctx, teacher=teacher, lesson_id=lesson_id)
    return LessonOut.of(lesson, ctx.now())


@router.get("/lessons/{lesson_id}/records", responses=error_responses(401, 403, 404))
async def lesson_records(ctx: Context, teacher: CurrentTeacher, lesson_id: str) -> list[RecordOut]:
    """The lesson's roll, ordered by attendance time."""
    records = await teacher_service.get_roll(ctx, teacher=teacher, lesson_id=lesson_id)
    return [RecordOut.model_validate(record.model_dump()) for record in records]
