"""The student's pages: find an active lesson and check in, the page a QR code opens, and
one's own attendance."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import ValidationError

from attn.errors import AttnError, InvalidRequest
from attn.http.deps import DEVICE_COOKIE, ClientAddress, Context, context_of
from attn.http.errors import error_headers, status_of
from attn.http.schemas import JoinIn
from attn.models import (
    AttendanceRecordRedis,
    RecordStatus,
    SecurityOption,
    UserSessionRedis,
    no_control_characters,
)
from attn.services import attendance, devices, scan, student_service, verification_service
from attn.services.student_service import CheckIn
from attn.services.validation import broken_rule, first_error
from attn.web.i18n import translator
from attn.web.render import (
    PageRoute,
    Redirect,
    error_text,
    keep_device,
    language,
    render,
    secure_cookies,
    set_private_cookie,
)
from attn.web.session import (
    CsrfForm,
    PageStudent,
    ScriptStudent,
    SessionRenewed,
    page_student,
    page_user,
)

router = APIRouter(include_in_schema=False, route_class=PageRoute)

SEARCH_TEXT_MAX = 200
HISTORY_SIZE = 200


@router.get("/student", response_class=HTMLResponse)
async def student_page(
    request: Request,
    ctx: Context,
    user: PageStudent,
    lesson_name: str = "",
    teacher_name: str = "",
) -> HTMLResponse:
    """The lessons of the student's courses that are on now, and the looser search (the
    lesson's words required, the teacher's optional)."""
    now_lessons = await student_service.roster_lessons_now(ctx, student=user)
    search = None
    error = None
    if lesson_name.strip():
        try:
            no_control_characters(lesson_name + teacher_name)
            search = await student_service.search_active_lessons(
                ctx, text=lesson_name[:SEARCH_TEXT_MAX], teacher=teacher_name[:SEARCH_TEXT_MAX]
            )
        except (InvalidRequest, ValueError):
            error = translator(language(request))("search_needs_word")
    return render(
        request,
        "student.html",
        status_code=200 if error is None else 422,
        user=user,
        now_lessons=now_lessons,
        search=search,
        error=error,
        lesson_name=lesson_name,
        teacher_name=teacher_name,
    )


SCAN_COOKIE = "attn_scan"


def _join_path(lesson_id: str) -> str:
    """The join form's address, the one path a lesson's scan ticket is sent to."""
    return f"/student/lessons/{lesson_id}/join"


def _keep_ticket(request: Request, response: Response, lesson_id: str, ticket: str) -> None:
    set_private_cookie(
        request,
        response,
        SCAN_COOKIE,
        ticket,
        max_age=context_of(request).settings.SCAN_GRACE_SECONDS,
        path=_join_path(lesson_id),
    )


def _join_form(
    request: Request,
    *,
    user: UserSessionRedis | None,
    link: scan.JoinLink | None,
    lesson_id: str,
    code: str,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The join page: the lesson and its form, or for a lesson past its end that it is closed."""
    return render(
        request,
        "join.html",
        status_code=status_code,
        user=user,
        lesson=link.lesson if link is not None else None,
        closed=link is not None and not link.open,
        lesson_id=lesson_id,
        code=code,
        error=error,
        here=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    )


@router.get("/join/{lesson_id}", response_class=HTMLResponse)
async def join_page(request: Request, ctx: Context, lesson_id: str, code: str = "") -> Response:
    """Where the QR code leads: the lesson, with its code filled in, and one button.

    Opening it while its code is valid gives this browser a scan ticket (`attn.services.scan`),
    kept even when the browser must sign in first, so the code still counts at the join."""
    link = await scan.join_link(ctx, lesson_id=lesson_id)
    ticket = None
    if link is not None and link.open and SecurityOption.CODE in link.lesson.security:
        ticket = scan.issue_ticket(
            ctx.secret_key,
            lesson_id=lesson_id,
            code=code,
            now=ctx.now(),
            rotation_seconds=ctx.settings.CODE_ROTATION_SECONDS,
        )
    try:
        user: UserSessionRedis | None = await page_student(await page_user(request))
    except SessionRenewed:
        raise  # back here with the renewed session
    except Redirect as exc:
        if link is not None and not link.open:
            user = None  # closed: said at once, without signing in for nothing
        else:
            if ticket is not None:
                exc.keep.append(lambda response: _keep_ticket(request, response, lesson_id, ticket))
            raise
    page = _join_form(request, user=user, link=link, lesson_id=lesson_id, code=code)
    if ticket is not None:
        _keep_ticket(request, page, lesson_id, ticket)
    return page


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
            check_in=CheckIn(
                code=body.code,
                client=address,
                device_id=device,
                scan_ticket=request.cookies.get(SCAN_COOKIE),
            ),
        )
    except AttnError as exc:
        refused = _join_form(
            request,
            user=user,
            link=await scan.join_link(ctx, lesson_id=lesson_id),
            lesson_id=lesson_id,
            code=form.get("code", ""),
            error=error_text(request, exc),
            status_code=status_of(exc),
        )
        refused.headers.update(error_headers(exc) or {})
        keep_device(request, refused, device)
        return refused
    verification_service.request_after_join(background.add_task, ctx, result)
    record = result.record()
    joined = render(
        request,
        "joined.html",
        user=user,
        record=record,
        result_text=_result_text(request, record),
        created=result.created,
        here=f"/join/{lesson_id}",
    )
    keep_device(request, joined, device)
    if SCAN_COOKIE in request.cookies:
        # the scan has done its work: it does not check in whoever signs in here next
        joined.delete_cookie(
            SCAN_COOKIE, path=_join_path(lesson_id), secure=secure_cookies(request), httponly=True
        )
    return joined


def _result_text(request: Request, record: AttendanceRecordRedis) -> str:
    """What the result page says of a record, in the page's language."""
    t = translator(language(request))
    status = record.status.value
    if status in ("present", "late", "pending"):
        text = t(f"joined_{status}")
    else:
        text = f"{t('joined_other')} {t(f'st_{status}')}"
    return f"{text} ({record.reason})" if record.reason else text


@router.get("/join/{lesson_id}/record")
async def own_record(
    request: Request, ctx: Context, user: ScriptStudent, lesson_id: str
) -> JSONResponse:
    """The result page's script polls this while the record waits for verification."""
    record = await student_service.get_own_record(ctx, student=user, lesson_id=lesson_id)
    return JSONResponse(
        {
            "status": record.status.value,
            "pending": record.status is RecordStatus.PENDING,
            "text": _result_text(request, record),
        },
        headers={"Cache-Control": "no-store"},
    )


@router.get("/student/history", response_class=HTMLResponse)
async def student_history(request: Request, ctx: Context, user: PageStudent) -> HTMLResponse:
    found = await student_service.list_own_records(ctx, student=user, limit=HISTORY_SIZE, offset=0)
    rates = await attendance.student_course_rates(ctx, student=user, found=found)
    return render(
        request,
        "student_history.html",
        user=user,
        found=found,
        rates=rates,
        rule_terms=attendance.rule_terms,
    )
