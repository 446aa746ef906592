"""A teacher's lessons: start one with its security options, show its code, finish it, read
it, its roll and its audit trail, and correct records, live or persisted. Rosters are in
`rosters`, the rules of counting attendance in `attendance`."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from attn.db import history, rosters, users
from attn.errors import (
    AmbiguousStudent,
    CodeNotEnabled,
    LessonAlreadyActive,
    LessonNotActive,
    LessonNotFound,
    NetworkUnknown,
    ReasonRequired,
    RecordChanged,
    RecordExists,
    RecordNotFound,
    StatusNotAllowed,
    StudentNotFound,
    VerificationUnavailable,
)
from attn.models import (
    AttendanceRecordRedis,
    AuditEntry,
    CheckInCode,
    LessonRedis,
    LessonStatus,
    RecordStatus,
    RosterStudent,
    SecurityOption,
    UserSessionRedis,
    fold_name,
    normalize_name,
    to_ms,
)
from attn.services import codes
from attn.services.context import ServiceContext
from attn.services.network import IPAddress, default_subnet
from attn.store import formats, keys
from attn.store.redis_client import ClaimOutcome, FinishOutcome, UpdateOutcome

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
    room: str | None = None,
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
        room=room,
    )
    async with ctx.db() as session:
        roster = await rosters.roster_names(
            session=session,
            teacher_school_number=teacher.school_number,
            course_key=normalize_name(lesson_name),
        )
    claim = formats.claim_value(lesson.lesson_id, now)
    stale = ""
    for _ in range(_CLAIM_ATTEMPTS):
        reply = await ctx.redis_client.claim_teacher_lesson(lesson, claim=claim, replace=stale)
        if reply.outcome is ClaimOutcome.CLAIMED:
            break
        current_id, claimed_ms = formats.parse_claim(reply.data)
        existing = await ctx.redis_client.get_lesson(current_id)
        if existing is not None and existing.is_active(now):
            raise LessonAlreadyActive
        if existing is None and to_ms(now) - claimed_ms < CLAIM_GRACE_MS:
            raise LessonAlreadyActive  # another start is between its claim and its save
        stale = reply.data
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
    reply = await ctx.redis_client.delete_lesson(
        lesson_id, teacher_school_number=teacher.school_number, now=now
    )
    if reply.outcome is FinishOutcome.NOT_FOUND:
        _check_owner(await _persisted_lesson(ctx, lesson_id), teacher)
        raise LessonNotActive  # the teacher's lesson, already persisted
    lesson = reply.data
    if reply.outcome is FinishOutcome.NOT_ACTIVE or lesson is None:
        raise LessonNotActive
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
        return formats.stored_records_json(raw_records)
    records = await get_roll(ctx, teacher=teacher, lesson_id=lesson_id)
    if page is not None:
        records = records[page]
    return formats.records_json(records)


async def get_code(
    ctx: ServiceContext, *, teacher: UserSessionRedis, lesson_id: str
) -> CheckInCode:
    """The lesson's current check-in code, how long it lasts, and the link its QR carries
    (on the configured public URL: a request's Host header never makes a link)."""
    return lesson_code(ctx, await _own_lesson(ctx, teacher, lesson_id))


def lesson_code(ctx: ServiceContext, lesson: LessonRedis) -> CheckInCode:
    """The current check-in code of a lesson already authorised (see `get_code`)."""
    if SecurityOption.CODE not in lesson.security:
        raise CodeNotEnabled
    lesson_id = lesson.lesson_id
    now = ctx.now()
    if not lesson.is_active(now):
        raise LessonNotActive
    rotation = ctx.settings.CODE_ROTATION_SECONDS
    code, seconds_left = codes.current_code(ctx.secret_key, lesson_id, now, rotation)
    return CheckInCode(
        code=code,
        valid_for_seconds=seconds_left,
        rotation_seconds=rotation,
        join_url=f"{ctx.settings.public_url}/join/{lesson_id}?code={code}",
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


# A change of one record: from the record as it is (None when there is none) and the time,
# the record it becomes and the audit entry that says so; raises when the change is refused.
RecordChange = Callable[
    [AttendanceRecordRedis | None, datetime], tuple[AttendanceRecordRedis, AuditEntry]
]


async def _change_record(
    ctx: ServiceContext, *, lesson_id: str, student_number: str, change: RecordChange
) -> AttendanceRecordRedis:
    """Apply `change` to one record where the lesson is: live (compare-and-set in Redis, read
    again when the record changed meanwhile or the lesson was persisted meanwhile) or
    persisted (one SQL transaction holding the lesson's lock)."""
    for _ in range(_ATTEMPTS):
        now = ctx.now()
        live, raw = await ctx.redis_client.get_raw_record(lesson_id, student_number)
        if live:
            current = None if raw is None else formats.parse_record(raw)
            new, audit = change(current, now)
            if current is None:
                await ctx.redis_client.list_student_lesson(student_number, lesson_id, now)
            reply = await ctx.redis_client.update_record(
                lesson_id,
                student_number,
                expected=raw or "",
                new=formats.record_json(new),
                audit=audit,
            )
            if reply.outcome is UpdateOutcome.OK:
                return new
            continue
        async with ctx.db() as session, session.begin():
            if not await history.lock_lesson(session=session, lesson_id=lesson_id):
                raise LessonNotFound
            current = await history.get_record(
                session=session, lesson_id=lesson_id, student_number=student_number
            )
            new, audit = change(current, now)
            if current is None:
                await history.ensure_student(
                    session=session,
                    school_number=student_number,
                    full_name=new.student_full_name,
                    now=now,
                )
            await history.write_record(session=session, record=new, audit=audit, now=now)
            return new
    raise RecordChanged


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

    def change(
        current: AttendanceRecordRedis | None, now: datetime
    ) -> tuple[AttendanceRecordRedis, AuditEntry]:
        if current is None:
            raise RecordNotFound("The student has no record in this lesson.")
        return _decide(teacher, current, status, reason, now)

    return await _change_record(
        ctx, lesson_id=lesson_id, student_number=student_number, change=change
    )


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

    def change(
        current: AttendanceRecordRedis | None, now: datetime
    ) -> tuple[AttendanceRecordRedis, AuditEntry]:
        if current is not None:
            raise RecordExists
        blank = AttendanceRecordRedis(
            lesson_id=lesson_id,
            student_number=student_number,
            student_full_name=full_name,
            status=status,
            attendance_time=now,
        )
        added, audit = _decide(teacher, blank, status, reason, now)
        return added, audit.model_copy(update={"old_status": None})

    return await _change_record(
        ctx, lesson_id=lesson_id, student_number=student_number, change=change
    )


def accepted_status(lesson: LessonRedis, record: AttendanceRecordRedis) -> RecordStatus:
    """What "accept" makes of a record: a late record stays late, and any other becomes what
    its check-in earned by the clock, the rule of a join: late when it came more than
    `late_after_minutes` after the start, else present."""
    if record.status is RecordStatus.LATE:
        return RecordStatus.LATE
    if lesson.late_after_minutes is not None and record.attendance_time is not None:
        waited_ms = to_ms(record.attendance_time) - to_ms(lesson.start_time)
        if waited_ms > lesson.late_after_minutes * 60_000:
            return RecordStatus.LATE
    return RecordStatus.PRESENT


async def accept_record(
    ctx: ServiceContext, *, teacher: UserSessionRedis, lesson_id: str, student_number: str
) -> AttendanceRecordRedis:
    """Confirm a record by hand with the status `accepted_status` gives it (decided against
    the record as it is when written), live or persisted, with an audit entry."""
    lesson = await _own_lesson(ctx, teacher, lesson_id)

    def change(
        current: AttendanceRecordRedis | None, now: datetime
    ) -> tuple[AttendanceRecordRedis, AuditEntry]:
        if current is None:
            raise RecordNotFound("The student has no record in this lesson.")
        return _decide(teacher, current, accepted_status(lesson, current), None, now)

    return await _change_record(
        ctx, lesson_id=lesson_id, student_number=student_number, change=change
    )


# The source of a change list entry that is a student's own check-in (not in the audit).
CHECK_IN = "student"


@dataclass(frozen=True, slots=True)
class RollChange:
    """One line of a roll's change list: a check-in or an audited change, with the name."""

    at: datetime | None
    student_number: str
    student_name: str
    old_status: RecordStatus | None
    new_status: RecordStatus
    source: str  # CHECK_IN, "teacher", "verifier" or "system"
    changed_by: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class RollView:
    """What the roll page shows of a lesson: its records, the roster students who have not
    checked in yet (while the lesson is in Redis), the roster to pick a student to add from,
    and the change list, newest first."""

    lesson: LessonRedis
    records: list[AttendanceRecordRedis]
    roster: dict[str, str]
    not_yet: list[RosterStudent] | None  # None once persisted: they were marked absent
    changes: list[RollChange]


def not_checked_in(
    roster: Mapping[str, str], records: Sequence[AttendanceRecordRedis]
) -> list[RosterStudent]:
    """The roster students without a record, by name."""
    have = {record.student_number for record in records}
    missing = [
        RosterStudent.model_construct(school_number=number, full_name=name)
        for number, name in roster.items()
        if number not in have
    ]
    missing.sort(key=lambda student: (normalize_name(student.full_name), student.school_number))
    return missing


def change_list(
    records: Sequence[AttendanceRecordRedis],
    audit: Sequence[AuditEntry],
    names: Mapping[str, str],
) -> list[RollChange]:
    """The roll's changes, newest first: every audit entry, and each record's own check-in
    (which the audit does not hold: the join stays one write), "—" → the status the join
    gave it (the first audited change's old status, else the record's status)."""
    created = {entry.student_number for entry in audit if entry.old_status is None}
    joined_as: dict[str, RecordStatus | None] = {}
    for entry in audit:
        joined_as.setdefault(entry.student_number, entry.old_status)
    numbered: list[tuple[int, RollChange]] = []
    for record in records:
        if record.student_number in created or record.attendance_time is None:
            continue
        status = joined_as.get(record.student_number) or record.status
        numbered.append(
            (
                0,
                RollChange(
                    at=record.attendance_time,
                    student_number=record.student_number,
                    student_name=record.student_full_name,
                    old_status=None,
                    new_status=status,
                    source=CHECK_IN,
                    changed_by=None,
                    reason=None,
                ),
            )
        )
    for index, entry in enumerate(audit, start=1):
        numbered.append(
            (
                index,
                RollChange(
                    at=entry.changed_at,
                    student_number=entry.student_number,
                    student_name=names.get(entry.student_number, entry.student_number),
                    old_status=entry.old_status,
                    new_status=entry.new_status,
                    source=entry.source,
                    changed_by=entry.changed_by,
                    reason=entry.reason,
                ),
            )
        )
    numbered.sort(key=lambda item: (item[1].at is None, item[1].at, item[0]))
    return [change for _, change in reversed(numbered)]


async def read_roll(ctx: ServiceContext, *, teacher: UserSessionRedis, lesson_id: str) -> RollView:
    """The teacher's lesson as its roll page shows it, live (one Redis read of the lesson's
    whole state) or persisted."""
    if not keys.is_lesson_id(lesson_id):
        raise LessonNotFound
    snapshot = await ctx.redis_client.read_lesson_snapshot(lesson_id)
    if snapshot is not None:
        lesson = _check_owner(snapshot.lesson, teacher)
        records, audit, roster = snapshot.records, snapshot.audit, dict(snapshot.roster)
        not_yet = not_checked_in(roster, records)
    else:
        lesson = _check_owner(await _persisted_lesson(ctx, lesson_id), teacher)
        async with ctx.db() as session:
            records = await history.get_records(session=session, lesson_id=lesson_id)
            audit = await history.get_audit(session=session, lesson_id=lesson_id)
            roster = await rosters.roster_names(
                session=session,
                teacher_school_number=teacher.school_number,
                course_key=normalize_name(lesson.lesson_name),
            )
        not_yet = None  # a persisted lesson has marked them absent
    names = {**roster, **{record.student_number: record.student_full_name for record in records}}
    return RollView(
        lesson=lesson,
        records=records,
        roster=roster,
        not_yet=not_yet,
        changes=change_list(records, audit, names),
    )


_NUMBER_IN_PARENTHESES = re.compile(r"\(([^()]+)\)\s*$")


def pick_student(roster: Mapping[str, str], typed: str) -> str:
    """The school number a teacher means by what they typed in "add a student": a number, a
    suggestion ("Name (number)"), or a roster student's name (one match, accents and case
    ignored); what was typed otherwise, to be looked up as a number."""
    typed = " ".join(typed.split())
    suggestion = _NUMBER_IN_PARENTHESES.search(typed)
    if suggestion and suggestion.group(1).strip() in roster:
        return suggestion.group(1).strip()
    if typed in roster:
        return typed
    wanted = fold_name(typed)
    named = sorted(number for number, name in roster.items() if fold_name(name) == wanted)
    if len(named) > 1:
        raise AmbiguousStudent(
            "Several roster students have this name: "
            + ", ".join(f"{roster[number]} ({number})" for number in named)
            + ". Pick one by number."
        )
    return named[0] if named else typed
