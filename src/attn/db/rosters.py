"""Course rosters in SQL: the students a teacher expects in the lessons of one course."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from attn.db.tables import RosterRow, RosterStudentRow
from attn.models import Roster, RosterStudent, RosterSummary


async def replace_roster(
    *,
    session: AsyncSession,
    teacher_school_number: str,
    course_key: str,
    course_name: str,
    students: Sequence[RosterStudent],
    now: datetime,
) -> None:
    """Make `students` the course's whole roster (the caller's transaction)."""
    await session.execute(
        delete(RosterRow).where(
            RosterRow.teacher_school_number == teacher_school_number,
            RosterRow.course_key == course_key,
        )
    )
    await session.execute(
        delete(RosterStudentRow).where(
            RosterStudentRow.teacher_school_number == teacher_school_number,
            RosterStudentRow.course_key == course_key,
        )
    )
    session.add(
        RosterRow(
            teacher_school_number=teacher_school_number,
            course_key=course_key,
            course_name=course_name,
            updated_at=now,
        )
    )
    await session.flush()
    session.add_all(
        RosterStudentRow(
            teacher_school_number=teacher_school_number,
            course_key=course_key,
            student_number=student.school_number,
            full_name=student.full_name,
        )
        for student in students
    )
    await session.flush()


async def get_roster(
    *, session: AsyncSession, teacher_school_number: str, course_key: str
) -> Roster | None:
    roster = await session.get(RosterRow, (teacher_school_number, course_key))
    if roster is None:
        return None
    rows = await session.scalars(
        select(RosterStudentRow)
        .where(
            RosterStudentRow.teacher_school_number == teacher_school_number,
            RosterStudentRow.course_key == course_key,
        )
        .order_by(RosterStudentRow.student_number)
    )
    return Roster(
        course=roster.course_name,
        students=[
            RosterStudent(school_number=row.student_number, full_name=row.full_name) for row in rows
        ],
        updated_at=roster.updated_at,
    )


async def list_rosters(*, session: AsyncSession, teacher_school_number: str) -> list[RosterSummary]:
    counts = (
        select(func.count())
        .where(
            RosterStudentRow.teacher_school_number == RosterRow.teacher_school_number,
            RosterStudentRow.course_key == RosterRow.course_key,
        )
        .correlate(RosterRow)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(RosterRow, counts)
        .where(RosterRow.teacher_school_number == teacher_school_number)
        .order_by(RosterRow.course_name)
    )
    return [
        RosterSummary(course=roster.course_name, student_count=count, updated_at=roster.updated_at)
        for roster, count in rows
    ]


async def delete_roster(
    *, session: AsyncSession, teacher_school_number: str, course_key: str
) -> bool:
    await session.execute(
        delete(RosterStudentRow).where(
            RosterStudentRow.teacher_school_number == teacher_school_number,
            RosterStudentRow.course_key == course_key,
        )
    )
    result = await session.execute(
        delete(RosterRow).where(
            RosterRow.teacher_school_number == teacher_school_number,
            RosterRow.course_key == course_key,
        )
    )
    return bool(getattr(result, "rowcount", 0))


async def roster_names(
    *, session: AsyncSession, teacher_school_number: str, course_key: str
) -> dict[str, str]:
    """Student number -> full name of the course's roster; empty when there is none."""
    rows = await session.execute(
        select(RosterStudentRow.student_number, RosterStudentRow.full_name).where(
            RosterStudentRow.teacher_school_number == teacher_school_number,
            RosterStudentRow.course_key == course_key,
        )
    )
    return {str(number): str(name) for number, name in rows}
