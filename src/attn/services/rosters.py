"""Course rosters: the students a teacher's course expects, uploaded as CSV.

A lesson takes its course's roster as it is when the lesson starts: joins from outside it are
flagged `not_on_roster`, and roster students without a record are marked absent when the
lesson is persisted. A roster lists students only (a teacher's or an admin's school number is
refused), and never renames anyone: a listed number with an account goes by the account's
name; the roster's name is used only for a number with no account yet.
"""

from __future__ import annotations

from pydantic import TypeAdapter, ValidationError

from attn.db import rosters, users
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


def parse_roster(text: str) -> list[tuple[int, RosterStudent]]:
    """A roster CSV (`school_number,full_name`), each student with its line; every row
    valid, or InvalidRoster."""
    students: dict[str, tuple[int, RosterStudent]] = {}
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
            students[student.school_number] = (line_number, student)
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
    """Replace the course's roster; lessons started from now on use it. The roster as it now
    reads (accounts' names for the numbers that have one) is returned."""
    course_name = _course_name(course)
    lines = parse_roster(csv_text)
    now = ctx.now()
    async with ctx.db() as session, session.begin():
        accounts = await users.get_users(
            session=session, school_numbers=[student.school_number for _, student in lines]
        )
        for line_number, student in lines:
            account = accounts.get(student.school_number)
            if account is not None and account.role != "student":
                raise InvalidRoster(
                    f"Line {line_number}: {student.school_number} is an account of a "
                    f"{account.role}; a roster lists students only."
                )
        key = course_key(course_name)
        await rosters.replace_roster(
            session=session,
            teacher_school_number=teacher.school_number,
            course_key=key,
            course_name=course_name,
            students=[student for _, student in lines],
            now=now,
        )
        roster = await rosters.get_roster(
            session=session, teacher_school_number=teacher.school_number, course_key=key
        )
    assert roster is not None  # written just now, in this transaction
    return roster


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
