"""The student's pages: find an active lesson and check in, the page a QR code opens, and
one's own attendance."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from attn.errors import AttnError, InvalidRequest
from attn.http.deps import DEVICE_COOKIE, ClientAddress, Context
from attn.http.errors import status_of
from attn.http.schemas import JoinIn
from attn.services import attendance, devices, student_service, verification_service
from attn.services.student_service import CheckIn
from attn.services.validation import broken_rule, first_error
from attn.web.render import PageRoute, error_text, keep_device, render
from attn.web.session import CsrfForm, PageStudent

router = APIRouter(include_in_schema=False, route_class=PageRoute)

SEARCH_TEXT_MAX = 1000
HISTORY_SIZE = 200


@router.get("/student", response_class=HTMLResponse)
async def student_page(
    request: Request,
    ctx: Context,
    user: PageStudent,
    lesson_name: str = "",
    teacher_name: str = "",
) -> HTMLResponse:
    lessons = None
    if lesson_name.strip() and teacher_name.strip():
        lessons = await student_service.find_active_lessons(
            ctx,
            lesson_name=lesson_name[:SEARCH_TEXT_MAX],
            teacher_name=teacher_name[:SEARCH_TEXT_MAX],
        )
    return render(
        request,
        "student.html",
        user=user,
        lessons=lessons,
        lesson_name=lesson_name,
        teacher_name=teacher_name,
    )


@router.get("/join/{lesson_id}", response_class=HTMLResponse)
async def join_page(
    request: Request, ctx: Context, user: PageStudent, lesson_id: str, code: str = ""
) -> HTMLResponse:
    """Where the QR code leads: the lesson, with its code filled in, and one button."""
    lesson = await student_service.get_joinable_lesson(ctx, lesson_id=lesson_id)
    return render(
        request,
        "join.html",
        user=user,
        lesson=lesson,
        lesson_id=lesson_id,
        code=code,
        error=None,
        here=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    )


@router.post("/student/lessons/{lesson_id}/join", response_class=HTMLResponse)
async def join_submit(
    request: Request,
    ctx: Context,
    user: PageStudent,
    form: CsrfForm,
    lesson_id: str,
    address: ClientAddress,
    background: BackgroundTasks,
) -> HTMLResponse:
    # The phone's device id: the cookie's when it was issued to this student (the rule of
    # `valid_device_id`); else, for a session signed in before ids were issued, one issued
    # now for this phone, which the answer keeps.
    device = devices.bind(ctx.secret_key, request.cookies.get(DEVICE_COOKIE), user.school_number)
    try:
        try:
            body = JoinIn.model_validate({"code": form.get("code") or None})
        except ValidationError as exc:
            raise InvalidRequest(first_error(exc)).with_rule(broken_rule(exc)) from None
        result = await student_service.join_attendance(
            ctx,
            student=user,
            lesson_id=lesson_id,
            check_in=CheckIn(code=body.code, client=address, device_id=device),
        )
    except AttnError as exc:
        lesson = await student_service.get_joinable_lesson(ctx, lesson_id=lesson_id)
        refused = render(
            request,
            "join.html",
            status_code=status_of(exc),
            user=user,
            lesson=lesson,
            lesson_id=lesson_id,
            code=form.get("code", ""),
            error=error_text(request, exc),
            here=f"/join/{lesson_id}",
        )
        keep_device(request, refused, device)
        return refused
    verification_service.request_after_join(background.add_task, ctx, result)
    joined = render(
        request,
        "joined.html",
        user=user,
        record=result.record(),
        created=result.created,
        here=f"/join/{lesson_id}",
    )
    keep_device(request, joined, device)
    return joined


@router.get("/student/history", response_class=HTMLResponse)
async def student_history(request: Request, ctx: Context, user: PageStudent) -> HTMLResponse:
    found = await student_service.list_own_records(ctx, student=user, limit=HISTORY_SIZE, offset=0)
    rates = await attendance.student_course_rates(ctx, student=user, found=found)
    return render(request, "student_history.html", user=user, found=found, rates=rates)
