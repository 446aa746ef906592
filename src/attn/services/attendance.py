"""The rules of counting attendance, in one place: which statuses count as attended, a
roll's counts by status, and a student's attendance rate in a course.

A course is every persisted lesson of one teacher with one lesson name (normalised). A
student's rate in it is the share of those lessons attended (present or late); a lesson
without a record of the student counts as missed. The teacher's course table and the
student's own history use the same lessons and this same rule, so they always agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from attn.db import history
from attn.models import (
    AttendanceRecordRedis,
    LessonRedis,
    RecordStatus,
    UserSessionRedis,
    normalize_name,
)
from attn.services.context import ServiceContext

ATTENDED = frozenset({RecordStatus.PRESENT, RecordStatus.LATE})


def status_counts(records: Iterable[AttendanceRecordRedis]) -> dict[str, int]:
    """How many records have each status (every status listed, in the model's order)."""
    counts = {status.value: 0 for status in RecordStatus}
    for record in records:
        counts[record.status.value] += 1
    return counts


@dataclass(frozen=True, slots=True)
class AttendanceRate:
    attended: int
    lessons: int

    @property
    def share(self) -> float:
        return self.attended / self.lessons if self.lessons else 0.0

    @property
    def percent(self) -> int:
        """The share as a whole percentage, halves rounded up."""
        return (self.attended * 200 + self.lessons) // (self.lessons * 2) if self.lessons else 0


def attendance_rate(statuses: Iterable[RecordStatus | None]) -> AttendanceRate:
    """The rate over one status per lesson (None: no record, a missed lesson)."""
    counted = list(statuses)
    return AttendanceRate(sum(status in ATTENDED for status in counted), len(counted))


@dataclass(frozen=True)
class CourseTable:
    course: str
    lessons: list[LessonRedis]
    students: list[tuple[str, str]]  # (school number, full name)
    cells: dict[tuple[str, str], RecordStatus]  # (student, lesson id) -> status
    rates: dict[str, AttendanceRate]  # student -> rate

    def status(self, student_number: str, lesson_id: str) -> str:
        """The student's status in the lesson as shown: `absent` without a record."""
        status = self.cells.get((student_number, lesson_id))
        return RecordStatus.ABSENT.value if status is None else status.value


async def course_table(
    ctx: ServiceContext, *, teacher: UserSessionRedis, course: str
) -> CourseTable:
    """Every persisted lesson of the course against every student who has a record in one."""
    async with ctx.db() as session:
        lessons = await history.teacher_lessons_named(
            session=session,
            teacher_school_number=teacher.school_number,
            course_key=normalize_name(course),
        )
        records = await history.records_of_lessons(
            session=session, lesson_ids=[lesson.lesson_id for lesson in lessons]
        )
    names: dict[str, str] = {}
    cells: dict[tuple[str, str], RecordStatus] = {}
    for record in records:
        names.setdefault(record.student_number, record.student_full_name)
        cells[(record.student_number, record.lesson_id)] = record.status
    rates = {
        number: attendance_rate(cells.get((number, lesson.lesson_id)) for lesson in lessons)
        for number in names
    }
    title = lessons[-1].lesson_name if lessons else " ".join(course.split())
    return CourseTable(title, lessons, sorted(names.items()), cells, rates)


@dataclass(frozen=True, slots=True)
class CourseRate:
    """A student's rate in one course, as its teacher's course table shows it."""

    course: str
    teacher_full_name: str
    rate: AttendanceRate


async def student_course_rates(
    ctx: ServiceContext,
    *,
    student: UserSessionRedis,
    found: Sequence[tuple[LessonRedis, AttendanceRecordRedis]],
) -> list[CourseRate]:
    """The student's rate in each course of `found` (their records) that has a persisted
    lesson, over all of that course's persisted lessons."""
    courses: dict[tuple[str, str], LessonRedis] = {}
    for lesson, _ in found:
        courses.setdefault(
            (lesson.teacher_school_number, normalize_name(lesson.lesson_name)), lesson
        )
    rates = []
    async with ctx.db() as session:
        for (teacher_number, key), example in courses.items():
            lessons = await history.teacher_lessons_named(
                session=session, teacher_school_number=teacher_number, course_key=key
            )
            if not lessons:
                continue  # only live lessons so far
            records = await history.records_of_lessons(
                session=session,
                lesson_ids=[lesson.lesson_id for lesson in lessons],
                student_number=student.school_number,
            )
            statuses = {record.lesson_id: record.status for record in records}
            rate = attendance_rate(statuses.get(lesson.lesson_id) for lesson in lessons)
            rates.append(CourseRate(lessons[-1].lesson_name, example.teacher_full_name, rate))
    return rates
