"""A teacher's lessons: start one with its security options, show its code, finish it, read
it, its roll and its audit trail, and correct records, live or persisted."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta

from pydantic import TypeAdapter, ValidationError

from attn.db import history, rosters, users
from attn.errors import (
    CodeNotEnabled,
    InvalidRoster,
    LessonAlreadyActive,
    LessonNotActive,
    LessonNotFound,
    NetworkUnknown,
    ReasonRequired,
    RecordChanged,
    RecordExists,
    RecordNotFound,
    RosterNotFound,
    StatusNotAllowed,
    StudentNotFound,
    VerificationUnavailable,
)
from attn.models import (
    AttendanceRecordRedis,
    AuditEntry,
    CodeOut,
    DisplayName,
    LessonRedis,
    LessonStatus,
    RecordOut,
    RecordStatus,
    RosterOut,
    RosterStudent,
    RosterSummary,
    SecurityOption,
    UserSessionRedis,
    normalize_name,
    to_ms,
)
from attn.services import codes
from attn.services.context import ServiceContext
from attn.services.network import IPAddress, default_subnet
from attn.store import keys
from attn.store.redis_client import FinishOutcome, UpdateOutcome

# How long a claim on a teacher's active-lesson slot may exist before its lesson does. A
# start claims the slot and then saves the lesson; a claim older than this whose lesson is
# missing was left by a process that died in between, and may be replaced.
CLAIM_GRACE_MS = 10_000
_CLAIM_ATTEMPTS = 3


async def start_attendance(
    ctx: ServiceContext,
    *,
    teacher: UserSessionRedis,
    lesson_name: str,
    duration_minutes: int,
    late_after_minutes: int | None = None,
    security: Sequence[SecurityOption] = (),
    allowed_subnets: Sequence[str] = (),
    teacher_address: IPAddress | None = None,
) -> LessonRedis:
    """Open a lesson for attendance; a teacher has at most one active lesson.

    With the `network` option and no subnets listed, check-ins must come from the teacher's
    own /24 (IPv4) or /64 (IPv6). The course's roster, as it is now, goes with the lesson.
    """
    now = ctx.now()
    subnets = list(allowed_subnets)
    if SecurityOption.NETWORK in security and not subnets:
        if teacher_address is None:
            raise NetworkUnknown
        subnets = [default_subnet(teacher_address)]
    if SecurityOption.VERIFICATION in security and not ctx.settings.VERIFIER_URL:
        raise VerificationUnavailable
    lesson = LessonRedis(
        lesson_id=keys.new_lesson_id(lesson_name, teacher.full_name),
        lesson_name=lesson_name,
        teacher_school_number=teacher.school_number,
        teacher_full_name=teacher.full_name,
        start_time=now,
        end_time=now + timedelta(minutes=duration_minutes),
        status=LessonStatus.ACTIVE,
        security=tuple(security),
        allowed_subnets=tuple(subnets),
        late_after_minutes=late_after_minutes,
    )
    async with ctx.db() as session:
        roster = await rosters.roster_names(
            session=session,
            teacher_school_number=teacher.school_number,
            course_key=normalize_name(lesson_name),
        )
    claim = f"{lesson.lesson_id}|{to_ms(now)}"
    stale = ""
    for _ in range(_CLAIM_ATTEMPTS):
        current = await ctx.redis_client.claim_teacher_lesson(lesson, claim=claim, replace=stale)
        if current is None:
            break
        current_id, _, claimed_ms = current.partition("|")
        existing = await ctx.redis_client.get_lesson(current_id)
        if existing is not None and existing.is_active(now):
            raise LessonAlreadyActive
        if existing is None and to_ms(now) - int(claimed_ms or 0) < CLAIM_GRACE_MS:
            raise LessonAlreadyActive  # another start is between its claim and its save
        stale = current
    else:
        raise LessonAlreadyActive
    await ctx.redis_client.save_lesson(lesson, roster=roster)
    return lesson


def _check_owner(lesson: LessonRedis | None, teacher: UserSessionRedis) -> LessonRedis:
    if lesson is None or lesson.teacher_school_number != teacher.school_number:
        raise LessonNotFound
    return lesson


async def _persisted_lesson(ctx: ServiceContext, lesson_id: str) -> LessonRedis | None:
    async with ctx.db() as session:
        return await history.get_lesson(session=session, lesson_id=lesson_id)


async def _own_lesson(
    ctx: ServiceContext, teacher: UserSessionRedis, lesson_id: str
) -> LessonRedis:
    """The teacher's lesson, live or persisted. Redis is read first: the sweep commits to
    SQL before it deletes from Redis, so a lesson missing there is already in SQL."""
    if not keys.is_lesson_id(lesson_id):
        raise LessonNotFound
    lesson = await ctx.redis_client.get_lesson(lesson_id)
    if lesson is None:
        lesson = await _persisted_lesson(ctx, lesson_id)
    return _check_owner(lesson, teacher)


async def finish_attendance(
    ctx: ServiceContext, *, teacher: UserSessionRedis, lesson_id: str
) -> LessonRedis:
    """Finish the teacher's active lesson: no new joins, no longer discoverable."""
    if not keys.is_lesson_id(lesson_id):
        raise LessonNotFound
    now = ctx.now()
    outcome, lesson = await ctx.redis_client.delete_lesson(
        lesson_id, teacher_school_number=teacher.school_number, now=now
    )
    if outcome is FinishOutcome.NOT_FOUND:
        _check_owner(await _persisted_lesson(ctx, lesson_id), teacher)
        raise LessonNotActive  # the teacher's lesson, already persisted
    if outcome is FinishOutcome.NOT_ACTIVE:
        raise LessonNotActive
    assert lesson is not None
    await ctx.redis_client.release_teacher_lesson(teacher.school_number, lesson_id, due=now)
    return lesson


async def get_lesson(
    ctx: ServiceContext, *, teacher: UserSessionRedis, lesson_id: str
) -> LessonRedis:
    return await _own_lesson(ctx, teacher, lesson_id)


async def list_lessons(
    ctx: ServiceContext, *, teacher: UserSessionRedis, limit: int, offset: int
) -> list[LessonRedis]:
    """The teacher's lessons: active ones first, then finished ones, newest first.

    Live lessons come from Redis, persisted ones from SQL, read in that order so that a
    lesson the sweep moves meanwhile is seen at least once; one seen twice is listed once.
    """
    now = ctx.now()
    ids = await ctx.redis_client.teacher_lesson_ids(teacher.school_number)
    live = await ctx.redis_client.get_lessons(ids)
    await _forget_vanished(ctx, teacher, ids, live, now)
    async with ctx.db() as session:
        persisted = await history.list_teacher_lessons(
            session=session,
            teacher_school_number=teacher.school_number,
            limit=offset + limit,
            exclude=[lesson.lesson_id for lesson in live],
        )
    lessons = live + persisted
    lessons.sort(
        key=lambda lesson: (not lesson.is_active(now), -to_ms(lesson.start_time), lesson.lesson_id)
    )
    return lessons[offset : offset + limit]


async def _forget_vanished(
    ctx: ServiceContext,
    teacher: UserSessionRedis,
    ids: list[str],
    live: list[LessonRedis],
    now: datetime,
) -> None:
    """Drop list entries whose lesson left Redis (a sweep that died before unlisting it).

    Only entries older than a start's claim-to-save window: a younger one may belong to a
    start that has claimed its slot but not saved its lesson yet.
    """
    present = {lesson.lesson_id for lesson in live}
    missing = [lesson_id for lesson_id in ids if lesson_id not in present]
    if missing:
        scores = await ctx.redis_client.teacher_lesson_scores(teacher.school_number, missing)
        stale = [
            lesson_id
            for lesson_id, score in zip(missing, scores, strict=True)
            if score is not None and to_ms(now) - score > CLAIM_GRACE_MS
        ]
        await ctx.redis_client.forget_teacher_lessons(teacher.school_number, stale)


async def get_roll(
    ctx: ServiceContext, *, teacher: UserSessionRedis, lesson_id: str
) -> list[AttendanceRecordRedis]:
    """Every record of the teacher's lesson, ordered by attendance time, live or persisted."""
    if not keys.is_lesson_id(lesson_id):
        raise LessonNotFound
    snapshot = await ctx.redis_client.read_lesson_snapshot(lesson_id)
    if snapshot is not None:
        _check_owner(snapshot.lesson, teacher)
        return snapshot.records
    _check_owner(await _persisted_lesson(ctx, lesson_id), teacher)
    async with ctx.db() as session:
        return await history.get_records(session=session, lesson_id=lesson_id)


@contextlib.asynccontextmanager
async def watch_roll(
    ctx: ServiceContext, *, teacher: UserSessionRedis, lesson_id: str
) -> AsyncIterator[asyncio.Queue[str]]:
    """The teacher's lesson's new and changed records (JSON), as they happen."""
    await _own_lesson(ctx, teacher, lesson_id)
    async with ctx.redis_client.feed.listen(lesson_id) as queue:
        yield queue


_RECORDS = TypeAdapter(list[RecordOut])


async def get_roll_json(
    ctx: ServiceContext, *, teacher: UserSessionRedis, lesson_id: str, page: slice | None = None
) -> bytes:
    """The roll (or the `page` of it) as the API's JSON array; a live roll is assembled from
    the stored records without parsing them (it is read on every update a teacher's screen
    gets)."""
    if not keys.is_lesson_id(lesson_id):
        raise LessonNotFound
    owner, raw_records = await ctx.redis_client.read_roll_json(lesson_id)
    if owner is not None:
        if owner != teacher.school_number:
            raise LessonNotFound
        if page is not None:
            raw_records = raw_records[page]
        return ("[" + ",".join(raw_records) + "]").encode()
    records = await get_roll(ctx, teacher=teacher, lesson_id=lesson_id)
    if page is not None:
        records = records[page]
    return _RECORDS.dump_json([RecordOut.of(record) for record in records])


async def get_code(
    ctx: ServiceContext, *, teacher: UserSessionRedis, lesson_id: str, base_url: str
) -> CodeOut:
    """The lesson's current check-in code, how long it lasts, and the link its QR carries."""
    lesson = await _own_lesson(ctx, teacher, lesson_id)
    if SecurityOption.CODE not in lesson.security:
        raise CodeNotEnabled
    now = ctx.now()
    if not lesson.is_active(now):
        raise LessonNotActive
    rotation = ctx.settings.CODE_ROTATION_SECONDS
    code, seconds_left = codes.current_code(ctx.secret_key, lesson_id, now, rotation)
    base = (ctx.settings.PUBLIC_URL or base_url).rstrip("/")
    return CodeOut(
        code=code,
        valid_for_seconds=seconds_left,
        rotation_seconds=rotation,
        join_url=f"{base}/join/{lesson_id}?code={code}",
    )


async def get_audit(
    ctx: ServiceContext, *, teacher: UserSessionRedis, lesson_id: str
) -> list[AuditEntry]:
    """Every change of the lesson's records, oldest first."""
    await _own_lesson(ctx, teacher, lesson_id)
    snapshot = await ctx.redis_client.read_lesson_snapshot(lesson_id)
    if snapshot is not None:
        return snapshot.audit
    async with ctx.db() as session:
        return await history.get_audit(session=session, lesson_id=lesson_id)


_TEACHER_STATUSES = {
    RecordStatus.PRESENT,
    RecordStatus.LATE,
    RecordStatus.REJECTED,
    RecordStatus.EXCUSED,
    RecordStatus.ABSENT,
}
_ATTEMPTS = 5


def _decide(
    teacher: UserSessionRedis,
    current: AttendanceRecordRedis,
    status: RecordStatus,
    reason: str | None,
    now: datetime,
) -> tuple[AttendanceRecordRedis, AuditEntry]:
    decided = current.model_copy(
        update={
            "status": status,
            "reason": reason,
            "changed_by": teacher.school_number,
            "changed_at": now,
        }
    )
    audit = AuditEntry(
        lesson_id=current.lesson_id,
        student_number=current.student_number,
        changed_by=teacher.school_number,
        source="teacher",
        changed_at=now,
        old_status=current.status,
        new_status=status,
        reason=reason,
    )
    return decided, audit


def _check_decision(status: RecordStatus, reason: str | None) -> None:
    if status not in _TEACHER_STATUSES:
        raise StatusNotAllowed
    if status is RecordStatus.REJECTED and not reason:
        raise ReasonRequired


async def correct_record(
    ctx: ServiceContext,
    *,
    teacher: UserSessionRedis,
    lesson_id: str,
    student_number: str,
    status: RecordStatus,
    reason: str | None,
) -> AttendanceRecordRedis:
    """Set a record's status by hand (accept, reject with a reason, excuse...), live or
    persisted, with an audit entry. No automatic result overrides it afterwards."""
    _check_decision(status, reason)
    await _own_lesson(ctx, teacher, lesson_id)
    for _ in range(_ATTEMPTS):
        now = ctx.now()
        live, raw = await ctx.redis_client.get_raw_record(lesson_id, student_number)
        if live:
            if raw is None:
                raise RecordNotFound("The student has no record in this lesson.")
            current = AttendanceRecordRedis.model_validate_json(raw)
            decided, audit = _decide(teacher, current, status, reason, now)
            outcome = await ctx.redis_client.update_record(
                lesson_id, student_number, expected=raw, new=decided.model_dump_json(), audit=audit
            )
            if outcome is UpdateOutcome.OK:
                return decided
            continue  # changed meanwhile, or persisted meanwhile: read again
        async with ctx.db() as session, session.begin():
            if not await history.lock_lesson(session=session, lesson_id=lesson_id):
                raise LessonNotFound
            persisted = await history.get_record(
                session=session, lesson_id=lesson_id, student_number=student_number
            )
            if persisted is None:
                raise RecordNotFound("The student has no record in this lesson.")
            decided, audit = _decide(teacher, persisted, status, reason, now)
            await history.write_record(session=session, record=decided, audit=audit, now=now)
            return decided
    raise RecordChanged


async def _student_name(ctx: ServiceContext, lesson: LessonRedis, student_number: str) -> str:
    """The full name of a student the teacher adds: from the accounts, else the roster."""
    async with ctx.db() as session:
        user = await users.get_user(session=session, school_number=student_number)
        if user is not None:
            if user.role != "student":
                raise StudentNotFound
            return user.full_name
        roster = await rosters.roster_names(
            session=session,
            teacher_school_number=lesson.teacher_school_number,
            course_key=normalize_name(lesson.lesson_name),
        )
    name = roster.get(student_number) or await ctx.redis_client.get_roster_name(
        lesson.lesson_id, student_number
    )
    if name is None:
        raise StudentNotFound
    return name


async def add_record(
    ctx: ServiceContext,
    *,
    teacher: UserSessionRedis,
    lesson_id: str,
    student_number: str,
    status: RecordStatus,
    reason: str | None,
) -> AttendanceRecordRedis:
    """Add a student who could not check in, live or persisted, with an audit entry."""
    _check_decision(status, reason)
    lesson = await _own_lesson(ctx, teacher, lesson_id)
    full_name = await _student_name(ctx, lesson, student_number)
    for _ in range(_ATTEMPTS):
        now = ctx.now()
        blank = AttendanceRecordRedis(
            lesson_id=lesson_id,
            student_number=student_number,
            student_full_name=full_name,
            status=status,
            attendance_time=now,
        )
        added, audit = _decide(teacher, blank, status, reason, now)
        audit = audit.model_copy(update={"old_status": None})
        live, raw = await ctx.redis_client.get_raw_record(lesson_id, student_number)
        if live:
            if raw is not None:
                raise RecordExists
            await ctx.redis_client.list_student_lesson(student_number, lesson_id, now)
            outcome = await ctx.redis_client.update_record(
                lesson_id, student_number, expected="", new=added.model_dump_json(), audit=audit
            )
            if outcome is UpdateOutcome.OK:
                return added
            continue
        async with ctx.db() as session, session.begin():
            if not await history.lock_lesson(session=session, lesson_id=lesson_id):
                raise LessonNotFound
            if await history.get_record(
                session=session, lesson_id=lesson_id, student_number=student_number
            ):
                raise RecordExists
            await history.ensure_student(
                session=session, school_number=student_number, full_name=full_name, now=now
            )
            await history.write_record(session=session, record=added, audit=audit, now=now)
            return added
    raise RecordChanged


# --- rosters -------------------------------------------------------------------------------

ROSTER_HEADER = ["school_number", "full_name"]
MAX_ROSTER = 5000


def parse_roster(text: str) -> list[RosterStudent]:
    """A roster CSV (`school_number,full_name`); every row valid, or InvalidRoster."""
    try:
        return _parse_roster(text)
    except csv.Error as exc:
        raise InvalidRoster(f"The roster is not valid CSV: {exc}.") from None


def _course_name(course: str) -> str:
    try:
        return _COURSE.validate_python(course)
    except ValidationError:
        raise InvalidRoster("The course must be a lesson name: 1-200 visible characters.") from None


_COURSE: TypeAdapter[str] = TypeAdapter(DisplayName)


def _parse_roster(text: str) -> list[RosterStudent]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None or [column.strip() for column in header] != ROSTER_HEADER:
        raise InvalidRoster("The first line must be the header school_number,full_name.")
    students: dict[str, RosterStudent] = {}
    for line_number, row in enumerate(reader, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != 2:
            raise InvalidRoster(f"Line {line_number}: expected 2 columns.")
        try:
            student = RosterStudent.model_validate(
                {"school_number": row[0].strip(), "full_name": row[1]}
            )
        except ValidationError as exc:
            field = ".".join(str(part) for part in exc.errors()[0]["loc"])
            raise InvalidRoster(f"Line {line_number}: {field}: {exc.errors()[0]['msg']}") from None
        if student.school_number in students:
            raise InvalidRoster(f"Line {line_number}: {student.school_number} appears twice.")
        students[student.school_number] = student
        if len(students) > MAX_ROSTER:
            raise InvalidRoster(f"A roster holds at most {MAX_ROSTER} students.")
    return list(students.values())


async def put_roster(
    ctx: ServiceContext, *, teacher: UserSessionRedis, course: str, csv_text: str
) -> RosterOut:
    """Replace the course's roster; lessons started from now on use it."""
    course_name = _course_name(course)
    students = parse_roster(csv_text)
    now = ctx.now()
    async with ctx.db() as session, session.begin():
        await rosters.replace_roster(
            session=session,
            teacher_school_number=teacher.school_number,
            course_key=normalize_name(course_name),
            course_name=course_name,
            students=students,
            now=now,
        )
    return RosterOut(course=course_name, students=students, updated_at=now)


async def get_roster(ctx: ServiceContext, *, teacher: UserSessionRedis, course: str) -> RosterOut:
    async with ctx.db() as session:
        roster = await rosters.get_roster(
            session=session,
            teacher_school_number=teacher.school_number,
            course_key=normalize_name(course),
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
            course_key=normalize_name(course),
        )
    if not deleted:
        raise RosterNotFound
