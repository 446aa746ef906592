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
from attn.http.schemas import AddRecordIn, CorrectionIn, LessonIn, WeightsIn
from attn.models import (
    LessonRedis,
    LessonStatus,
    RecordStatus,
    SecurityOption,
    StatusWeights,
    UserSessionRedis,
)
from attn.services import attendance, projector, teacher_service
from attn.web.course_chart import Point, rate_chart
from attn.web.i18n import translator
from attn.web.render import (
    PageRoute,
    back,
    error_text,
    form_error,
    language,
    percent,
    render,
    when,
)
from attn.web.session import CsrfForm, PageTeacher, ScriptTeacher, sign_in_url

router = APIRouter(include_in_schema=False, route_class=PageRoute)

HISTORY_PAGE = 50
# A page number past this is refused (422), as the API refuses an offset past its bound.
HISTORY_LAST_PAGE = MAX_OFFSET // HISTORY_PAGE
HistoryPage = Annotated[int, Query(ge=0, le=HISTORY_LAST_PAGE)]
# The student just added, whose name the lesson page confirms.
AddedQuery = Annotated[str | None, Query(max_length=32)]
# The roll's row buttons besides a status: accept (the service decides which status), and
# apply (the status picked in the row's menu).
ACCEPT = "accept"
APPLY = "apply"
# The change list shows its latest entries (a lecture hall's is thousands long, and it is
# rendered again on every update); `?changes=all` shows every one.
CHANGES_SHOWN = 200
ChangesQuery = Annotated[str | None, Query(max_length=8)]


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
    notice: str | None = None,
    form: dict[str, str] | None = None,
    confirm_finish: bool = False,
    all_changes: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    view = await teacher_service.read_roll(ctx, teacher=user, lesson_id=lesson_id)
    lesson = view.lesson
    return render(
        request,
        "lesson.html",
        user=user,
        sign_in_again=sign_in_url(f"/teacher/lessons/{lesson.lesson_id}"),
        lesson=lesson,
        live=lesson.is_active(ctx.now()),
        view=view,
        records=view.records,
        projector_link=await _projector_link(ctx, user, lesson),
        error=error,
        notice=notice,
        form=form or {},
        confirm_finish=confirm_finish,
        all_changes=all_changes,
        changes_shown=CHANGES_SHOWN,
        course_url=_roster_url(lesson.lesson_name),
        status_code=status_code,
    )


def _roster_url(course: str) -> str:
    return f"/teacher/rosters/{quote(course, safe='')}"


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
    request: Request,
    ctx: Context,
    user: PageTeacher,
    lesson_id: str,
    added: AddedQuery = None,
    changes: ChangesQuery = None,
) -> HTMLResponse:
    notice = None
    if added:
        view = await teacher_service.read_roll(ctx, teacher=user, lesson_id=lesson_id)
        record = next((r for r in view.records if r.student_number == added), None)
        if record is not None:
            t = translator(language(request))
            notice = t("added_notice").format(
                name=record.student_full_name,
                number=record.student_number,
                status=t(f"st_{record.status.value}"),
            )
    return await _lesson_page(
        request, ctx, user, lesson_id, notice=notice, all_changes=changes == "all"
    )


@router.get("/teacher/lessons/{lesson_id}/roll", response_class=HTMLResponse)
async def roll_fragment(
    request: Request, ctx: Context, user: ScriptTeacher, lesson_id: str
) -> HTMLResponse:
    """The roll's table, counts and not-yet list, which the live page swaps in on every
    update."""
    view = await teacher_service.read_roll(ctx, teacher=user, lesson_id=lesson_id)
    return render(
        request,
        "_roll.html",
        user=user,
        lesson=view.lesson,
        view=view,
        records=view.records,
    )


@router.get("/teacher/lessons/{lesson_id}/changes", response_class=HTMLResponse)
async def changes_fragment(
    request: Request,
    ctx: Context,
    user: ScriptTeacher,
    lesson_id: str,
    changes: ChangesQuery = None,
) -> HTMLResponse:
    """The change list, which the live page swaps in on every update (the roll's stream)."""
    view = await teacher_service.read_roll(ctx, teacher=user, lesson_id=lesson_id)
    return render(
        request,
        "_changes.html",
        user=user,
        lesson=view.lesson,
        view=view,
        all_changes=changes == "all",
        changes_shown=CHANGES_SHOWN,
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
        if form.get("status") == ACCEPT:
            await teacher_service.accept_record(
                ctx, teacher=user, lesson_id=lesson_id, student_number=student_number
            )
            return back(f"/teacher/lessons/{lesson_id}#roll")
        # "apply" sends the status chosen in the row's menu; a button names its own
        status = form.get("choice", "") if form.get("status") == APPLY else form.get("status", "")
        body = CorrectionIn.model_validate(
            {"status": status, "reason": form.get("reason", "").strip() or None}
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
        view = await teacher_service.read_roll(ctx, teacher=user, lesson_id=lesson_id)
        number = teacher_service.pick_student(view.roster, form.get("student_number", ""))
        body = AddRecordIn.model_validate({"student_number": number})
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
    return back(f"/teacher/lessons/{lesson_id}?added={quote(body.student_number)}#roll")


@router.get("/teacher/lessons/{lesson_id}/finish", response_class=HTMLResponse)
async def finish_question(
    request: Request, ctx: Context, user: PageTeacher, lesson_id: str
) -> HTMLResponse:
    """The first step of finishing: the lesson page asking to confirm, with its counts."""
    return await _lesson_page(request, ctx, user, lesson_id, confirm_finish=True)


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
async def projector_page(
    request: Request, ctx: Context, user: PageTeacher, lesson_id: str
) -> HTMLResponse:
    """The projector view, for the signed-in teacher (the projector link shows the same)."""
    lesson = await teacher_service.get_lesson(ctx, teacher=user, lesson_id=lesson_id)
    return _projector(
        request,
        projector.state(ctx, lesson),
        base=f"/teacher/lessons/{lesson_id}",
        sign_in_again=sign_in_url(request.url.path),
    )


@router.get("/teacher/lessons/{lesson_id}/projector.json")
async def projector_state(ctx: Context, user: ScriptTeacher, lesson_id: str) -> Response:
    """What the projector page polls: the current code, its seconds left, the count."""
    lesson = await teacher_service.get_lesson(ctx, teacher=user, lesson_id=lesson_id)
    return _projector_json(projector.state(ctx, lesson))


@router.get("/teacher/lessons/{lesson_id}/qr.svg")
async def qr(ctx: Context, user: ScriptTeacher, lesson_id: str) -> Response:
    code = await teacher_service.get_code(ctx, teacher=user, lesson_id=lesson_id)
    return qr_svg(code)


def _projector(
    request: Request, state: projector.ProjectorState, *, base: str, sign_in_again: str | None
) -> HTMLResponse:
    """The projector view; its script polls `<base>/projector.json` and loads `<base>/qr.svg`."""
    return render(
        request,
        "projector.html",
        lesson=state.lesson,
        state=state,
        base=base,
        sign_in_again=sign_in_again,
    )


def _projector_json(state: projector.ProjectorState) -> Response:
    body: dict[str, Any] = {
        "count": state.count,
        "counts": state.lesson.counts.by_status(),
        "active": state.active,
    }
    if state.code is not None:
        body |= {"code": state.code.code, "seconds_left": state.code.valid_for_seconds}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.get("/teacher/history", response_class=HTMLResponse)
async def history_page(
    request: Request, ctx: Context, user: PageTeacher, page: HistoryPage = 0
) -> HTMLResponse:
    lessons = await teacher_service.list_lessons(
        ctx, teacher=user, limit=HISTORY_PAGE, offset=page * HISTORY_PAGE
    )
    courses = sorted({lesson.lesson_name for lesson in lessons})
    return render(request, "history.html", user=user, lessons=lessons, courses=courses, page=page)


def lesson_label(column: attendance.CourseLesson) -> str:
    """A course table's column: the lesson's start, and its name when the course's lessons
    differ in spelling."""
    start = when(column.lesson.start_time)
    return f"{start} \u00b7 {column.lesson.lesson_name}" if column.named else start


async def _course_page(
    request: Request,
    ctx: Any,
    user: UserSessionRedis,
    name: str,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    table = await attendance.course_table(ctx, teacher=user, course=name)
    page_language = language(request)
    t = translator(page_language)
    points = [Point(lesson_label(column), column.rate.percent) for column in table.lessons]
    described = "; ".join(
        f"{point.label}: {percent(point.percent, page_language)}" for point in points
    )
    chart = rate_chart(
        points,
        title=t("rate_chart"),
        description=described,
        axis="%{}" if page_language == "tr" else "{}%",
    )
    earning, excluded = attendance.rule_terms(table.weights)
    return render(
        request,
        "course.html",
        status_code,
        user=user,
        table=table,
        course=name,
        quote=quote,
        chart=chart,
        label=lesson_label,
        earning=earning,
        excluded=excluded,
        error=error,
        form=form,
    )


@router.get("/teacher/course", response_class=HTMLResponse)
async def course_page(
    request: Request, ctx: Context, user: PageTeacher, name: CourseQuery = ""
) -> HTMLResponse:
    """A course (every lesson of one name) as a table of students by lessons, with each
    lesson's counts and rate, the course average, a chart of the rates and the rate's rule."""
    return await _course_page(request, ctx, user, name)


def _weight(value: str | None) -> float:
    """A weight typed in the form ("0.5" or "0,5"); -1 (refused by the rule) when it is not
    a number."""
    try:
        return float((value or "").strip().replace(",", "."))
    except ValueError:
        return -1.0


@router.post("/teacher/course/weights", response_class=HTMLResponse)
async def course_weights(
    request: Request, ctx: Context, user: PageTeacher, form: CsrfForm, name: CourseQuery = ""
) -> Response:
    """Set what each status counts for in the course's rate."""
    try:
        body = WeightsIn.model_validate(
            {
                status.value: None
                if form.get(f"x_{status.value}")
                else _weight(form.get(f"w_{status.value}"))
                for status in RecordStatus
            }
        )
        weights = StatusWeights.model_validate(body.model_dump())
        await attendance.set_weights(ctx, teacher=user, course=name, weights=weights)
    except AttnError as exc:
        return await _course_page(
            request, ctx, user, name, error=error_text(request, exc), form=form, status_code=422
        )
    except ValidationError:
        error = translator(language(request))("weight_invalid")
        return await _course_page(request, ctx, user, name, error=error, form=form, status_code=422)
    return back(f"/teacher/course?name={quote(name)}#weights")


# --- the projector link: the projector view without a teacher's session ----------------------


async def _projector_link(
    ctx: Any, user: UserSessionRedis, lesson: LessonRedis
) -> projector.ProjectorLink | None:
    """The live lesson's projector link for its page's box; None when it was revoked."""
    if not lesson.is_active(ctx.now()):
        return None
    return await projector.current_link(ctx, teacher=user, lesson_id=lesson.lesson_id)


@router.post("/teacher/lessons/{lesson_id}/projector-link")
async def new_projector_link(
    ctx: Context, user: PageTeacher, _form: CsrfForm, lesson_id: str
) -> Response:
    """A new projector link for the lesson page's box (the previous one stops working)."""
    await projector.new_link(ctx, teacher=user, lesson_id=lesson_id)
    return back(f"/teacher/lessons/{lesson_id}#projector-link")


@router.post("/teacher/lessons/{lesson_id}/projector-link/revoke")
async def revoke_projector_link(
    ctx: Context, user: PageTeacher, _form: CsrfForm, lesson_id: str
) -> Response:
    await projector.revoke_link(ctx, teacher=user, lesson_id=lesson_id)
    return back(f"/teacher/lessons/{lesson_id}#projector-link")


@router.get("/projector/{token}", response_class=HTMLResponse)
async def linked_projector(request: Request, ctx: Context, token: str) -> HTMLResponse:
    """The projector view on its own link: no session, this one lesson's view only."""
    lesson = await projector.open_link(ctx, token)
    return _projector(
        request, projector.state(ctx, lesson), base=f"/projector/{token}", sign_in_again=None
    )


@router.get("/projector/{token}/projector.json")
async def linked_projector_state(ctx: Context, token: str) -> Response:
    return _projector_json(projector.state(ctx, await projector.open_link(ctx, token)))


@router.get("/projector/{token}/qr.svg")
async def linked_qr(ctx: Context, token: str) -> Response:
    return qr_svg(await projector.link_code(ctx, token))
