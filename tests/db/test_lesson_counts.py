"""A page of persisted lessons is counted by SQL in one grouped query, however many lessons
and records it holds, and the counts are the records' statuses counted."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event

from attn.db import history
from tests.support.api import Api
from tests.support.database import Database
from tests.support.numbers import persist_term, tally

STATUSES = ["present", "late", "pending", "excused", "rejected", "absent"]


@contextmanager
def statements(api: Api) -> Iterator[list[str]]:
    """The SQL statements the app's engine runs meanwhile."""
    engine = api.context.db.kw["bind"].sync_engine
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_a_page_of_lessons_is_counted_in_one_query(
    api: Api, clean_database: Database
) -> None:
    teacher = await api.add_user("teacher")
    students = {f"S9{n:03d}": f"Student {n}" for n in range(12)}
    start = datetime(2026, 9, 1, 9, tzinfo=UTC)
    lessons = [
        (
            start + timedelta(days=day),
            {number: STATUSES[(day + n) % 6] for n, number in enumerate(students) if n <= day},
        )
        for day in range(30)
    ]
    await persist_term(
        clean_database.async_url,
        teacher=(teacher.school_number, teacher.full_name),
        course="Kimya",
        students=students,
        lessons=lessons,
    )
    for limit in (5, 30):
        with statements(api) as seen:
            async with api.context.db() as session:
                listed = await history.list_teacher_lessons(
                    session=session,
                    teacher_school_number=teacher.school_number,
                    limit=limit,
                    exclude=[],
                )
        assert len(listed) == limit
        assert len(seen) == 2, seen  # the lessons, then their counts grouped
        expected = {moment: tally(list(statuses.values())) for moment, statuses in lessons}
        for lesson in listed:
            assert lesson.counts.by_status() == expected[lesson.start_time]
