"""`/teacher`: start, watch, correct and finish attendance lessons; course rosters and the
weights of a course's attendance rate."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from attn.errors import InvalidRoster, RosterProblem
from attn.http.deps import (
    ClientAddress,
    Context,
    CoursePath,
    CurrentTeacher,
    ExpectedDigest,
    Limit,
    Offset,
    OptionalLimit,
    StudentNumber,
    requested_page,
)
from attn.http.errors import error_responses
from attn.http.events import roll_events
from attn.http.qr import qr_svg
from attn.http.schemas import (
    AddRecordIn,
    CorrectionIn,
    LessonIn,
    ProjectorLinkOut,
    RecordOut,
    RosterPreviewOut,
    TeacherLessonOut,
    WeightsIn,
)
from attn.models import AuditEntry, CheckInCode, Roster, RosterSummary, StatusWeights
from attn.services import attendance, projector, rosters, teacher_service

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


@router.get("/courses/{course:path}/weights", responses=error_responses(401, 403, 404, 422))
async def get_weights(ctx: Context, teacher: CurrentTeacher, course: CoursePath) -> StatusWeights:
    """What each status counts for in the course's attendance rate (the defaults until the
    teacher sets them): a share of one lesson, or null for a status left out of the rate."""
    return await attendance.get_weights(ctx, teacher=teacher, course=course)


@router.put("/courses/{course:path}/weights", responses=error_responses(401, 403, 404, 422))
async def put_weights(
    ctx: Context, teacher: CurrentTeacher, course: CoursePath, body: WeightsIn
) -> StatusWeights:
    """Set what each status counts for in the course's rate; every rate of the course (the
    course page, the students' own pages, the exports) follows at once."""
    weights = StatusWeights.model_validate(body.model_dump())
    return await attendance.set_weights(ctx, teacher=teacher, course=course, weights=weights)


@router.get("/rosters", responses=error_responses(401, 403))
async def list_rosters(ctx: Context, teacher: CurrentTeacher) -> list[RosterSummary]:
    """The teacher's course rosters."""
    return await rosters.list_rosters(ctx, teacher=teacher)


@router.put(
    "/rosters/{course:path}",
    responses=error_responses(401, 403, 409, 422),
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
    ctx: Context,
    teacher: CurrentTeacher,
    course: CoursePath,
    request: Request,
    expected_digest: ExpectedDigest = None,
) -> Roster:
    """Replace the expected students of a course (the lessons named `course`) with a CSV of
    `school_number,full_name`. Lessons started afterwards mark roster students without a
    record absent when they are persisted, and flag joins from outside it. With
    `?expected_digest=` (a preview's `digest`) the roster is replaced only if it is still the
    one that preview compared with (409 `roster_changed` otherwise)."""
    text = await _roster_text(request)
    return await rosters.put_roster(
        ctx, teacher=teacher, course=course, csv_text=text, expected_digest=expected_digest
    )


async def _roster_text(request: Request) -> str:
    body = await request.body()
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        problem = RosterProblem(0, "encoding", "", "The roster must be UTF-8 text.")
        raise InvalidRoster(problem.message, [problem]) from None


@router.post(
    "/rosters/{course:path}/preview",
    responses=error_responses(401, 403, 404, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def preview_roster(
    ctx: Context, teacher: CurrentTeacher, course: CoursePath, request: Request
) -> RosterPreviewOut:
    """What a PUT of this CSV would change, stored nowhere: the students added, removed and
    renamed, how many stay, and every bad line. Send `digest` back as PUT's
    `?expected_digest=` to replace the roster only if it is still the one compared with."""
    text = await _roster_text(request)
    preview = await rosters.preview_roster(ctx, teacher=teacher, course=course, csv_text=text)
    return RosterPreviewOut.of(preview)


@router.delete(
    "/rosters/{course:path}/students/{student_number}",
    status_code=204,
    responses=error_responses(401, 403, 404, 422),
)
async def remove_roster_student(
    ctx: Context, teacher: CurrentTeacher, course: CoursePath, student_number: StudentNumber
) -> Response:
    """Take one student off a course's roster; lessons already started keep theirs."""
    await rosters.remove_student(ctx, teacher=teacher, course=course, student_number=student_number)
    return Response(status_code=204)


@router.get("/rosters/{course:path}", responses=error_responses(401, 403, 404))
async def get_roster(ctx: Context, teacher: CurrentTeacher, course: CoursePath) -> Roster:
    """One course's roster."""
    return await rosters.get_roster(ctx, teacher=teacher, course=course)


@router.delete("/rosters/{course:path}", status_code=204, responses=error_responses(401, 403, 404))
async def delete_roster(ctx: Context, teacher: CurrentTeacher, course: CoursePath) -> Response:
    """Remove a course's roster."""
    await rosters.delete_roster(ctx, teacher=teacher, course=course)
    return Response(status_code=204)


@router.post("/lessons/{lesson_id}/projector-link", responses=error_responses(401, 403, 404, 409))
async def new_projector_link(
    ctx: Context, teacher: CurrentTeacher, lesson_id: str
) -> ProjectorLinkOut:
    """A new projector link for the active lesson, revoking the previous one: its projector
    view (page, state and QR image) without a session, until `expires_at`."""
    link = await projector.new_link(ctx, teacher=teacher, lesson_id=lesson_id)
    return ProjectorLinkOut(url=link.url, expires_at=link.expires_at)


@router.delete(
    "/lessons/{lesson_id}/projector-link",
    status_code=204,
    responses=error_responses(401, 403, 404),
)
async def revoke_projector_link(ctx: Context, teacher: CurrentTeacher, lesson_id: str) -> Response:
    """Revoke the lesson's projector link; a screen showing it says it was revoked."""
    await projector.revoke_link(ctx, teacher=teacher, lesson_id=lesson_id)
    return Response(status_code=204)
