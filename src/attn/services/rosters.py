"""Course rosters: the students a teacher's course expects, uploaded as CSV.

A lesson takes its course's roster as it is when the lesson starts: joins from outside it are
flagged `not_on_roster`, and roster students without a record are marked absent when the
lesson is persisted. A roster lists students only (a teacher's or an admin's school number is
refused), and never renames anyone: a listed number with an account goes by the account's
name; the roster's name is used only for a number with no account yet.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import TypeAdapter, ValidationError

from attn.db import rosters, users
from attn.db.tables import UserRow
from attn.errors import (
    InvalidRoster,
    RosterChanged,
    RosterNotFound,
    RosterProblem,
    StudentNotFound,
)
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

ROSTER_HEADER = ["school_number", "full_name"]
MAX_ROSTER = 5000

_COURSE: TypeAdapter[str] = TypeAdapter(DisplayName)


def course_key(course: str) -> str:
    """The form a course name is matched in (the lesson names of its lessons)."""
    return normalize_name(course)


def _name_problem(value: str) -> str:
    """Why a full name is refused, in words."""
    if not value.strip():
        return "the full name is empty"
    if len(value) > 200:
        return "the full name is longer than 200 characters"
    return "the full name holds a control or invisible character"


def parse_roster(text: str) -> list[tuple[int, RosterStudent]]:
    """A roster CSV (`school_number,full_name`), each student with its line; every row
    valid, or InvalidRoster listing every bad line (not only the first)."""
    students, problems = read_roster(text)
    if problems:
        raise invalid(problems)
    return students


def invalid(problems: Sequence[RosterProblem]) -> InvalidRoster:
    """The refusal of a roster with these problems: the first in the message, all listed."""
    first = problems[0].message
    if len(problems) == 1:
        return InvalidRoster(first, problems)
    return InvalidRoster(f"{len(problems)} problems; the first: {first}", problems)


def read_roster(text: str) -> tuple[list[tuple[int, RosterStudent]], list[RosterProblem]]:
    """The valid students of a roster CSV with their lines, and every problem found."""
    students: dict[str, tuple[int, RosterStudent]] = {}
    problems: list[RosterProblem] = []

    def problem(line: int, kind: str, value: str, words: str) -> None:
        where = f"Line {line}: " if line else ""
        problems.append(RosterProblem(line, kind, value, f"{where}{words}."))

    try:
        for line_number, row in read_table(text, ROSTER_HEADER, check_width=False):
            if len(row) != len(ROSTER_HEADER):
                problem(
                    line_number,
                    "columns",
                    str(len(row)),
                    f"expected 2 columns (school number, full name), found {len(row)}",
                )
                continue
            number, name = row[0].strip(), row[1]
            try:
                student = RosterStudent.model_validate({"school_number": number, "full_name": name})
            except ValidationError as exc:
                fields = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
                if "school_number" in fields:
                    problem(
                        line_number,
                        "number",
                        number,
                        f'"{number}" is not a school number (1-32 letters, digits, ".", "_" '
                        'or "-", starting with a letter or digit)',
                    )
                if "full_name" in fields:
                    problem(line_number, "name", name, _name_problem(name))
                continue
            if student.school_number in students:
                first_line = students[student.school_number][0]
                problem(
                    line_number,
                    "duplicate",
                    student.school_number,
                    f"{student.school_number} appears twice (first on line {first_line})",
                )
                continue
            students[student.school_number] = (line_number, student)
    except CsvTableError as exc:
        kind = "header" if "header" in str(exc) else "not_csv"
        problem(1 if kind == "header" else 0, kind, "", f"The roster is not valid: {exc}")
        return [], problems
    if len(students) > MAX_ROSTER:
        problem(0, "too_many", str(len(students)), f"A roster holds at most {MAX_ROSTER} students")
    return list(students.values()), problems


def _by_line(problem: RosterProblem) -> int:
    return problem.line


def _account_problems(
    lines: Sequence[tuple[int, RosterStudent]], accounts: Mapping[str, UserRow]
) -> list[RosterProblem]:
    """The lines whose number is a teacher's or an admin's account."""
    problems = []
    for line_number, student in lines:
        account = accounts.get(student.school_number)
        if account is not None and account.role != "student":
            problems.append(
                RosterProblem(
                    line_number,
                    "not_student",
                    student.school_number,
                    f"Line {line_number}: {student.school_number} is an account of a "
                    f"{account.role}; a roster lists students only.",
                )
            )
    return problems


def _course_name(course: str) -> str:
    try:
        return _COURSE.validate_python(course)
    except ValidationError:
        raise InvalidRoster("The course must be a lesson name: 1-200 visible characters.") from None


def roster_digest(course: str, stored: Mapping[str, str] | None, csv_text: str) -> str:
    """What a preview binds its confirmation to: the course, its roster as stored when it
    was compared, and the CSV itself."""
    state = json.dumps(
        [course_key(course), None if stored is None else sorted(stored.items()), csv_text],
        ensure_ascii=False,
    )
    return hashlib.sha256(state.encode()).hexdigest()


async def put_roster(
    ctx: ServiceContext,
    *,
    teacher: UserSessionRedis,
    course: str,
    csv_text: str,
    expected_digest: str | None = None,
) -> Roster:
    """Replace the course's roster; lessons started from now on use it. The roster as it now
    reads (accounts' names for the numbers that have one) is returned.

    With `expected_digest` (a preview's), the roster is replaced only if it is still the one
    that preview compared with (RosterChanged otherwise)."""
    course_name = _course_name(course)
    lines, problems = read_roster(csv_text)
    if problems and not lines:
        raise invalid(problems)  # nothing to look up: say it before touching the database
    now = ctx.now()
    key = course_key(course_name)
    async with ctx.db() as session, session.begin():
        if expected_digest is not None:
            stored = await rosters.stored_students(
                session=session,
                teacher_school_number=teacher.school_number,
                course_key=key,
                lock=True,
            )
            digest = roster_digest(course_name, stored, csv_text)
            if not hmac.compare_digest(digest, expected_digest):
                raise RosterChanged
        accounts = await users.get_users(
            session=session, school_numbers=[student.school_number for _, student in lines]
        )
        problems = sorted(problems + _account_problems(lines, accounts), key=_by_line)
        if problems:
            raise invalid(problems)
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


@dataclass(frozen=True, slots=True)
class Renamed:
    school_number: str
    old_name: str
    new_name: str


@dataclass(frozen=True, slots=True)
class RosterPreview:
    """What an upload would change in a course's roster, before it is confirmed: the students
    it adds, removes and renames (the roster's own names; a student with an account keeps
    the account's name wherever it is shown), how many stay as they are, and every problem
    of the CSV. `digest` binds a confirmation to this CSV and the roster it was compared
    with; None while there are problems (nothing can be confirmed)."""

    course: str
    exists: bool
    added: list[RosterStudent]
    removed: list[RosterStudent]
    renamed: list[Renamed]
    unchanged: int
    problems: list[RosterProblem]
    digest: str | None


async def preview_roster(
    ctx: ServiceContext, *, teacher: UserSessionRedis, course: str, csv_text: str
) -> RosterPreview:
    """Compare an uploaded CSV with the course's roster, without storing anything."""
    course_name = _course_name(course)
    lines, problems = read_roster(csv_text)
    async with ctx.db() as session:
        stored = await rosters.stored_students(
            session=session,
            teacher_school_number=teacher.school_number,
            course_key=course_key(course_name),
        )
        accounts = await users.get_users(
            session=session, school_numbers=[student.school_number for _, student in lines]
        )
    problems = sorted(problems + _account_problems(lines, accounts), key=_by_line)
    current = stored or {}
    uploaded = {student.school_number: student for _, student in lines}
    added = [student for number, student in uploaded.items() if number not in current]
    removed = [
        RosterStudent(school_number=number, full_name=name)
        for number, name in sorted(current.items())
        if number not in uploaded
    ]
    renamed = [
        Renamed(number, current[number], student.full_name)
        for number, student in uploaded.items()
        if number in current and current[number] != student.full_name
    ]
    unchanged = sum(
        1 for number, student in uploaded.items() if current.get(number) == student.full_name
    )
    return RosterPreview(
        course=course_name,
        exists=stored is not None,
        added=added,
        removed=removed,
        renamed=renamed,
        unchanged=unchanged,
        problems=problems,
        digest=None if problems else roster_digest(course_name, stored, csv_text),
    )


async def remove_student(
    ctx: ServiceContext, *, teacher: UserSessionRedis, course: str, student_number: str
) -> None:
    """Take one student off the course's roster (lessons already started keep theirs)."""
    key = course_key(course)
    async with ctx.db() as session, session.begin():
        stored = await rosters.stored_students(
            session=session, teacher_school_number=teacher.school_number, course_key=key
        )
        if stored is None:
            raise RosterNotFound
        removed = await rosters.remove_student(
            session=session,
            teacher_school_number=teacher.school_number,
            course_key=key,
            student_number=student_number,
            now=ctx.now(),
        )
    if not removed:
        raise StudentNotFound("The student is not on this roster.")


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
