"""Lesson history in SQL: the persistence job's idempotent writes and the history reads.

Writes are `INSERT ... ON CONFLICT` in the order the foreign keys need (users, then the
lesson, then its records), so a lesson written twice, or by two sweepers at once, leaves one
row per lesson and per record. Reads return the same domain models as the live store.
Keyword-only functions over an `AsyncSession`; callers own the transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from attn.db.engine import dialect_insert, insert_into
from attn.db.tables import AuditRow, LessonRow, RecordRow, UserRow
from attn.models import (
    AttendanceRecordRedis,
    AuditEntry,
    Counts,
    LessonRedis,
    LessonStatus,
    RecordStatus,
    SecurityOption,
    normalize_name,
)

_RECORD_UPDATES = (
    "student_full_name",
    "status",
    "attendance_time",
    "changed_by",
    "changed_at",
    "reason",
    "flags",
    "written_at",
)


def _record_row(record: AttendanceRecordRedis, now: datetime) -> dict[str, Any]:
    return {
        "lesson_id": record.lesson_id,
        "student_number": record.student_number,
        "student_full_name": record.student_full_name,
        "status": record.status.value,
        "attendance_time": record.attendance_time,
        "changed_by": record.changed_by,
        "changed_at": record.changed_at,
        "reason": record.reason,
        "flags": ",".join(record.flags),
        "written_at": now,
    }


@functools.cache
def _persist_statements(insert: Any) -> tuple[Any, Any, Any, Any]:
    """The persistence job's upserts, built once per dialect (the job runs them all day)."""
    users = insert(UserRow.__table__).on_conflict_do_nothing(index_elements=["school_number"])
    lesson = insert(LessonRow.__table__)
    lesson = lesson.on_conflict_do_update(
        index_elements=["lesson_id"],
        set_={
            name: lesson.excluded[name]
            for name in ("finished_at", "status", "redis_version", "persisted_at")
        },
        where=LessonRow.__table__.c.redis_version < lesson.excluded.redis_version,
    ).returning(LessonRow.__table__.c.lesson_id)
    records = insert(RecordRow.__table__)
    records = records.on_conflict_do_update(
        index_elements=["lesson_id", "student_number"],
        set_={name: records.excluded[name] for name in _RECORD_UPDATES},
    )
    audit = insert(AuditRow.__table__).on_conflict_do_nothing(index_elements=["lesson_id", "seq"])
    return users, lesson, records, audit


@dataclass(frozen=True)
class LessonWrite:
    """One finished lesson as the persistence job writes it: the live state at `version`."""

    lesson: LessonRedis
    records: Sequence[AttendanceRecordRedis]
    audit: Sequence[AuditEntry] = ()
    version: int = 0


def _lesson_row(write: LessonWrite, now: datetime) -> dict[str, Any]:
    lesson = write.lesson
    return {
        "lesson_id": lesson.lesson_id,
        "lesson_name": lesson.lesson_name,
        "teacher_school_number": lesson.teacher_school_number,
        "teacher_full_name": lesson.teacher_full_name,
        "start_time": lesson.start_time,
        "end_time": lesson.end_time,
        "finished_at": lesson.finished_at or lesson.end_time,
        "status": LessonStatus.FINISHED.value,
        "redis_version": write.version,
        "persisted_at": now,
        "security": ",".join(option.value for option in lesson.security),
        "allowed_subnets": ",".join(lesson.allowed_subnets),
        "late_after_minutes": lesson.late_after_minutes,
        "room": lesson.room,
    }


def _user_rows(writes: Sequence[LessonWrite], now: datetime) -> list[dict[str, Any]]:
    """Every user the lessons reference: teachers, then students first seen in a record."""
    users: dict[str, tuple[str, str]] = {}
    for write in writes:
        users.setdefault(
            write.lesson.teacher_school_number, ("teacher", write.lesson.teacher_full_name)
        )
    for write in writes:
        for record in write.records:
            users.setdefault(record.student_number, ("student", record.student_full_name))
    # In key order, so that two sweepers inserting the same users cannot deadlock.
    return [
        {
            "school_number": number,
            "full_name": name,
            "role": role,
            "password_hash": "",
            "created_at": now,
            "unclaimed": True,
        }
        for number, (role, name) in sorted(users.items())
    ]


async def persist_lessons(
    *, session: AsyncSession, lessons: Sequence[LessonWrite], now: datetime
) -> set[str]:
    """Write finished lessons with their records; the ids of those SQL did not already have.

    Users first (a student first seen in a record is created from the record's full name,
    with no password), then the lessons, then the records and audit entries of the lessons
    written. A lesson row carries the live state's version and is only overwritten by a
    newer one, so a late or repeated write of older state changes nothing. Each statement
    is one executemany over all the lessons (batched by the driver, "insertmanyvalues"),
    so a batch of lessons costs the round trips of one; every lesson in it is still
    written whole or not at all, by the caller's transaction.
    """
    if not lessons:
        return set()
    writes = sorted(lessons, key=lambda write: write.lesson.lesson_id)
    insert_users, upsert_lesson, upsert_records, insert_audit = _persist_statements(
        dialect_insert(session)
    )
    connection = await session.connection()
    await connection.execute(insert_users, _user_rows(writes, now))
    result = await connection.execute(upsert_lesson, [_lesson_row(write, now) for write in writes])
    written = set(result.scalars().all())
    record_rows = [
        _record_row(record, now)
        for write in writes
        if write.lesson.lesson_id in written
        for record in sorted(write.records, key=lambda record: record.student_number)
    ]
    if record_rows:
        await connection.execute(upsert_records, record_rows)
    audit_rows = [
        {"seq": seq, **entry.model_dump(mode="python")}
        for write in writes
        if write.lesson.lesson_id in written
        for seq, entry in enumerate(write.audit, start=1)
    ]
    if audit_rows:
        await connection.execute(insert_audit, audit_rows)
    return written


async def persist_lesson(
    *,
    session: AsyncSession,
    lesson: LessonRedis,
    records: Sequence[AttendanceRecordRedis],
    audit: Sequence[AuditEntry] = (),
    version: int,
    now: datetime,
) -> bool:
    """Write one finished lesson with its records; False when SQL already has this state."""
    write = LessonWrite(lesson=lesson, records=records, audit=audit, version=version)
    return bool(await persist_lessons(session=session, lessons=[write], now=now))


async def lesson_counts(*, session: AsyncSession, lesson_ids: Sequence[str]) -> dict[str, Counts]:
    """The records of these lessons counted by status: one grouped query."""
    if not lesson_ids:
        return {}
    rows = await session.execute(
        select(RecordRow.lesson_id, RecordRow.status, func.count())
        .where(RecordRow.lesson_id.in_(list(lesson_ids)))
        .group_by(RecordRow.lesson_id, RecordRow.status)
    )
    tallies: dict[str, dict[str, int]] = {lesson_id: {} for lesson_id in lesson_ids}
    for lesson_id, status, count in rows:
        tallies[lesson_id][status] = int(count)
    return {lesson_id: Counts(**tally) for lesson_id, tally in tallies.items()}


async def _counted(session: AsyncSession, rows: Sequence[LessonRow]) -> list[LessonRedis]:
    """The lessons of these rows, each with its counts."""
    counts = await lesson_counts(session=session, lesson_ids=[row.lesson_id for row in rows])
    return [_lesson_model(row, counts[row.lesson_id]) for row in rows]


def _lesson_model(row: LessonRow, counts: Counts | None = None) -> LessonRedis:
    return LessonRedis(
        lesson_id=row.lesson_id,
        lesson_name=row.lesson_name,
        teacher_school_number=row.teacher_school_number,
        teacher_full_name=row.teacher_full_name,
        start_time=row.start_time,
        end_time=row.end_time,
        status=LessonStatus(row.status),
        finished_at=row.finished_at,
        counts=counts or Counts(),
        security=tuple(SecurityOption(item) for item in row.security.split(",") if item),
        allowed_subnets=tuple(item for item in row.allowed_subnets.split(",") if item),
        late_after_minutes=row.late_after_minutes,
        room=row.room,
    )


def _record_model(row: RecordRow) -> AttendanceRecordRedis:
    return AttendanceRecordRedis(
        lesson_id=row.lesson_id,
        student_number=row.student_number,
        student_full_name=row.student_full_name,
        status=RecordStatus(row.status),
        attendance_time=row.attendance_time,
        reason=row.reason,
        flags=tuple(item for item in row.flags.split(",") if item),
        changed_by=row.changed_by,
        changed_at=row.changed_at,
    )


async def get_lesson(*, session: AsyncSession, lesson_id: str) -> LessonRedis | None:
    row = await session.get(LessonRow, lesson_id)
    return None if row is None else (await _counted(session, [row]))[0]


async def list_teacher_lessons(
    *, session: AsyncSession, teacher_school_number: str, limit: int, exclude: Sequence[str]
) -> list[LessonRedis]:
    """The teacher's persisted lessons, newest first, without the `exclude` ids."""
    query = (
        select(LessonRow)
        .where(LessonRow.teacher_school_number == teacher_school_number)
        .order_by(LessonRow.start_time.desc(), LessonRow.lesson_id)
        .limit(limit)
    )
    if exclude:
        query = query.where(LessonRow.lesson_id.not_in(list(exclude)))
    return await _counted(session, list(await session.scalars(query)))


async def get_records(*, session: AsyncSession, lesson_id: str) -> list[AttendanceRecordRedis]:
    """A persisted lesson's roll, ordered by attendance time (records with none last)."""
    rows = await session.scalars(
        select(RecordRow)
        .where(RecordRow.lesson_id == lesson_id)
        .order_by(
            RecordRow.attendance_time.is_(None),
            RecordRow.attendance_time,
            RecordRow.student_number,
        )
    )
    return [_record_model(row) for row in rows]


async def get_record(
    *, session: AsyncSession, lesson_id: str, student_number: str
) -> AttendanceRecordRedis | None:
    row = await session.get(RecordRow, (lesson_id, student_number))
    return None if row is None else _record_model(row)


async def list_student_records(
    *, session: AsyncSession, student_number: str, limit: int, exclude: Sequence[str]
) -> list[tuple[LessonRedis, AttendanceRecordRedis]]:
    """The student's persisted records with their lessons, newest lesson first."""
    query = (
        select(RecordRow, LessonRow)
        .join(LessonRow, LessonRow.lesson_id == RecordRow.lesson_id)
        .where(RecordRow.student_number == student_number)
        .order_by(LessonRow.start_time.desc(), LessonRow.lesson_id)
        .limit(limit)
    )
    if exclude:
        query = query.where(RecordRow.lesson_id.not_in(list(exclude)))
    return [
        (_lesson_model(lesson), _record_model(record))
        for record, lesson in await session.execute(query)
    ]


async def get_audit(*, session: AsyncSession, lesson_id: str) -> list[AuditEntry]:
    """A persisted lesson's audit trail, oldest first."""
    rows = await session.scalars(
        select(AuditRow).where(AuditRow.lesson_id == lesson_id).order_by(AuditRow.seq)
    )
    return [
        AuditEntry(
            lesson_id=row.lesson_id,
            student_number=row.student_number,
            changed_by=row.changed_by,
            source=row.source,
            changed_at=row.changed_at,
            old_status=None if row.old_status is None else RecordStatus(row.old_status),
            new_status=RecordStatus(row.new_status),
            reason=row.reason,
        )
        for row in rows
    ]


async def lock_lesson(*, session: AsyncSession, lesson_id: str) -> bool:
    """Lock a persisted lesson for a change of its records; False when there is none.

    A no-op UPDATE rather than SELECT ... FOR UPDATE: it takes the row lock on PostgreSQL and
    the database's write lock on SQLite (which ignores FOR UPDATE and starts its transaction
    only at the first write), so concurrent corrections of one lesson run one after another.
    """
    result = await session.execute(
        update(LessonRow)
        .where(LessonRow.lesson_id == lesson_id)
        .values(lesson_id=LessonRow.lesson_id)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def ensure_student(
    *, session: AsyncSession, school_number: str, full_name: str, now: datetime
) -> None:
    """Create a student account without a password, unless the school number exists."""
    statement = insert_into(session, UserRow).values(
        school_number=school_number,
        full_name=full_name,
        role="student",
        password_hash="",
        created_at=now,
        unclaimed=True,
    )
    await session.execute(statement.on_conflict_do_nothing(index_elements=["school_number"]))


async def write_record(
    *,
    session: AsyncSession,
    record: AttendanceRecordRedis,
    audit: AuditEntry,
    now: datetime,
) -> None:
    """Insert or replace one record of a persisted (locked) lesson, appending its audit entry."""
    _, _, upsert_records, _ = _persist_statements(dialect_insert(session))
    await session.execute(upsert_records, [_record_row(record, now)])
    last = await session.scalar(
        select(func.max(AuditRow.seq)).where(AuditRow.lesson_id == record.lesson_id)
    )
    await session.execute(
        insert_into(session, AuditRow).values(
            {"seq": int(last or 0) + 1, **audit.model_dump(mode="python")}
        )
    )


async def teacher_lessons_named(
    *, session: AsyncSession, teacher_school_number: str, course_key: str
) -> list[LessonRedis]:
    """The teacher's persisted lessons of one course (lesson name, normalised), oldest first."""
    rows = await session.scalars(
        select(LessonRow)
        .where(LessonRow.teacher_school_number == teacher_school_number)
        .order_by(LessonRow.start_time, LessonRow.lesson_id)
    )
    named = [row for row in rows if normalize_name(row.lesson_name) == course_key]
    return await _counted(session, named)


async def records_of_lessons(
    *, session: AsyncSession, lesson_ids: Sequence[str], student_number: str | None = None
) -> list[AttendanceRecordRedis]:
    """The records of these lessons (of one student only, when given)."""
    if not lesson_ids:
        return []
    query = select(RecordRow).where(RecordRow.lesson_id.in_(list(lesson_ids)))
    if student_number is not None:
        query = query.where(RecordRow.student_number == student_number)
    return [_record_model(row) for row in await session.scalars(query)]
