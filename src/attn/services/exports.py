"""Attendance tables for people: a lesson's roll and a course's students-by-lessons matrix
(`attendance.course_table`) with its counts and rates, as rows, CSV and XLSX (XlsxWriter,
built off the event loop), and the names their downloads are saved under.

A row's cells are text, numbers, times or empty (`Cell`). XLSX keeps each as what it is: a
number cell, a real spreadsheet date (a datetime with a number format; times are UTC), text.
Text is what people typed (names, reasons), so neither file may turn it into a formula: a CSV
cell that a spreadsheet would read as one (it begins with `= + - @`, a tab or a carriage
return) gets a leading `'`, and an XLSX text cell is always written as a string.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import quote

import anyio
import xlsxwriter

from attn.models import AttendanceRecordRedis, RecordStatus, format_time
from attn.services.attendance import CourseLesson, CourseTable

Cell = str | int | float | datetime | None

ROLL_HEADER = [
    "student_number",
    "student_full_name",
    "status",
    "attendance_time",
    "reason",
    "flags",
]

# What spreadsheets read as the start of a formula (OWASP's list for CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Excel's limit on a sheet name, counted in UTF-16 code units, and the characters it refuses.
_SHEET_NAME_UNITS = 31
_SHEET_NAME_REFUSED = re.compile(r"[\[\]:*?/\\]")
_FILE_NAME_REFUSED = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def roll_rows(records: Sequence[AttendanceRecordRedis]) -> list[list[Cell]]:
    return [
        [
            record.student_number,
            record.student_full_name,
            record.status.value,
            record.attendance_time,
            record.reason or "",
            ", ".join(record.flags),
        ]
        for record in records
    ]


def lesson_heading(column: CourseLesson) -> str:
    """A lesson's column heading: its start (UTC), and its name when the course's lessons
    differ in spelling."""
    start = format_time(column.lesson.start_time)[:16].replace("T", " ") + " UTC"
    return f"{start} {column.lesson.lesson_name}" if column.named else start


COURSE_TOTALS = ["attended", "expected", "attendance_percent", "flags"]


def course_rows(table: CourseTable) -> tuple[list[str], list[list[Cell]]]:
    """The course table: a row per student (each lesson's status, empty where the student was
    not expected; the weighted lessons attended, the lessons expected, the rate and the flags
    of their records), then each lesson's attended count and rate, and the course average."""
    header = (
        ["student_number", "student_full_name"]
        + [lesson_heading(column) for column in table.lessons]
        + COURSE_TOTALS
    )
    rows: list[list[Cell]] = []
    for number, name in table.students:
        statuses: list[Cell] = []
        for column in table.lessons:
            status: RecordStatus | None = table.status(number, column.lesson.lesson_id)
            statuses.append("" if status is None else status.value)
        rate = table.rates[number]
        flags = ", ".join(table.flags(number))
        rows.append([number, name, *statuses, rate.earned, rate.expected, rate.percent, flags])
    attended: list[Cell] = [column.counts.attended for column in table.lessons]
    rates: list[Cell] = [column.rate.percent for column in table.lessons]
    average = table.average
    rows.append(["", "attended", *attended, "", "", "", ""])
    rows.append(
        ["", "attendance_percent", *rates, average.earned, average.expected, average.percent, ""]
    )
    return header, rows


def csv_cell(value: str) -> str:
    """A cell as CSV keeps it: text a spreadsheet would run as a formula is quoted with `'`."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _csv_text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return format_time(cell)
    if isinstance(cell, float):
        return f"{cell:.2f}".rstrip("0").rstrip(".")
    if isinstance(cell, int):
        return str(cell)
    return csv_cell(cell)


def to_csv(header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([csv_cell(cell) for cell in header])
    writer.writerows([_csv_text(cell) for cell in row] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode()  # a BOM, so spreadsheets read UTF-8


def sheet_name(title: str) -> str:
    """The title as a sheet may be named: cut to Excel's 31 UTF-16 units first, then cleaned
    (a cut can end on an apostrophe, which a sheet name may not)."""
    units = 0
    cut = []
    for char in title:
        units += 2 if ord(char) > 0xFFFF else 1
        if units > _SHEET_NAME_UNITS:
            break
        cut.append(char)
    cleaned = _SHEET_NAME_REFUSED.sub("-", "".join(cut)).strip().strip("'").strip()
    return cleaned or "Attendance"


def _xlsx(title: str, header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "remove_timezone": True,  # times are UTC; a cell cannot hold an offset
        },
    )
    sheet = workbook.add_worksheet(sheet_name(title))
    bold = workbook.add_format({"bold": True})
    moment = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for column, heading in enumerate(header):
        sheet.write_string(0, column, heading, bold)
    for index, row in enumerate(rows, start=1):
        for column, cell in enumerate(row):
            if cell is None or cell == "":
                continue
            if isinstance(cell, datetime):
                sheet.write_datetime(index, column, cell, moment)
            elif isinstance(cell, int | float):
                sheet.write_number(index, column, cell)
            else:
                sheet.write_string(index, column, cell)
    sheet.freeze_panes(1, 2)
    workbook.close()
    return buffer.getvalue()


async def to_xlsx(title: str, header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    """An XLSX workbook of one sheet, built in a worker thread (it is CPU work)."""
    return await anyio.to_thread.run_sync(_xlsx, title, header, rows)


def download_names(title: str, moment: datetime, *, with_time: bool) -> tuple[str, str]:
    """The name a download is saved under, without its extension: the course or lesson name
    and the date (and time, for a lesson). As (ASCII fallback, full UTF-8 name)."""
    stamp = f"{moment:%Y-%m-%d-%H%M}" if with_time else f"{moment:%Y-%m-%d}"
    full = " ".join(_FILE_NAME_REFUSED.sub(" ", title).split()).strip(" .") or "attendance"
    folded = unicodedata.normalize("NFKD", full.replace("ı", "i"))
    ascii_only = folded.encode("ascii", "ignore").decode()
    fallback = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_only).strip(".-") or "attendance"
    return f"{fallback}-{stamp}", f"{full} {stamp}"


def content_disposition(title: str, moment: datetime, kind: str, *, with_time: bool) -> str:
    """`attachment` with an ASCII `filename` for old clients and the UTF-8 `filename*`."""
    fallback, full = download_names(title, moment, with_time=with_time)
    encoded = quote(f"{full}.{kind}", safe="")
    return f"attachment; filename=\"{fallback}.{kind}\"; filename*=UTF-8''{encoded}"
