"""Course rosters in SQL: the students a teacher expects in the lessons of one course."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from attn.db.tables import Roster, RosterStudent
from attn.models import RosterOut, RosterSummary
from attn.models import RosterStudent as RosterStudentModel


async def replace_roster(
    *,
    session: AsyncSession,
    teacher_school_number: str,
    course_key: str,
    course_name: str,
    students: Sequence[RosterStudentModel],
    now: datetime,
) -> None:
    """Make `students` the course's whole roster (the caller's transaction)."""
    await session.execute(
        delete(Roster).where(
            Roster.teacher_school_number == teacher_school_number, Roster.course_key == course_key
        )
    )
    await session.execute(
        delete(RosterStudent).where(
            RosterStudent.teacher_school_number == teacher_school_number,
            RosterStudent.course_key == course_key,
        )
    )
    session.add(
        Roster(
            teacher_school_number=teacher_school_number,
            course_key=course_key,
            course_name=course_name,
            updated_at=now,
        )
    )
    await session.flush()
    session.add_all(
        RosterStudent(
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
) -> RosterOut | None:
    roster = await session.get(Roster, (teacher_school_number, course_key))
    if roster is None:
        return None
    rows = await session.scalars(
        select(RosterStudent)
        .where(
            RosterStudent.teacher_school_number == teacher_school_number,
            RosterStudent.course_key == course_key,
        )
        .order_by(RosterStudent.student_number)
    )
    return RosterOut(
        course=roster.course_name,
        students=[
            RosterStudentModel(school_number=row.student_number, full_name=row.full_name)
            for row in rows
        ],
        updated_at=roster.updated_at,
    )


async def list_rosters(*, session: AsyncSession, teacher_school_number: str) -> list[RosterSummary]:
    counts = (
        select(func.count())
        .where(
            RosterStudent.teacher_school_number == Roster.teacher_school_number,
            RosterStudent.course_key == Roster.course_key,
        )
        .correlate(Roster)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Roster, counts)
        .where(Roster.teacher_school_number == teacher_school_number)
        .order_by(Roster.course_name)
    )
    return [
        RosterSummary(course=roster.course_name, student_count=count, updated_at=roster.updated_at)
        for roster, count in rows
    ]


async def delete_roster(
    *, session: AsyncSession, teacher_school_number: str, course_key: str
) -> bool:
    await session.execute(
        delete(RosterStudent).where(
            RosterStudent.teacher_school_number == teacher_school_number,
            RosterStudent.course_key == course_key,
        )
    )
    result = await session.execute(
        delete(Roster).where(
            Roster.teacher_school_number == teacher_school_number, Roster.course_key == course_key
        )
    )
    return bool(getattr(result, "rowcount", 0))


async def roster_names(
    *, session: AsyncSession, teacher_school_number: str, course_key: str
) -> dict[str, str]:
    """Student number -> full name of the course's roster; empty when there is none."""
    rows = await session.execute(
        select(RosterStudent.student_number, RosterStudent.full_name).where(
            RosterStudent.teacher_school_number == teacher_school_number,
            RosterStudent.course_key == course_key,
        )
    )
    return {str(number): str(name) for number, name in rows}
