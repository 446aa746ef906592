"""Attendance tables for people: a lesson's roll and a course's students-by-lessons matrix
(`attendance.course_table`), as rows, CSV and XLSX (XlsxWriter, built off the event loop)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence

import anyio
import xlsxwriter

from attn.models import AttendanceRecordRedis, format_time
from attn.services.attendance import CourseTable

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


def course_rows(table: CourseTable) -> tuple[list[str], list[list[str]]]:
    header = (
        ["student_number", "student_full_name"]
        + [format_time(lesson.start_time)[:16].replace("T", " ") for lesson in table.lessons]
        + ["attendance_percent"]
    )
    rows = [
        [number, name]
        + [table.status(number, lesson.lesson_id) for lesson in table.lessons]
        + [str(table.rates[number].percent)]
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
