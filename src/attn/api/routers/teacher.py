"""`/teacher`: start, watch, correct and finish attendance lessons; course rosters."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from attn.errors import InvalidRoster
from attn.http.deps import (
    ClientAddress,
    Context,
    CoursePath,
    CurrentTeacher,
    Limit,
    Offset,
    OptionalLimit,
    StudentNumber,
    requested_page,
)
from attn.http.errors import error_responses
from attn.http.events import roll_events
from attn.http.qr import qr_svg
from attn.http.schemas import AddRecordIn, CorrectionIn, LessonIn, RecordOut, TeacherLessonOut
from attn.models import AuditEntry, CheckInCode, Roster, RosterSummary
from attn.services import rosters, teacher_service

router = APIRouter(prefix="/teacher", tags=["teacher"])


@router.post("/lessons", status_code=201, responses=error_responses(401, 403, 409, 422))
async def start_lesson(
    ctx: Context, teacher: CurrentTeacher, body: LessonIn, address: ClientAddress
) -> TeacherLessonOut:
    """Open a lesson for attendance (one active lesson per teacher), with its options."""
    lesson = await teacher_service.start_attendance(
        ctx,
        teacher=teacher,
        lesson_name=body.lesson_name,
        duration_minutes=body.duration_minutes,
        late_after_minutes=body.late_after_minutes,
        security=body.security,
        allowed_subnets=body.allowed_subnets,
        teacher_address=address,
        room=body.room,
    )
    return TeacherLessonOut.of(lesson, ctx.now())


@router.get("/lessons", responses=error_responses(401, 403, 422))
async def list_lessons(
    ctx: Context, teacher: CurrentTeacher, limit: Limit = 50, offset: Offset = 0
) -> list[TeacherLessonOut]:
    """The teacher's lessons: active first, then finished ones, newest first."""
    lessons = await teacher_service.list_lessons(ctx, teacher=teacher, limit=limit, offset=offset)
    now = ctx.now()
    return [TeacherLessonOut.of(lesson, now) for lesson in lessons]


@router.get("/lessons/{lesson_id}", responses=error_responses(401, 403, 404))
async def get_lesson(ctx: Context, teacher: CurrentTeacher, lesson_id: str) -> TeacherLessonOut:
    """One of the teacher's lessons."""
    lesson = await teacher_service.get_lesson(ctx, teacher=teacher, lesson_id=lesson_id)
    return TeacherLessonOut.of(lesson, ctx.now())


@router.post("/lessons/{lesson_id}/finish", responses=error_responses(401, 403, 404, 409))
async def finish_lesson(ctx: Context, teacher: CurrentTeacher, lesson_id: str) -> TeacherLessonOut:
    """Finish the lesson: no new joins, and it is no longer found by students."""
    lesson = await teacher_service.finish_attendance(ctx, teacher=teacher, lesson_id=lesson_id)
    return TeacherLessonOut.of(lesson, ctx.now())


@router.get(
    "/lessons/{lesson_id}/records",
    response_model=list[RecordOut],
    responses=error_responses(401, 403, 404, 422),
)
async def lesson_records(
    ctx: Context,
    teacher: CurrentTeacher,
    lesson_id: str,
    limit: OptionalLimit = None,
    offset: Offset = 0,
) -> Response:
    """The lesson's roll, ordered by attendance time: every record, or a page of it."""
    page = requested_page(limit, offset)
    roll = await teacher_service.get_roll_json(ctx, teacher=teacher, lesson_id=lesson_id, page=page)
    return Response(roll, media_type="application/json")


@router.post(
    "/lessons/{lesson_id}/records",
    status_code=201,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def add_record(
    ctx: Context, teacher: CurrentTeacher, lesson_id: str, body: AddRecordIn
) -> RecordOut:
    """Add a student who could not check in (live or after the lesson); audited."""
    record = await teacher_service.add_record(
        ctx,
        teacher=teacher,
        lesson_id=lesson_id,
        student_number=body.student_number,
        status=body.status,
        reason=body.reason,
    )
    return RecordOut.of(record)


@router.patch(
    "/lessons/{lesson_id}/records/{student_number}",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def correct_record(
    ctx: Context,
    teacher: CurrentTeacher,
    lesson_id: str,
    student_number: StudentNumber,
    body: CorrectionIn,
) -> RecordOut:
    """Decide a record: accept (`present`/`late`), reject (with a reason), excuse, or mark
    absent. Audited; no later automatic result overrides it."""
    record = await teacher_service.correct_record(
        ctx,
        teacher=teacher,
        lesson_id=lesson_id,
        student_number=student_number,
        status=body.status,
        reason=body.reason,
    )
    return RecordOut.of(record)


@router.get("/lessons/{lesson_id}/audit", responses=error_responses(401, 403, 404))
async def lesson_audit(ctx: Context, teacher: CurrentTeacher, lesson_id: str) -> list[AuditEntry]:
    """Every change of the lesson's records, oldest first."""
    return await teacher_service.get_audit(ctx, teacher=teacher, lesson_id=lesson_id)


@router.get(
    "/lessons/{lesson_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "Server-Sent Events: `record` events carry a new or changed Record",
        },
        **error_responses(401, 403, 404, 429),
    },
)
async def lesson_events(ctx: Context, teacher: CurrentTeacher, lesson_id: str) -> StreamingResponse:
    """The live roll as Server-Sent Events: one `record` event (a Record) per check-in or
    change, a `ready` event first and a comment every 15 s to keep proxies open; an `end`
    event, and the end of the stream, once the session ends or the lesson leaves live state.
    At most `ATTN_MAX_EVENT_STREAMS_PER_USER` streams per user at once (429 beyond)."""
    return await roll_events(ctx, teacher=teacher, lesson_id=lesson_id)


@router.get("/lessons/{lesson_id}/code", responses=error_responses(401, 403, 404, 409))
async def lesson_code(ctx: Context, teacher: CurrentTeacher, lesson_id: str) -> CheckInCode:
    """The rotating check-in code to show now, the seconds it has left, and its QR link."""
    return await teacher_service.get_code(ctx, teacher=teacher, lesson_id=lesson_id)


@router.get(
    "/lessons/{lesson_id}/code.svg",
    response_class=Response,
    responses={
        200: {"content": {"image/svg+xml": {}}, "description": "The QR code of the join link"},
        **error_responses(401, 403, 404, 409),
    },
)
async def lesson_code_qr(ctx: Context, teacher: CurrentTeacher, lesson_id: str) -> Response:
    """The current code's join link as a QR code (SVG), for the projector."""
    code = await teacher_service.get_code(ctx, teacher=teacher, lesson_id=lesson_id)
    return qr_svg(code)


@router.get("/rosters", responses=error_responses(401, 403))
async def list_rosters(ctx: Context, teacher: CurrentTeacher) -> list[RosterSummary]:
    """The teacher's course rosters."""
    return await rosters.list_rosters(ctx, teacher=teacher)


@router.put(
    "/rosters/{course:path}",
    responses=error_responses(401, 403, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "school_number,full_name\nS2001,Elif Kaya\n",
                }
            },
        }
    },
)
async def put_roster(
    ctx: Context, teacher: CurrentTeacher, course: CoursePath, request: Request
) -> Roster:
    """Replace the expected students of a course (the lessons named `course`) with a CSV of
    `school_number,full_name`. Lessons started afterwards mark roster students without a
    record absent when they are persisted, and flag joins from outside it."""
    body = await request.body()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRoster("The roster must be UTF-8 text.") from None
    return await rosters.put_roster(ctx, teacher=teacher, course=course, csv_text=text)


@router.get("/rosters/{course:path}", responses=error_responses(401, 403, 404))
async def get_roster(ctx: Context, teacher: CurrentTeacher, course: CoursePath) -> Roster:
    """One course's roster."""
    return await rosters.get_roster(ctx, teacher=teacher, course=course)


@router.delete("/rosters/{course:path}", status_code=204, responses=error_responses(401, 403, 404))
async def delete_roster(ctx: Context, teacher: CurrentTeacher, course: CoursePath) -> Response:
    """Remove a course's roster."""
    await rosters.delete_roster(ctx, teacher=teacher, course=course)
    return Response(status_code=204)
