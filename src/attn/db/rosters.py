"""Course rosters in SQL: the students a teacher expects in the lessons of one course.

A roster is read as its lessons take it: a listed number with a student account goes by the
account's name (the roster's name is kept for a number with no account yet), and a number
whose account is a teacher's or an admin's is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from attn.db.tables import RosterRow, RosterStudentRow, UserRow
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


def _listed_students(teacher_school_number: str, course_key: str) -> Any:
    """(number, name) of the roster's students, names as the roster is read (see above)."""
    return (
        select(
            RosterStudentRow.student_number,
            func.coalesce(UserRow.full_name, RosterStudentRow.full_name),
        )
        .outerjoin(UserRow, UserRow.school_number == RosterStudentRow.student_number)
        .where(
            RosterStudentRow.teacher_school_number == teacher_school_number,
            RosterStudentRow.course_key == course_key,
            (UserRow.role.is_(None)) | (UserRow.role == "student"),
        )
        .order_by(RosterStudentRow.student_number)
    )


async def get_roster(
    *, session: AsyncSession, teacher_school_number: str, course_key: str
) -> Roster | None:
    roster = await session.get(RosterRow, (teacher_school_number, course_key))
    if roster is None:
        return None
    rows = await session.execute(_listed_students(teacher_school_number, course_key))
    return Roster(
        course=roster.course_name,
        students=[RosterStudent(school_number=number, full_name=name) for number, name in rows],
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
    rows = await session.execute(_listed_students(teacher_school_number, course_key))
    return {str(number): str(name) for number, name in rows}


async def stored_students(
    *, session: AsyncSession, teacher_school_number: str, course_key: str, lock: bool = False
) -> dict[str, str] | None:
    """Number -> name of the roster as uploaded (the roster's own names, accounts aside);
    None when the course has no roster. With `lock`, the roster's row is held for the rest
    of the caller's transaction (PostgreSQL), so a confirmed upload compares and replaces
    in one step."""
    query = select(RosterRow.course_key).where(
        RosterRow.teacher_school_number == teacher_school_number,
        RosterRow.course_key == course_key,
    )
    if lock:
        query = query.with_for_update()
    if (await session.execute(query)).first() is None:
        return None
    rows = await session.execute(
        select(RosterStudentRow.student_number, RosterStudentRow.full_name).where(
            RosterStudentRow.teacher_school_number == teacher_school_number,
            RosterStudentRow.course_key == course_key,
        )
    )
    return {str(number): str(name) for number, name in rows}


async def remove_student(
    *,
    session: AsyncSession,
    teacher_school_number: str,
    course_key: str,
    student_number: str,
    now: datetime,
) -> bool:
    """Take one student off the roster (the caller's transaction); whether one was there."""
    result = await session.execute(
        delete(RosterStudentRow).where(
            RosterStudentRow.teacher_school_number == teacher_school_number,
            RosterStudentRow.course_key == course_key,
            RosterStudentRow.student_number == student_number,
        )
    )
    if not getattr(result, "rowcount", 0):
        return False
    roster = await session.get(RosterRow, (teacher_school_number, course_key))
    if roster is not None:
        roster.updated_at = now
    return True


async def student_courses(*, session: AsyncSession, student_number: str) -> list[tuple[str, str]]:
    """(teacher school number, course key) of every roster listing the student: one query
    on `ix_roster_students_student`."""
    rows = await session.execute(
        select(RosterStudentRow.teacher_school_number, RosterStudentRow.course_key)
        .where(RosterStudentRow.student_number == student_number)
        .order_by(RosterStudentRow.teacher_school_number, RosterStudentRow.course_key)
    )
    return [(str(teacher), str(course)) for teacher, course in rows]
