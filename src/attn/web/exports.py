"""Downloads of the teacher's pages: a lesson's roll and a course's table, as CSV or XLSX."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import Response

from attn.http.deps import Context, CourseQuery
from attn.services import attendance, exports, teacher_service
from attn.web.render import PageRoute
from attn.web.session import PageTeacher

router = APIRouter(include_in_schema=False, route_class=PageRoute)

Kind = Literal["csv", "xlsx"]
_MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get("/teacher/lessons/{lesson_id}/export.{kind}")
async def export_lesson(ctx: Context, user: PageTeacher, lesson_id: str, kind: Kind) -> Response:
    lesson = await teacher_service.get_lesson(ctx, teacher=user, lesson_id=lesson_id)
    records = await teacher_service.get_roll(ctx, teacher=user, lesson_id=lesson_id)
    rows = exports.roll_rows(records)
    return await _download(
        kind, lesson.lesson_name, exports.ROLL_HEADER, rows, lesson.start_time, with_time=True
    )


@router.get("/teacher/course/export.{kind}")
async def export_course(
    ctx: Context, user: PageTeacher, kind: Kind, name: CourseQuery = ""
) -> Response:
    table = await attendance.course_table(ctx, teacher=user, course=name)
    header, rows = exports.course_rows(table)
    return await _download(kind, table.course, header, rows, ctx.now(), with_time=False)


async def _download(
    kind: Kind,
    title: str,
    header: list[str],
    rows: list[list[exports.Cell]],
    moment: datetime,
    *,
    with_time: bool,
) -> Response:
    if kind == "csv":
        body = exports.to_csv(header, rows)
    else:
        body = await exports.to_xlsx(title, header, rows)
    disposition = exports.content_disposition(title, moment, kind, with_time=with_time)
    return Response(body, media_type=_MEDIA[kind], headers={"Content-Disposition": disposition})
