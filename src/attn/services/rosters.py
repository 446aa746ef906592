"""Course rosters: the students a teacher's course expects, uploaded as CSV.

A lesson takes its course's roster as it is when the lesson starts: joins from outside it are
flagged `not_on_roster`, and roster students without a record are marked absent when the
lesson is persisted.
"""

from __future__ import annotations

from pydantic import TypeAdapter, ValidationError

from attn.db import rosters
from attn.errors import InvalidRoster, RosterNotFound
from attn.models import (
    DisplayName,
    Roster,
    RosterStudent,
    RosterSummary,
    UserSessionRedis,
    normalize_name,
)
from attn.services.context import ServiceContext
from attn.services.csv_tables import CsvTableError, read_table
from attn.services.validation import first_error

ROSTER_HEADER = ["school_number", "full_name"]
MAX_ROSTER = 5000

_COURSE: TypeAdapter[str] = TypeAdapter(DisplayName)


def course_key(course: str) -> str:
    """The form a course name is matched in (the lesson names of its lessons)."""
    return normalize_name(course)


def parse_roster(text: str) -> list[RosterStudent]:
    """A roster CSV (`school_number,full_name`); every row valid, or InvalidRoster."""
    students: dict[str, RosterStudent] = {}
    try:
        for line_number, row in read_table(text, ROSTER_HEADER):
            try:
                student = RosterStudent.model_validate(
                    {"school_number": row[0].strip(), "full_name": row[1]}
                )
            except ValidationError as exc:
                raise InvalidRoster(f"Line {line_number}: {first_error(exc)}") from None
            if student.school_number in students:
                raise InvalidRoster(f"Line {line_number}: {student.school_number} appears twice.")
            students[student.school_number] = student
            if len(students) > MAX_ROSTER:
                raise InvalidRoster(f"A roster holds at most {MAX_ROSTER} students.")
    except CsvTableError as exc:
        raise InvalidRoster(f"The roster is not valid: {exc}.") from None
    return list(students.values())


def _course_name(course: str) -> str:
    try:
        return _COURSE.validate_python(course)
    except ValidationError:
        raise InvalidRoster("The course must be a lesson name: 1-200 visible characters.") from None


async def put_roster(
    ctx: ServiceContext, *, teacher: UserSessionRedis, course: str, csv_text: str
) -> Roster:
    """Replace the course's roster; lessons started from now on use it."""
    course_name = _course_name(course)
    students = parse_roster(csv_text)
    now = ctx.now()
    async with ctx.db() as session, session.begin():
        await rosters.replace_roster(
            session=session,
            teacher_school_number=teacher.school_number,
            course_key=course_key(course_name),
            course_name=course_name,
            students=students,
            now=now,
        )
    return Roster(course=course_name, students=students, updated_at=now)


async def get_roster(ctx: ServiceContext, *, teacher: UserSessionRedis, course: str) -> Roster:
    async with ctx.db() as session:
        roster = await rosters.get_roster(
            session=session,
            teacher_school_number=teacher.school_number,
            course_key=course_key(course),
        )
    if roster is None:
        raise RosterNotFound
    return roster


async def list_rosters(ctx: ServiceContext, *, teacher: UserSessionRedis) -> list[RosterSummary]:
    async with ctx.db() as session:
        return await rosters.list_rosters(
            session=session, teacher_school_number=teacher.school_number
        )


async def delete_roster(ctx: ServiceContext, *, teacher: UserSessionRedis, course: str) -> None:
    async with ctx.db() as session, session.begin():
        deleted = await rosters.delete_roster(
            session=session,
            teacher_school_number=teacher.school_number,
            course_key=course_key(course),
        )
    if not deleted:
        raise RosterNotFound
