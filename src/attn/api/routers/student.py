"""`/student`: find active lessons, join one, read one's own attendance."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Body, Query, Response
from pydantic import StringConstraints

from attn.http.deps import (
    ClientAddress,
    Context,
    CurrentStudent,
    DeviceId,
    Limit,
    Offset,
    OptionalLimit,
    requested_page,
)
from attn.http.errors import error_responses
from attn.http.schemas import JoinIn, LessonOut, RecordOut, StudentRecordOut
from attn.models import TypedText
from attn.services import student_service, verification_service
from attn.services.student_service import CheckIn

router = APIRouter(prefix="/student", tags=["student"])

SearchText = Annotated[str, Query(min_length=1, max_length=1000)]
# The looser search's words: a lesson name's length at most, no control characters.
LooseText = Annotated[TypedText, StringConstraints(max_length=200)]
# Sent with a looser search's answer when more lessons may match than it read.
MORE_HEADER = "X-ATTN-More-Results"


@router.get("/lessons", responses=error_responses(401, 403, 422))
async def find_lessons(
    ctx: Context,
    student: CurrentStudent,
    lesson_name: SearchText,
    teacher_name: SearchText,
    limit: OptionalLimit = None,
    offset: Offset = 0,
) -> list[LessonOut]:
    """Every active lesson with this name and teacher's full name (case and spacing ignored),
    or a page of them."""
    lessons = await student_service.find_active_lessons(
        ctx, lesson_name=lesson_name, teacher_name=teacher_name
    )
    page = requested_page(limit, offset)
    if page is not None:
        lessons = lessons[page]
    now = ctx.now()
    return [LessonOut.of(lesson, now) for lesson in lessons]


@router.get(
    "/lessons/search",
    responses={
        200: {
            "description": "The lessons found",
            "headers": {
                MORE_HEADER: {
                    "description": "`true` when more lessons may match than were read",
                    "schema": {"type": "string", "enum": ["true"]},
                }
            },
        },
        **error_responses(401, 403, 422),
    },
)
async def search_lessons(
    ctx: Context,
    student: CurrentStudent,
    response: Response,
    q: Annotated[
        LooseText,
        Query(min_length=1, description="Words of the lesson's name, or their beginnings."),
    ],
    teacher: Annotated[
        LooseText, Query(description="Words of the teacher's name, or their beginnings.")
    ] = "",
) -> list[LessonOut]:
    """Active lessons found by the beginnings of words of their names (and, optionally, of
    their teacher's name), Turkish and other accented letters matching their plain ASCII
    forms; newest first, at most 50. `X-ATTN-More-Results: true` says more may match."""
    found = await student_service.search_active_lessons(ctx, text=q, teacher=teacher)
    if found.more:
        response.headers[MORE_HEADER] = "true"
    now = ctx.now()
    return [LessonOut.of(lesson, now) for lesson in found.lessons]


@router.get("/lessons/now", responses=error_responses(401, 403))
async def lessons_now(ctx: Context, student: CurrentStudent) -> list[LessonOut]:
    """The active lessons of the courses whose rosters list the caller, newest first."""
    lessons = await student_service.roster_lessons_now(ctx, student=student)
    now = ctx.now()
    return [LessonOut.of(lesson, now) for lesson in lessons]


@router.post(
    "/lessons/{lesson_id}/attendance",
    status_code=201,
    response_model=RecordOut,
    responses={
        200: {"model": RecordOut, "description": "The student had already joined"},
        **error_responses(401, 403, 404, 409, 422, 429),
    },
)
async def join_lesson(
    ctx: Context,
    student: CurrentStudent,
    lesson_id: str,
    address: ClientAddress,
    device: DeviceId,
    background: BackgroundTasks,
    body: Annotated[JoinIn | None, Body()] = None,
) -> Response:
    """Check in to an active lesson; a repeated join returns the existing record.

    Lessons with security options need the current `code`, a client address in the
    lesson's networks, or a device id (`X-ATTN-Device`) not used by another student.
    """
    result = await student_service.join_attendance(
        ctx,
        student=student,
        lesson_id=lesson_id,
        check_in=CheckIn(code=body.code if body else None, client=address, device_id=device),
    )
    verification_service.request_after_join(background.add_task, ctx, result)
    # The stored record is already the API's Record JSON: send it as it is.
    return Response(
        content=result.record_json,
        status_code=201 if result.created else 200,
        media_type="application/json",
    )


@router.get("/lessons/{lesson_id}/attendance", responses=error_responses(401, 403, 404))
async def own_record(ctx: Context, student: CurrentStudent, lesson_id: str) -> RecordOut:
    """The caller's own record in one lesson."""
    record = await student_service.get_own_record(ctx, student=student, lesson_id=lesson_id)
    return RecordOut.of(record)


@router.get("/attendance", responses=error_responses(401, 403, 422))
async def own_records(
    ctx: Context, student: CurrentStudent, limit: Limit = 50, offset: Offset = 0
) -> list[StudentRecordOut]:
    """The caller's own records, newest lesson first."""
    found = await student_service.list_own_records(ctx, student=student, limit=limit, offset=offset)
    return [
        StudentRecordOut(
            **RecordOut.of(record).model_dump(),
            lesson_name=lesson.lesson_name,
            teacher_full_name=lesson.teacher_full_name,
            start_time=lesson.start_time,
        )
        for lesson, record in found
    ]
