"""The rules of counting attendance, in one place: a lesson's counters by status, and a
student's attendance rate in a course.

**Counters.** `Counts` (defined with the lesson in `attn.models`, so the stores can fill it)
counts a lesson's records by status, and `attended` = present + late. A live lesson keeps them
in Redis, updated by the scripts that create or change a record; a persisted lesson's are
counted by SQL. `Lesson.attendee_count` is `attended`. The roll, the projector, the history,
the exports and the API all show these numbers.

**Rate.** A course is every persisted lesson of one teacher with one lesson name (normalised).
The lessons a student was expected at are the course's lessons in which the student has a
record: at persistence a roster student without one gets an `absent` record, so a lesson held
before the student joined the roster has none and does not count. Each status counts for its
weight in the course (`StatusWeights`: by default present 1, late 1, pending, rejected and
absent 0, excused left out); a status weighted None leaves its lessons out of the rate
altogether. Rate = the sum of the weights of the student's records / the number of those
records whose status is not left out. `rate_of` is the one function that computes it; the
teacher's course table, the student's own page and the exports all use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from attn.db import course_settings, history
from attn.errors import InvalidRequest
from attn.models import (
    AttendanceRecordRedis,
    Counts,
    LessonRedis,
    RecordStatus,
    StatusWeights,
    UserSessionRedis,
    normalize_name,
)
from attn.services.context import ServiceContext

__all__ = ["Counts", "StatusWeights", "count_records", "rate_of"]

ATTENDED = frozenset({RecordStatus.PRESENT, RecordStatus.LATE})
DEFAULT_WEIGHTS = StatusWeights()


def count_records(records: Iterable[AttendanceRecordRedis]) -> Counts:
    """A roll's records counted by status."""
    return Counts.of(record.status for record in records)


@dataclass(frozen=True, slots=True)
class AttendanceRate:
    """Weighted lessons attended (`earned`) out of the lessons counted (`expected`)."""

    earned: float
    expected: int

    @property
    def share(self) -> float | None:
        """The rate from 0 to 1; None when no lesson counts."""
        return self.earned / self.expected if self.expected else None

    @property
    def percent(self) -> int | None:
        """The rate as a whole percentage, halves rounded up; None when no lesson counts."""
        if not self.expected:
            return None
        # in hundredths of a lesson first, so that 0.5 + 0.25 weights round as decimals do
        hundredths = round(self.earned * 100)
        return (hundredths * 2 + self.expected) // (self.expected * 2)

    def __add__(self, other: AttendanceRate) -> AttendanceRate:
        return AttendanceRate(self.earned + other.earned, self.expected + other.expected)


NO_RATE = AttendanceRate(0.0, 0)


def rate_of(statuses: Iterable[RecordStatus], weights: StatusWeights) -> AttendanceRate:
    """The rate over the statuses of the lessons a student was expected at (one each)."""
    earned = 0.0
    expected = 0
    for status in statuses:
        weight = weights.of(status)
        if weight is not None:
            earned += weight
            expected += 1
    return AttendanceRate(earned, expected)


def rule_terms(weights: StatusWeights) -> tuple[list[tuple[str, float]], list[str]]:
    """The rule in parts a page puts in words: the statuses that earn something, with their
    weights, and the statuses whose lessons are left out."""
    earning = [
        (status.value, weight)
        for status in RecordStatus
        if (weight := weights.of(status)) is not None and weight > 0
    ]
    excluded = [status.value for status in RecordStatus if weights.of(status) is None]
    return earning, excluded


# --- the course's weights --------------------------------------------------------------------


def _course_key(course: str) -> str:
    key = normalize_name(course)
    if not key or len(key) > 200:
        raise InvalidRequest("A course is named by its lessons' name (1 to 200 characters).")
    return key


async def get_weights(
    ctx: ServiceContext, *, teacher: UserSessionRedis, course: str
) -> StatusWeights:
    """The course's weights: the teacher's, or the defaults."""
    key = _course_key(course)
    async with ctx.db() as session:
        found = await course_settings.get_weights(
            session=session, courses=[(teacher.school_number, key)]
        )
    return found.get((teacher.school_number, key), DEFAULT_WEIGHTS)


async def set_weights(
    ctx: ServiceContext, *, teacher: UserSessionRedis, course: str, weights: StatusWeights
) -> StatusWeights:
    """Set the course's weights; every rate of the course follows them at once."""
    key = _course_key(course)
    async with ctx.db() as session, session.begin():
        await course_settings.put_weights(
            session=session,
            teacher_school_number=teacher.school_number,
            course_key=key,
            weights=weights,
            now=ctx.now(),
        )
    return weights


# --- the course table ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CourseLesson:
    """One column of the course table: a lesson, its counters and its rate (over the
    students expected at it)."""

    lesson: LessonRedis
    named: bool  # whether its name is shown: the course's lessons differ in spelling
    rate: AttendanceRate

    @property
    def counts(self) -> Counts:
        return self.lesson.counts


@dataclass(frozen=True)
class CourseTable:
    course: str
    lessons: list[CourseLesson]
    students: list[tuple[str, str]]  # (school number, full name)
    cells: dict[tuple[str, str], RecordStatus]  # (student, lesson id) -> status
    rates: dict[str, AttendanceRate]  # student -> rate
    weights: StatusWeights
    average: AttendanceRate  # every expected lesson of every student
    student_flags: dict[str, set[str]]  # student -> the flags of any of their records

    def flags(self, student_number: str) -> list[str]:
        return sorted(self.student_flags.get(student_number, ()))

    def status(self, student_number: str, lesson_id: str) -> RecordStatus | None:
        """The student's status in the lesson; None when they were not expected at it."""
        return self.cells.get((student_number, lesson_id))


async def course_table(
    ctx: ServiceContext, *, teacher: UserSessionRedis, course: str
) -> CourseTable:
    """Every persisted lesson of the course against every student who has a record in one."""
    key = normalize_name(course)
    async with ctx.db() as session:
        lessons = await history.teacher_lessons_named(
            session=session, teacher_school_number=teacher.school_number, course_key=key
        )
        records = await history.records_of_lessons(
            session=session, lesson_ids=[lesson.lesson_id for lesson in lessons]
        )
        found = await course_settings.get_weights(
            session=session, courses=[(teacher.school_number, key)]
        )
    weights = found.get((teacher.school_number, key), DEFAULT_WEIGHTS)
    names: dict[str, str] = {}
    cells: dict[tuple[str, str], RecordStatus] = {}
    by_student: dict[str, list[RecordStatus]] = {}
    by_lesson: dict[str, list[RecordStatus]] = {}
    flags: dict[str, set[str]] = {}
    for record in records:
        flags.setdefault(record.student_number, set()).update(record.flags)
        names.setdefault(record.student_number, record.student_full_name)
        cells[(record.student_number, record.lesson_id)] = record.status
        by_student.setdefault(record.student_number, []).append(record.status)
        by_lesson.setdefault(record.lesson_id, []).append(record.status)
    rates = {number: rate_of(by_student[number], weights) for number in names}
    named = len({lesson.lesson_name for lesson in lessons}) > 1
    columns = [
        CourseLesson(lesson, named, rate_of(by_lesson.get(lesson.lesson_id, ()), weights))
        for lesson in lessons
    ]
    average = sum((column.rate for column in columns), NO_RATE)
    title = lessons[-1].lesson_name if lessons else " ".join(course.split())
    return CourseTable(title, columns, sorted(names.items()), cells, rates, weights, average, flags)


@dataclass(frozen=True, slots=True)
class CourseRate:
    """A student's rate in one course, as its teacher's course table shows it."""

    course: str
    teacher_full_name: str
    rate: AttendanceRate
    weights: StatusWeights


async def student_course_rates(
    ctx: ServiceContext,
    *,
    student: UserSessionRedis,
    found: Sequence[tuple[LessonRedis, AttendanceRecordRedis]],
) -> list[CourseRate]:
    """The student's rate in each course of `found` (their records) that has a persisted
    lesson: over all of their records in that course's persisted lessons, with the course's
    weights."""
    courses: dict[tuple[str, str], LessonRedis] = {}
    for lesson, _ in found:
        courses.setdefault(
            (lesson.teacher_school_number, normalize_name(lesson.lesson_name)), lesson
        )
    rates = []
    async with ctx.db() as session:
        weights = await course_settings.get_weights(session=session, courses=list(courses))
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
            course_weights = weights.get((teacher_number, key), DEFAULT_WEIGHTS)
            rate = rate_of((record.status for record in records), course_weights)
            rates.append(
                CourseRate(lessons[-1].lesson_name, example.teacher_full_name, rate, course_weights)
            )
    return rates
