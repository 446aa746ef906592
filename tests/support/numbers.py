"""Reading a lesson's counters and a course's rates back from every place that shows them:
the API, the pages (the `_counts.html` partial's `data-count` spans, the rates'
`data-percent`), the projector's JSON and the CSV/XLSX exports; and a term of persisted
lessons written straight to SQL, for the course page's browser test."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import openpyxl
from sqlalchemy.ext.asyncio import async_sessionmaker

from attn.db import history
from attn.db.engine import create_engine
from attn.models import AttendanceRecordRedis, LessonRedis, LessonStatus, RecordStatus
from attn.store import keys
from tests.support.api import Api, Headers

STATUSES = ("present", "late", "pending", "excused", "rejected", "absent")
_COUNT = re.compile(r'data-count="([a-z]+)">(?:<strong>)?[^<:]*: (\d+)')
_RATE = re.compile(r'data-student="([^"]+)".*?class="rate" data-percent="(\d*)"', re.S)


def page_client(api: Api, headers: Headers) -> httpx.AsyncClient:
    """The teacher's or student's browser: the pages' session cookie holds the API's token."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app),
        base_url="http://testserver",
        headers={"Accept": "text/html"},
        cookies={"attn_session": headers["Authorization"].removeprefix("Bearer ")},
    )


def counts_in(html: str) -> list[dict[str, int]]:
    """Every counters partial on a page, in order, as {status or "attended": count}."""
    found: list[dict[str, int]] = []
    for name, value in _COUNT.findall(html):
        if name == "attended":
            found.append({})
        found[-1][name] = int(value)
    return found


def with_attended(statuses: dict[str, int]) -> dict[str, int]:
    counts = {status: statuses.get(status, 0) for status in STATUSES}
    return {**counts, "attended": counts["present"] + counts["late"]}


def tally(statuses: list[str]) -> dict[str, int]:
    """Statuses (one per record) counted as the counters count them."""
    return with_attended({status: statuses.count(status) for status in STATUSES})


def csv_rows(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def xlsx_rows(response: httpx.Response) -> list[list[Any]]:
    """The first sheet's rows, each cell as openpyxl reads it (its type kept)."""
    assert response.status_code == 200, response.text
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    return [list(row) for row in workbook.worksheets[0].iter_rows()]


def course_rates_in(html: str) -> dict[str, int | None]:
    """The course page's rate of each student (None: no lesson counted)."""
    return {number: int(value) if value else None for number, value in _RATE.findall(html)}


async def persist_term(
    database_url: str,
    *,
    teacher: tuple[str, str],
    course: str,
    students: dict[str, str],
    lessons: list[tuple[datetime, dict[str, str]]],
) -> None:
    """Write finished lessons of one course straight to SQL, as the sweep would have: each
    lesson at its start time, with one record per student listed in it (status by number)."""
    engine = create_engine(database_url)
    try:
        writes = []
        for start, statuses in lessons:
            lesson = LessonRedis(
                lesson_id=keys.new_lesson_id(course, teacher[1]),
                lesson_name=course,
                teacher_school_number=teacher[0],
                teacher_full_name=teacher[1],
                start_time=start,
                end_time=start + timedelta(minutes=50),
                status=LessonStatus.FINISHED,
                finished_at=start + timedelta(minutes=50),
            )
            records = [
                AttendanceRecordRedis(
                    lesson_id=lesson.lesson_id,
                    student_number=number,
                    student_full_name=students[number],
                    status=RecordStatus(status),
                    attendance_time=None if status == "absent" else start + timedelta(minutes=3),
                    reason="doctor's note" if status == "excused" else None,
                )
                for number, status in statuses.items()
            ]
            writes.append(history.LessonWrite(lesson=lesson, records=records, version=1))
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        async with sessions() as session, session.begin():
            await history.persist_lessons(session=session, lessons=writes, now=datetime.now(UTC))
    finally:
        await engine.dispose()
