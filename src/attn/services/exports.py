"""Attendance tables for people: a lesson's roll and a course's students-by-lessons matrix,
as rows, CSV and XLSX (XlsxWriter, built off the event loop)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

import anyio
import xlsxwriter

from attn.db import history
from attn.models import (
    AttendanceRecordRedis,
    LessonRedis,
    RecordStatus,
    UserSessionRedis,
    format_time,
    normalize_name,
)
from attn.services.context import ServiceContext

ATTENDED = {RecordStatus.PRESENT, RecordStatus.LATE}
ROLL_HEADER = ["student_number", "student_full_name", "status", "attendance_time", "reason"]


def roll_rows(records: Sequence[AttendanceRecordRedis]) -> list[list[str]]:
    return [
        [
            record.student_number,
            record.student_full_name,
            record.status.value,
            "" if record.attendance_time is None else format_time(record.attendance_time),
            record.reason or "",
        ]
        for record in records
    ]


@dataclass(frozen=True)
class CourseTable:
    course: str
    lessons: list[LessonRedis]
    students: list[tuple[str, str]]  # (school number, full name)
    cells: dict[tuple[str, str], str]  # (student, lesson id) -> status
    rates: dict[str, float]  # student -> share of lessons attended (present or late)


async def course_table(
    ctx: ServiceContext, *, teacher: UserSessionRedis, course: str
) -> CourseTable:
    """Every persisted lesson of the course against every student who has a record in one."""
    async with ctx.db() as session:
        lessons = await history.teacher_lessons_named(
            session=session,
            teacher_school_number=teacher.school_number,
            course_key=normalize_name(course),
        )
        records = await history.records_of_lessons(
            session=session, lesson_ids=[lesson.lesson_id for lesson in lessons]
        )
    names: dict[str, str] = {}
    cells: dict[tuple[str, str], str] = {}
    for record in records:
        names.setdefault(record.student_number, record.student_full_name)
        cells[(record.student_number, record.lesson_id)] = record.status.value
    rates = (
        {
            number: sum(
                1
                for lesson in lessons
                if cells.get((number, lesson.lesson_id)) in {status.value for status in ATTENDED}
            )
            / len(lessons)
            for number in names
        }
        if lessons
        else {}
    )
    title = lessons[-1].lesson_name if lessons else " ".join(course.split())
    return CourseTable(title, lessons, sorted(names.items()), cells, rates)


def course_rows(table: CourseTable) -> tuple[list[str], list[list[str]]]:
    header = (
        ["student_number", "student_full_name"]
        + [format_time(lesson.start_time)[:16].replace("T", " ") for lesson in table.lessons]
        + ["attendance_percent"]
    )
    rows = [
        [number, name]
        + [table.cells.get((number, lesson.lesson_id), "absent") for lesson in table.lessons]
        + [f"{table.rates.get(number, 0.0) * 100:.0f}"]
        for number, name in table.students
    ]
    return header, rows


def to_csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode()  # a BOM, so spreadsheets read UTF-8


def _xlsx(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    # a sheet name may not hold []:*?/\ and is at most 31 characters
    sheet_name = re.sub(r"[\[\]:*?/\\]", "-", title).strip("'")[:31] or "Attendance"
    sheet = workbook.add_worksheet(sheet_name)
    bold = workbook.add_format({"bold": True})
    sheet.write_row(0, 0, header, bold)
    for index, row in enumerate(rows, start=1):
        sheet.write_row(index, 0, row)
    sheet.freeze_panes(1, 2)
    workbook.close()
    return buffer.getvalue()


async def to_xlsx(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    """An XLSX workbook of one sheet, built in a worker thread (it is CPU work)."""
    return await anyio.to_thread.run_sync(_xlsx, title, header, rows)
