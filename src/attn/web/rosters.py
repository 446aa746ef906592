"""The teacher's roster pages: the list of rosters, one course's roster (its students, one
removed, the whole roster deleted after a confirmation), and an upload (a CSV file or pasted
text) shown as a preview of what changes, with every bad line, before it is confirmed.

The confirmation carries the CSV and the preview's digest, so it stores exactly what was
previewed, and nothing if the roster changed meanwhile (`rosters.put_roster`)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from attn.errors import AttnError, InvalidRoster, RosterChanged, RosterNotFound, RosterProblem
from attn.http.deps import Context, CoursePath
from attn.models import Roster, UserSessionRedis
from attn.services import rosters
from attn.web.i18n import translator
from attn.web.render import PageRoute, back, error_text, language, render, uploaded_text
from attn.web.session import CsrfForm, PageTeacher

router = APIRouter(include_in_schema=False, route_class=PageRoute)

ConfirmQuery = Annotated[str | None, Query(max_length=16)]
NoticeQuery = Annotated[str | None, Query(max_length=32)]


def roster_url(course: str, **query: str) -> str:
    suffix = "&".join(f"{key}={quote(value, safe='')}" for key, value in query.items())
    return f"/teacher/rosters/{quote(course, safe='')}" + (f"?{suffix}" if suffix else "")


def problem_text(request: Request, problem: RosterProblem, *, with_line: bool = True) -> str:
    """A roster problem in the page's language: the service's words in English; in Turkish
    the catalogue's text of its rule. Without `with_line` (a table that has a line column)
    the line is left out."""
    page_language = language(request)
    if page_language == "en":
        words = problem.message.removeprefix(f"Line {problem.line}: ")
    else:
        t = translator(page_language)
        words = t(f"rosterr_{problem.kind}").format(value=problem.value) + "."
    words = words[:1].upper() + words[1:]
    if not with_line or not problem.line:
        return words
    return f"{translator(page_language)('line')} {problem.line}: {words}"


@router.get("/teacher/rosters", response_class=HTMLResponse)
async def rosters_page(request: Request, ctx: Context, user: PageTeacher) -> HTMLResponse:
    summaries = await rosters.list_rosters(ctx, teacher=user)
    deleted = request.query_params.get("deleted") == "1"
    return render(
        request,
        "rosters.html",
        user=user,
        summaries=summaries,
        roster_url=roster_url,
        notice=translator(language(request))("roster_deleted") if deleted else None,
    )


async def _roster_page(
    request: Request,
    ctx: Any,
    user: UserSessionRedis,
    course: str,
    *,
    notice: str | None = None,
    error: str | None = None,
    confirm_delete: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    roster: Roster | None
    try:
        roster = await rosters.get_roster(ctx, teacher=user, course=course)
    except RosterNotFound:
        roster = None
    return render(
        request,
        "roster.html",
        status_code=status_code,
        user=user,
        course=roster.course if roster else course,
        roster=roster,
        notice=notice,
        error=error,
        confirm_delete=confirm_delete,
        roster_url=roster_url,
        quote=quote,
    )


@router.get("/teacher/rosters/{course:path}", response_class=HTMLResponse)
async def roster_page(
    request: Request,
    ctx: Context,
    user: PageTeacher,
    course: CoursePath,
    confirm: ConfirmQuery = None,
    saved: NoticeQuery = None,
    removed: NoticeQuery = None,
) -> HTMLResponse:
    t = translator(language(request))
    notice = None
    if saved is not None:
        notice = t("roster_saved").format(n=saved)
    elif removed:
        notice = t("roster_student_removed").format(number=removed)
    return await _roster_page(
        request, ctx, user, course, notice=notice, confirm_delete=confirm == "delete"
    )


async def _uploaded_text(request: Request, form: dict[str, str]) -> str:
    """The CSV of an upload form: the chosen file, else the pasted text."""
    text = await uploaded_text(request, form)
    if text is None:
        problem = RosterProblem(0, "encoding", "", "The roster must be UTF-8 text.")
        raise InvalidRoster(problem.message, [problem])
    return text


async def _preview_page(
    request: Request,
    ctx: Any,
    user: UserSessionRedis,
    course: str,
    csv_text: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    preview = await rosters.preview_roster(ctx, teacher=user, course=course, csv_text=csv_text)
    return render(
        request,
        "roster_preview.html",
        status_code=status_code if not preview.problems else 422,
        user=user,
        preview=preview,
        problems=[
            (problem.line, problem_text(request, problem, with_line=False))
            for problem in preview.problems
        ],
        csv_b64=base64.b64encode(csv_text.encode()).decode(),
        csv_text=csv_text,
        error=error,
        roster_url=roster_url,
    )


@router.post("/teacher/rosters/preview", response_class=HTMLResponse)
async def preview(request: Request, ctx: Context, user: PageTeacher, form: CsrfForm) -> Response:
    course = form.get("course", "")
    try:
        csv_text = await _uploaded_text(request, form)
        return await _preview_page(request, ctx, user, course, csv_text)
    except AttnError as exc:
        return await _refused(request, ctx, user, course, exc)


async def _refused(
    request: Request, ctx: Any, user: UserSessionRedis, course: str, exc: AttnError
) -> HTMLResponse:
    """A roster form refused as a whole (a course that is no name, a file that is not
    UTF-8): the list of rosters, or the course's page, saying why."""
    if isinstance(exc, InvalidRoster) and exc.problems:
        message = "; ".join(problem_text(request, problem) for problem in exc.problems)
    else:
        message = error_text(request, exc)
    if course.strip():
        try:
            return await _roster_page(request, ctx, user, course, error=message, status_code=422)
        except AttnError:
            pass  # no page of its own: the list of rosters says it
    summaries = await rosters.list_rosters(ctx, teacher=user)
    return render(
        request,
        "rosters.html",
        422,
        user=user,
        summaries=summaries,
        roster_url=roster_url,
        notice=None,
        error=message,
    )


@router.post("/teacher/rosters/apply", response_class=HTMLResponse)
async def apply(request: Request, ctx: Context, user: PageTeacher, form: CsrfForm) -> Response:
    """The confirmation of a preview: its CSV, stored only if the roster is still the one
    the preview compared with; the preview again (with the news) otherwise."""
    course = form.get("course", "")
    try:
        csv_text = base64.b64decode(form.get("csv_b64", ""), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return await _refused(request, ctx, user, course, InvalidRoster())
    try:
        roster = await rosters.put_roster(
            ctx,
            teacher=user,
            course=course,
            csv_text=csv_text,
            expected_digest=form.get("digest", ""),
        )
    except (RosterChanged, InvalidRoster) as exc:
        try:
            return await _preview_page(
                request,
                ctx,
                user,
                course,
                csv_text,
                error=error_text(request, exc) if isinstance(exc, RosterChanged) else None,
                status_code=409 if isinstance(exc, RosterChanged) else 422,
            )
        except AttnError as refused:
            return await _refused(request, ctx, user, course, refused)
    return back(roster_url(roster.course, saved=str(len(roster.students))))


@router.post("/teacher/rosters/remove", response_class=HTMLResponse)
async def remove(request: Request, ctx: Context, user: PageTeacher, form: CsrfForm) -> Response:
    course = form.get("course", "")
    number = form.get("student_number", "")
    try:
        await rosters.remove_student(ctx, teacher=user, course=course, student_number=number)
    except AttnError as exc:
        return await _refused(request, ctx, user, course, exc)
    return back(roster_url(course, removed=number))


@router.post("/teacher/rosters/delete", response_class=HTMLResponse)
async def delete(request: Request, ctx: Context, user: PageTeacher, form: CsrfForm) -> Response:
    course = form.get("course", "")
    try:
        await rosters.delete_roster(ctx, teacher=user, course=course)
    except AttnError as exc:
        return await _refused(request, ctx, user, course, exc)
    return back("/teacher/rosters?deleted=1")
