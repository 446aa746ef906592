"""The pages: sign-in, the teacher's dashboard, live roll and projector view, the student's
check-in, histories and exports. Pages keep a session in an HttpOnly cookie and protect every
form with a CSRF token derived from it; they call the same services as the API."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import segno
from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates

from attn.errors import AttnError, LessonNotFound, NotAuthenticated
from attn.models import (
    AttendanceRecordRedis,
    LessonIn,
    LessonStatus,
    RecordStatus,
    Role,
    SecurityOption,
    UserSessionRedis,
    format_time,
)
from attn.services import (
    auth,
    exports,
    student_service,
    teacher_service,
    verification_service,
)
from attn.services.context import ServiceContext
from attn.services.network import client_address
from attn.services.student_service import CheckIn
from attn.web.i18n import LANGUAGES, pick_language, translator

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

SESSION_COOKIE = "attn_session"
SIGNED_IN_COOKIE = "attn_signed_in"
LANG_COOKIE = "attn_lang"
DEVICE_COOKIE = "attn_device"
YEAR = 365 * 24 * 3600


class MissingCredentials(AttnError):
    code = "missing_credentials"
    message = "Type your school number and password."


class Redirect(Exception):
    """Leave the page for another (say, sign-in when the session has ended)."""

    def __init__(self, url: str) -> None:
        self.url = url


def _ctx(request: Request) -> ServiceContext:
    context: ServiceContext = request.app.state.context
    return context


def _language(request: Request) -> str:
    return pick_language(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language"),
    )


def _csrf(ctx: ServiceContext, token: str) -> str:
    return hmac.new(ctx.secret_key, f"csrf:{token}".encode(), hashlib.sha256).hexdigest()[:32]


def _return_to(request: Request) -> str:
    """Where to come back after signing in: this page, or for a form the page it was on."""
    if request.method == "GET":
        return request.url.path + (f"?{request.url.query}" if request.url.query else "")
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path.startswith("/"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return "/"


async def _user(request: Request, role: Role | None = None) -> UserSessionRedis:
    token = request.cookies.get(SESSION_COOKIE)
    here = _return_to(request)
    if not token:
        # the marker outlives the session cookie: a session that ran out says so
        ended = {"expired": "1"} if request.cookies.get(SIGNED_IN_COOKIE) else {}
        raise Redirect(f"/login?{urlencode({'next': here, **ended})}")
    try:
        user = await auth.authenticate(_ctx(request), token)
    except NotAuthenticated:
        raise Redirect(f"/login?{urlencode({'next': here, 'expired': '1'})}") from None
    if role is not None and user.role is not role:
        raise Redirect("/")
    return user


async def _form(request: Request) -> dict[str, str]:
    """The posted form, after checking its CSRF token against the session cookie."""
    form = await request.form()
    values = {key: str(value) for key, value in form.items()}
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token or not hmac.compare_digest(values.get("csrf", ""), _csrf(_ctx(request), token)):
        raise Redirect("/login?expired=1")
    return values


def render(
    request: Request,
    template: str,
    status_code: int = 200,
    user: UserSessionRedis | None = None,
    **context: Any,
) -> HTMLResponse:
    language = _language(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    response = templates.TemplateResponse(
        request,
        template,
        {
            "t": translator(language),
            "lang": language,
            "other_lang": (other := next(code for code in LANGUAGES if code != language)),
            "lang_url": _with_language(request, other),
            "user": user,
            "csrf": _csrf(_ctx(request), token) if token else "",
            "fmt": _when,
            **context,
        },
        status_code=status_code,
    )
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, language, max_age=YEAR, samesite="lax")
    if DEVICE_COOKIE not in request.cookies:
        response.set_cookie(
            DEVICE_COOKIE, secrets.token_urlsafe(24), max_age=YEAR, httponly=True, samesite="lax"
        )
    response.headers["Cache-Control"] = "no-store"
    return response


def _with_language(request: Request, language: str) -> str:
    """This page's own address (query kept, so a join link keeps its code) in `language`."""
    url = request.url.include_query_params(lang=language)
    return f"{url.path}?{url.query}"


def _error_text(request: Request, exc: AttnError) -> str:
    """An error's message in the page's language (the API's English text as a fallback)."""
    translated = translator(_language(request))(f"err_{exc.code}")
    return exc.message if translated == f"err_{exc.code}" else translated


def _when(value: Any) -> str:
    return "" if value is None else format_time(value)[:16].replace("T", " ") + " UTC"


def _back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# --- sign in and out ---------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    user = await _user(request)
    return _back("/teacher" if user.role is Role.TEACHER else "/student")


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> HTMLResponse:
    return render(
        request,
        "login.html",
        expired=request.query_params.get("expired") == "1",
        next=request.query_params.get("next", "/"),
        error=None,
        school_number="",
    )


@router.post("/login", response_class=HTMLResponse)
async def login_submit(request: Request) -> Response:
    form = await request.form()
    number, password = str(form.get("school_number", "")), str(form.get("password", ""))
    target = str(form.get("next", "/"))
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    try:
        if not number or not password:
            raise MissingCredentials
        result = await auth.login(_ctx(request), school_number=number, password=password)
    except AttnError as exc:
        return render(
            request,
            "login.html",
            status_code=401,
            expired=False,
            next=target,
            error=_error_text(request, exc),
            school_number=number,
        )
    response = _back(target)
    response.set_cookie(
        SESSION_COOKIE,
        result.access_token,
        max_age=result.expires_in,
        httponly=True,
        samesite="lax",
    )
    response.set_cookie(SIGNED_IN_COOKIE, "1", max_age=YEAR, httponly=True, samesite="lax")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    await _form(request)
    try:
        user = await _user(request)
        await auth.logout(_ctx(request), user)
    except Redirect:
        pass
    response = _back("/login")
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(SIGNED_IN_COOKIE)
    return response


# --- teacher ---------------------------------------------------------------------------------


@router.get("/teacher", response_class=HTMLResponse)
async def dashboard(request: Request) -> HTMLResponse:
    user = await _user(request, Role.TEACHER)
    ctx = _ctx(request)
    lessons = await teacher_service.list_lessons(ctx, teacher=user, limit=50, offset=0)
    now = ctx.now()
    active = [lesson for lesson in lessons if lesson.status_at(now) is LessonStatus.ACTIVE]
    return render(request, "dashboard.html", user=user, active=active, error=None, form={})


@router.post("/teacher/start", response_class=HTMLResponse)
async def start(request: Request) -> Response:
    user = await _user(request, Role.TEACHER)
    form = await _form(request)
    ctx = _ctx(request)
    options = [option for option in SecurityOption if form.get(f"opt_{option.value}")]
    subnets = [item.strip() for item in form.get("subnets", "").split(",") if item.strip()]
    try:
        body = LessonIn.model_validate(
            {
                "lesson_name": form.get("lesson_name", ""),
                "duration_minutes": _int(form.get("duration_minutes")),
                "late_after_minutes": _int(form.get("late_after_minutes")),
                "security": options,
                "allowed_subnets": subnets,
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
            teacher_address=_address(request),
        )
    except (AttnError, ValueError) as exc:
        message = (
            _error_text(request, exc)
            if isinstance(exc, AttnError)
            else _validation_message(request, exc)
        )
        return render(
            request, "dashboard.html", 422, user=user, active=[], error=message, form=form
        )
    return _back(f"/teacher/lessons/{lesson.lesson_id}")


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return -1  # refused by validation with a clear message


def _validation_message(request: Request, exc: ValueError) -> str:
    """The first rule a form broke: pydantic's words in English, the field name otherwise."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)
    first = errors()[0]
    field = ".".join(str(part) for part in first["loc"])
    language = _language(request)
    if language == "en":
        return f"{field}: {first['msg']}"
    return f"{translator(language)('err_validation_error')} ({field})"


def _address(request: Request) -> Any:
    peer = request.client.host if request.client else None
    return client_address(
        peer, request.headers.getlist("x-forwarded-for"), _ctx(request).settings.trusted_proxies
    )


async def _lesson_page(
    request: Request, user: UserSessionRedis, lesson_id: str, **extra: Any
) -> HTMLResponse:
    ctx = _ctx(request)
    lesson = await teacher_service.get_lesson(ctx, teacher=user, lesson_id=lesson_id)
    records = await teacher_service.get_roll(ctx, teacher=user, lesson_id=lesson_id)
    audit = await teacher_service.get_audit(ctx, teacher=user, lesson_id=lesson_id)
    counts = {status.value: 0 for status in RecordStatus}
    for record in records:
        counts[record.status.value] += 1
    return render(
        request,
        "lesson.html",
        user=user,
        lesson=lesson,
        live=lesson.is_active(ctx.now()),
        records=records,
        audit=audit,
        counts=counts,
        error=extra.get("error"),
        form=extra.get("form", {}),
        status_code=extra.get("status_code", 200),
    )


@router.get("/teacher/lessons/{lesson_id}", response_class=HTMLResponse)
async def lesson_page(request: Request, lesson_id: str) -> HTMLResponse:
    user = await _user(request, Role.TEACHER)
    return await _lesson_page(request, user, lesson_id)


@router.get("/teacher/lessons/{lesson_id}/roll", response_class=HTMLResponse)
async def roll_fragment(request: Request, lesson_id: str) -> HTMLResponse:
    """The roll's table and counts, which the live page swaps in on every update."""
    user = await _user(request, Role.TEACHER)
    ctx = _ctx(request)
    records = await teacher_service.get_roll(ctx, teacher=user, lesson_id=lesson_id)
    counts = {status.value: 0 for status in RecordStatus}
    for record in records:
        counts[record.status.value] += 1
    lesson = await teacher_service.get_lesson(ctx, teacher=user, lesson_id=lesson_id)
    return render(request, "_roll.html", user=user, lesson=lesson, records=records, counts=counts)


@router.get("/teacher/lessons/{lesson_id}/live")
async def live(request: Request, lesson_id: str) -> StreamingResponse:
    """Server-Sent Events for the page: one `record` event per check-in or change."""
    user = await _user(request, Role.TEACHER)
    ctx = _ctx(request)
    await teacher_service.get_lesson(ctx, teacher=user, lesson_id=lesson_id)

    async def stream() -> AsyncIterator[str]:
        async with teacher_service.watch_roll(ctx, teacher=user, lesson_id=lesson_id) as queue:
            yield "retry: 2000\nevent: ready\ndata: {}\n\n"
            while True:
                try:
                    record = await asyncio.wait_for(queue.get(), 15)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                yield f"event: record\ndata: {record}\n\n"

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )


@router.post("/teacher/lessons/{lesson_id}/records/{student_number}", response_class=HTMLResponse)
async def decide(request: Request, lesson_id: str, student_number: str) -> Response:
    user = await _user(request, Role.TEACHER)
    form = await _form(request)
    try:
        status = RecordStatus(form.get("status", ""))
        await teacher_service.correct_record(
            _ctx(request),
            teacher=user,
            lesson_id=lesson_id,
            student_number=student_number,
            status=status,
            reason=form.get("reason", "").strip() or None,
        )
    except (AttnError, ValueError) as exc:
        message = _error_text(request, exc) if isinstance(exc, AttnError) else str(exc)
        return await _lesson_page(
            request, user, lesson_id, error=message, form=form, status_code=422
        )
    return _back(f"/teacher/lessons/{lesson_id}#roll")


@router.post("/teacher/lessons/{lesson_id}/add", response_class=HTMLResponse)
async def add(request: Request, lesson_id: str) -> Response:
    user = await _user(request, Role.TEACHER)
    form = await _form(request)
    try:
        await teacher_service.add_record(
            _ctx(request),
            teacher=user,
            lesson_id=lesson_id,
            student_number=form.get("student_number", "").strip(),
            status=RecordStatus.PRESENT,
            reason=None,
        )
    except AttnError as exc:
        return await _lesson_page(
            request, user, lesson_id, error=_error_text(request, exc), form=form, status_code=422
        )
    return _back(f"/teacher/lessons/{lesson_id}#roll")


@router.post("/teacher/lessons/{lesson_id}/finish")
async def finish(request: Request, lesson_id: str) -> Response:
    user = await _user(request, Role.TEACHER)
    await _form(request)
    try:
        await teacher_service.finish_attendance(_ctx(request), teacher=user, lesson_id=lesson_id)
    except AttnError as exc:
        return await _lesson_page(
            request, user, lesson_id, error=_error_text(request, exc), status_code=409
        )
    return _back(f"/teacher/lessons/{lesson_id}")


@router.get("/teacher/lessons/{lesson_id}/projector", response_class=HTMLResponse)
async def projector(request: Request, lesson_id: str) -> HTMLResponse:
    user = await _user(request, Role.TEACHER)
    ctx = _ctx(request)
    lesson = await teacher_service.get_lesson(ctx, teacher=user, lesson_id=lesson_id)
    code = None
    if SecurityOption.CODE in lesson.security and lesson.is_active(ctx.now()):
        code = await teacher_service.get_code(
            ctx, teacher=user, lesson_id=lesson_id, base_url=str(request.base_url)
        )
    return render(request, "projector.html", user=user, lesson=lesson, code=code)


@router.get("/teacher/lessons/{lesson_id}/projector.json")
async def projector_state(request: Request, lesson_id: str) -> Response:
    """What the projector page polls: the current code, its seconds left, the count."""
    user = await _user(request, Role.TEACHER)
    ctx = _ctx(request)
    lesson = await teacher_service.get_lesson(ctx, teacher=user, lesson_id=lesson_id)
    state: dict[str, Any] = {"count": lesson.attendee_count, "active": lesson.is_active(ctx.now())}
    if SecurityOption.CODE in lesson.security and state["active"]:
        code = await teacher_service.get_code(
            ctx, teacher=user, lesson_id=lesson_id, base_url=str(request.base_url)
        )
        state |= {"code": code.code, "seconds_left": code.valid_for_seconds}
    return Response(
        json.dumps(state), media_type="application/json", headers={"Cache-Control": "no-store"}
    )


@router.get("/teacher/lessons/{lesson_id}/qr.svg")
async def qr(request: Request, lesson_id: str) -> Response:
    user = await _user(request, Role.TEACHER)
    code = await teacher_service.get_code(
        _ctx(request), teacher=user, lesson_id=lesson_id, base_url=str(request.base_url)
    )
    buffer = io.BytesIO()
    segno.make(code.join_url, error="m").save(buffer, kind="svg", scale=10, border=2, xmldecl=False)
    return Response(
        buffer.getvalue(), media_type="image/svg+xml", headers={"Cache-Control": "no-store"}
    )


@router.get("/teacher/history", response_class=HTMLResponse)
async def history_page(request: Request) -> HTMLResponse:
    user = await _user(request, Role.TEACHER)
    page = max(0, _int(request.query_params.get("page")) or 0)
    lessons = await teacher_service.list_lessons(
        _ctx(request), teacher=user, limit=50, offset=page * 50
    )
    courses = sorted({lesson.lesson_name for lesson in lessons})
    return render(request, "history.html", user=user, lessons=lessons, courses=courses, page=page)


@router.get("/teacher/course", response_class=HTMLResponse)
async def course_page(request: Request, name: str = "") -> HTMLResponse:
    """A course (every lesson of one name) as a table of students by lessons."""
    course = name
    user = await _user(request, Role.TEACHER)
    table = await exports.course_table(_ctx(request), teacher=user, course=course)
    return render(request, "course.html", user=user, table=table, course=course, quote=quote)


@router.get("/teacher/lessons/{lesson_id}/export.{kind}")
async def export_lesson(request: Request, lesson_id: str, kind: str) -> Response:
    user = await _user(request, Role.TEACHER)
    ctx = _ctx(request)
    lesson = await teacher_service.get_lesson(ctx, teacher=user, lesson_id=lesson_id)
    records = await teacher_service.get_roll(ctx, teacher=user, lesson_id=lesson_id)
    rows = exports.roll_rows(records)
    name = f"attendance-{lesson.start_time:%Y%m%d-%H%M}"
    return await _export(kind, lesson.lesson_name, exports.ROLL_HEADER, rows, name)


@router.get("/teacher/course/export.{kind}")
async def export_course(request: Request, kind: str, name: str = "") -> Response:
    course = name
    user = await _user(request, Role.TEACHER)
    table = await exports.course_table(_ctx(request), teacher=user, course=course)
    header, rows = exports.course_rows(table)
    return await _export(kind, table.course, header, rows, "course-attendance")


async def _export(
    kind: str, title: str, header: list[str], rows: list[list[str]], name: str
) -> Response:
    if kind == "csv":
        body, media = exports.to_csv(header, rows), "text/csv; charset=utf-8"
    elif kind == "xlsx":
        body = await exports.to_xlsx(title, header, rows)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        raise LessonNotFound
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}.{kind}"'},
    )


# --- student ---------------------------------------------------------------------------------


@router.get("/student", response_class=HTMLResponse)
async def student_page(request: Request) -> HTMLResponse:
    user = await _user(request, Role.STUDENT)
    lesson_name = request.query_params.get("lesson_name", "")
    teacher_name = request.query_params.get("teacher_name", "")
    lessons = None
    if lesson_name.strip() and teacher_name.strip():
        lessons = await student_service.find_active_lessons(
            _ctx(request), lesson_name=lesson_name[:1000], teacher_name=teacher_name[:1000]
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
async def join_page(request: Request, lesson_id: str) -> HTMLResponse:
    """Where the QR code leads: the lesson, with its code filled in, and one button."""
    user = await _user(request, Role.STUDENT)
    ctx = _ctx(request)
    lesson = await student_service.get_joinable_lesson(ctx, lesson_id=lesson_id)
    return render(
        request,
        "join.html",
        user=user,
        lesson=lesson,
        lesson_id=lesson_id,
        code=request.query_params.get("code", ""),
        error=None,
    )


@router.post("/student/lessons/{lesson_id}/join", response_class=HTMLResponse)
async def join_submit(
    request: Request, lesson_id: str, background: BackgroundTasks
) -> HTMLResponse:
    user = await _user(request, Role.STUDENT)
    form = await _form(request)
    ctx = _ctx(request)
    device = request.cookies.get(DEVICE_COOKIE, "")
    try:
        result = await student_service.join_attendance(
            ctx,
            student=user,
            lesson_id=lesson_id,
            check_in=CheckIn(
                code=form.get("code") or None, client=_address(request), device_id=device
            ),
        )
    except AttnError as exc:
        lesson = await student_service.get_joinable_lesson(ctx, lesson_id=lesson_id)
        return render(
            request,
            "join.html",
            status_code=409 if exc.code.startswith("lesson_") else 403,
            user=user,
            lesson=lesson,
            lesson_id=lesson_id,
            code=form.get("code", ""),
            error=_error_text(request, exc),
        )
    verification_service.request_after_join(background.add_task, ctx, result, str(request.base_url))
    record = AttendanceRecordRedis.model_validate_json(result.record_json)
    return render(request, "joined.html", user=user, record=record, created=result.created)


@router.get("/student/history", response_class=HTMLResponse)
async def student_history(request: Request) -> HTMLResponse:
    user = await _user(request, Role.STUDENT)
    found = await student_service.list_own_records(_ctx(request), student=user, limit=200, offset=0)
    per_course: dict[str, list[int]] = {}
    for lesson, record in found:
        attended, total = per_course.setdefault(lesson.lesson_name, [0, 0])
        per_course[lesson.lesson_name] = [
            attended + (record.status in exports.ATTENDED),
            total + 1,
        ]
    return render(request, "student_history.html", user=user, found=found, per_course=per_course)
