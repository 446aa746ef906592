"""The teacher's pages: the dashboard with the start form, a lesson's live roll with its
corrections, the projector view, the history and a course's table."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import ValidationError

from attn.errors import AttnError
from attn.http.deps import MAX_OFFSET, ClientAddress, Context, CourseQuery, StudentNumber
from attn.http.events import roll_events
from attn.http.qr import qr_svg
from attn.http.schemas import AddRecordIn, CorrectionIn, LessonIn
from attn.models import LessonStatus, SecurityOption, UserSessionRedis
from attn.services import attendance, teacher_service
from attn.web.render import PageRoute, back, error_text, form_error, render
from attn.web.session import CsrfForm, PageTeacher, ScriptTeacher, sign_in_url

router = APIRouter(include_in_schema=False, route_class=PageRoute)

HISTORY_PAGE = 50
# A page number past this is refused (422), as the API refuses an offset past its bound.
HISTORY_LAST_PAGE = MAX_OFFSET // HISTORY_PAGE
HistoryPage = Annotated[int, Query(ge=0, le=HISTORY_LAST_PAGE)]


def _problem(request: Request, exc: AttnError | ValidationError) -> str:
    """What a refused form says: a service error's text, or the first rule it broke."""
    return error_text(request, exc) if isinstance(exc, AttnError) else form_error(request, exc)


@router.get("/teacher", response_class=HTMLResponse)
async def dashboard(request: Request, ctx: Context, user: PageTeacher) -> HTMLResponse:
    lessons = await teacher_service.list_lessons(ctx, teacher=user, limit=50, offset=0)
    now = ctx.now()
    active = [lesson for lesson in lessons if lesson.status_at(now) is LessonStatus.ACTIVE]
    return render(request, "dashboard.html", user=user, active=active, error=None, form={})


def _number(value: str | None) -> int | None:
    """A number typed in a form; None when left empty, -1 (refused by the schema's rule,
    with its message) when it is not a number."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return -1


@router.post("/teacher/start", response_class=HTMLResponse)
async def start(
    request: Request, ctx: Context, user: PageTeacher, form: CsrfForm, address: ClientAddress
) -> Response:
    try:
        body = LessonIn.model_validate(
            {
                "lesson_name": form.get("lesson_name", ""),
                "room": form.get("room", ""),
                "duration_minutes": _number(form.get("duration_minutes")),
                "late_after_minutes": _number(form.get("late_after_minutes")),
                "security": [option for option in SecurityOption if form.get(f"opt_{option}")],
                "allowed_subnets": [
                    item.strip() for item in form.get("subnets", "").split(",") if item.strip()
                ],
            }
        )
        lesson = await teacher_service.start_attendance(
            ctx,
            teacher=user,
            lesson_name=body.lesson_name,
            duration_minutes=body.duration_minutes,
            late_after_minutes=body.late_after_minutes,
            security=body.security,
            allowed_subnets=body.allowed_subnets,
            teacher_address=address,
            room=body.room,
        )
    except (AttnError, ValidationError) as exc:
        return render(
            request,
            "dashboard.html",
            422,
            user=user,
            active=[],
            error=_problem(request, exc),
            form=form,
        )
    return back(f"/teacher/lessons/{lesson.lesson_id}")


async def _lesson_page(
    request: Request,
    ctx: Any,
    user: UserSessionRedis,
    lesson_id: str,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    lesson = await teacher_service.get_lesson(ctx, teacher=user, lesson_id=lesson_id)
    records = await teacher_service.get_roll(ctx, teacher=user, lesson_id=lesson_id)
    audit = await teacher_service.get_audit(ctx, teacher=user, lesson_id=lesson_id)
    return render(
        request,
        "lesson.html",
        user=user,
        sign_in_again=sign_in_url(f"/teacher/lessons/{lesson.lesson_id}"),
        lesson=lesson,
        live=lesson.is_active(ctx.now()),
        records=records,
        audit=audit,
        counts=attendance.status_counts(records),
        error=error,
        form=form or {},
        status_code=status_code,
    )


async def _refused_form(
    request: Request,
    ctx: Any,
    user: UserSessionRedis,
    lesson_id: str,
    exc: AttnError | ValidationError,
    form: dict[str, str],
) -> HTMLResponse:
    """The lesson page again, saying why a roll form was refused and keeping what was typed."""
    return await _lesson_page(
        request, ctx, user, lesson_id, error=_problem(request, exc), form=form, status_code=422
    )


@router.get("/teacher/lessons/{lesson_id}", response_class=HTMLResponse)
async def lesson_page(
    request: Request, ctx: Context, user: PageTeacher, lesson_id: str
) -> HTMLResponse:
    return await _lesson_page(request, ctx, user, lesson_id)


@router.get("/teacher/lessons/{lesson_id}/roll", response_class=HTMLResponse)
async def roll_fragment(
    request: Request, ctx: Context, user: ScriptTeacher, lesson_id: str
) -> HTMLResponse:
    """The roll's table and counts, which the live page swaps in on every update."""
    records = await teacher_service.get_roll(ctx, teacher=user, lesson_id=lesson_id)
    lesson = await teacher_service.get_lesson(ctx, teacher=user, lesson_id=lesson_id)
    return render(
        request,
        "_roll.html",
        user=user,
        lesson=lesson,
        records=records,
        counts=attendance.status_counts(records),
    )


@router.get("/teacher/lessons/{lesson_id}/live")
async def live(ctx: Context, user: ScriptTeacher, lesson_id: str) -> StreamingResponse:
    """The live roll's Server-Sent Events, for the page (the API's stream, by cookie)."""
    return await roll_events(ctx, teacher=user, lesson_id=lesson_id)


@router.post("/teacher/lessons/{lesson_id}/records/{student_number}", response_class=HTMLResponse)
async def decide(
    request: Request,
    ctx: Context,
    user: PageTeacher,
    form: CsrfForm,
    lesson_id: str,
    student_number: StudentNumber,
) -> Response:
    try:
        body = CorrectionIn.model_validate(
            {"status": form.get("status", ""), "reason": form.get("reason", "").strip() or None}
        )
        await teacher_service.correct_record(
            ctx,
            teacher=user,
            lesson_id=lesson_id,
            student_number=student_number,
            status=body.status,
            reason=body.reason,
        )
    except (AttnError, ValidationError) as exc:
        return await _refused_form(request, ctx, user, lesson_id, exc, form)
    return back(f"/teacher/lessons/{lesson_id}#roll")


@router.post("/teacher/lessons/{lesson_id}/add", response_class=HTMLResponse)
async def add(
    request: Request, ctx: Context, user: PageTeacher, form: CsrfForm, lesson_id: str
) -> Response:
    try:
        body = AddRecordIn.model_validate(
            {"student_number": form.get("student_number", "").strip()}
        )
        await teacher_service.add_record(
            ctx,
            teacher=user,
            lesson_id=lesson_id,
            student_number=body.student_number,
            status=body.status,
            reason=body.reason,
        )
    except (AttnError, ValidationError) as exc:
        return await _refused_form(request, ctx, user, lesson_id, exc, form)
    return back(f"/teacher/lessons/{lesson_id}#roll")


@router.post("/teacher/lessons/{lesson_id}/finish")
async def finish(
    request: Request, ctx: Context, user: PageTeacher, _form: CsrfForm, lesson_id: str
) -> Response:
    try:
        await teacher_service.finish_attendance(ctx, teacher=user, lesson_id=lesson_id)
    except AttnError as exc:
        return await _lesson_page(
            request, ctx, user, lesson_id, error=error_text(request, exc), status_code=409
        )
    return back(f"/teacher/lessons/{lesson_id}")


@router.get("/teacher/lessons/{lesson_id}/projector", response_class=HTMLResponse)
async def projector(
    request: Request, ctx: Context, user: PageTeacher, lesson_id: str
) -> HTMLResponse:
    lesson = await teacher_service.get_lesson(ctx, teacher=user, lesson_id=lesson_id)
    code = None
    if SecurityOption.CODE in lesson.security and lesson.is_active(ctx.now()):
        code = await teacher_service.get_code(ctx, teacher=user, lesson_id=lesson_id)
    return render(
        request,
        "projector.html",
        user=user,
        lesson=lesson,
        code=code,
        sign_in_again=sign_in_url(request.url.path),
    )


@router.get("/teacher/lessons/{lesson_id}/projector.json")
async def projector_state(ctx: Context, user: ScriptTeacher, lesson_id: str) -> Response:
    """What the projector page polls: the current code, its seconds left, the count."""
    lesson = await teacher_service.get_lesson(ctx, teacher=user, lesson_id=lesson_id)
    state: dict[str, Any] = {"count": lesson.attendee_count, "active": lesson.is_active(ctx.now())}
    if SecurityOption.CODE in lesson.security and state["active"]:
        code = await teacher_service.get_code(ctx, teacher=user, lesson_id=lesson_id)
        state |= {"code": code.code, "seconds_left": code.valid_for_seconds}
    return JSONResponse(state, headers={"Cache-Control": "no-store"})


@router.get("/teacher/lessons/{lesson_id}/qr.svg")
async def qr(ctx: Context, user: ScriptTeacher, lesson_id: str) -> Response:
    code = await teacher_service.get_code(ctx, teacher=user, lesson_id=lesson_id)
    return qr_svg(code)


@router.get("/teacher/history", response_class=HTMLResponse)
async def history_page(
    request: Request, ctx: Context, user: PageTeacher, page: HistoryPage = 0
) -> HTMLResponse:
    lessons = await teacher_service.list_lessons(
        ctx, teacher=user, limit=HISTORY_PAGE, offset=page * HISTORY_PAGE
    )
    courses = sorted({lesson.lesson_name for lesson in lessons})
    return render(request, "history.html", user=user, lessons=lessons, courses=courses, page=page)


@router.get("/teacher/course", response_class=HTMLResponse)
async def course_page(
    request: Request, ctx: Context, user: PageTeacher, name: CourseQuery = ""
) -> HTMLResponse:
    """A course (every lesson of one name) as a table of students by lessons."""
    table = await attendance.course_table(ctx, teacher=user, course=name)
    return render(request, "course.html", user=user, table=table, course=name, quote=quote)
