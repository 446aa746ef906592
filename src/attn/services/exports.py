"""Attendance tables for people: a lesson's roll and a course's students-by-lessons matrix
(`attendance.course_table`), as rows, CSV and XLSX (XlsxWriter, built off the event loop),
and the names their downloads are saved under.

Every cell is text that people typed (names, reasons), so neither file may turn it into a
formula: a CSV cell that a spreadsheet would read as one (it begins with `= + - @`, a tab or
a carriage return) gets a leading `'`, and an XLSX cell is always written as a string.
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

from attn.models import AttendanceRecordRedis, format_time
from attn.services.attendance import CourseTable

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


def roll_rows(records: Sequence[AttendanceRecordRedis]) -> list[list[str]]:
    return [
        [
            record.student_number,
            record.student_full_name,
            record.status.value,
            "" if record.attendance_time is None else format_time(record.attendance_time),
            record.reason or "",
            ", ".join(record.flags),
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


def csv_cell(value: str) -> str:
    """A cell as CSV keeps it: text a spreadsheet would run as a formula is quoted with `'`."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def to_csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([csv_cell(cell) for cell in header])
    writer.writerows([csv_cell(cell) for cell in row] for row in rows)
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


def _xlsx(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    sheet = workbook.add_worksheet(sheet_name(title))
    bold = workbook.add_format({"bold": True})
    for column, cell in enumerate(header):
        sheet.write_string(0, column, cell, bold)
    for index, row in enumerate(rows, start=1):
        for column, cell in enumerate(row):
            sheet.write_string(index, column, cell)
    sheet.freeze_panes(1, 2)
    workbook.close()
    return buffer.getvalue()


async def to_xlsx(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
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
