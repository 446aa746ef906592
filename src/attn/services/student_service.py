"""A student's side: find active lessons by name, join one, read one's own records.

Live lessons and records are in Redis until the sweep has committed them to SQL; reads look
in Redis first and then in SQL, which is always complete for a lesson Redis no longer has.

Three ways to a lesson: the exact (lesson name, teacher name) pair (`find_active_lessons`,
the contract's), the looser search by word prefixes of folded names, the teacher's optional
(`search_active_lessons`), and the lessons of the student's own courses that are on now
(`roster_lessons_now`). Each costs what its answer holds, never a scan of all lessons.
"""

from __future__ import annotations

from dataclasses import dataclass

from attn import metrics
from attn.db import history, rosters
from attn.errors import (
    AttnError,
    DeviceAlreadyUsed,
    DeviceRequired,
    InvalidCode,
    InvalidRequest,
    LessonNotActive,
    LessonNotFound,
    NetworkNotAllowed,
    RecordNotFound,
    TooManyAttempts,
)
from attn.models import (
    AttendanceRecordRedis,
    LessonRedis,
    RecordStatus,
    UserSessionRedis,
    name_words,
    to_ms,
)
from attn.services import codes, devices, network, scan
from attn.services.context import ServiceContext
from attn.services.network import IPAddress
from attn.services.rosters import course_key
from attn.store import formats, keys
from attn.store.redis_client import JoinOutcome, JoinRequest, SearchOutcome


@dataclass(frozen=True, slots=True)
class JoinResult:
    created: bool
    record_json: str
    # set when the record is pending and the verifier must be asked about it
    verification_id: str | None = None

    def record(self) -> AttendanceRecordRedis:
        return formats.parse_record(self.record_json)


@dataclass(frozen=True, slots=True)
class CheckIn:
    """What the student's request brings besides who they are. `device_id` is a device id
    this server issued to the student ('' for none: see `attn.http.deps.valid_device_id`)."""

    code: str | None = None
    client: IPAddress | None = None
    device_id: str = ""
    # the browser's scan ticket (`attn.services.scan`): the code counts if it was valid then
    scan_ticket: str | None = None


async def find_active_lessons(
    ctx: ServiceContext, *, lesson_name: str, teacher_name: str
) -> list[LessonRedis]:
    """Every active lesson with this name and teacher name, so the student can choose."""
    now = ctx.now()
    lessons = await ctx.redis_client.find_lessons_by_name(lesson_name, teacher_name)
    active = [lesson for lesson in lessons if lesson.is_active(now)]
    active.sort(key=lambda lesson: (-to_ms(lesson.start_time), lesson.lesson_id))
    return active


# The looser search reads at most SEARCH_ENTRIES entries of the word index (those of the
# query's word whose prefix fewest entries have) and answers at most SEARCH_RESULTS lessons;
# past either bound it says there may be more, and the student refines the search.
SEARCH_ENTRIES = 200
SEARCH_RESULTS = 50


@dataclass(frozen=True, slots=True)
class LessonSearch:
    """A looser search's answer: the active lessons found, newest first, and whether more
    may match than were read (the search should be refined)."""

    lessons: list[LessonRedis]
    more: bool


def _has_prefixes(words: list[str], prefixes: list[str]) -> bool:
    """Whether every prefix starts some word."""
    return all(any(word.startswith(prefix) for word in words) for prefix in prefixes)


def _newest_first(lessons: list[LessonRedis]) -> list[LessonRedis]:
    return sorted(lessons, key=lambda lesson: (-to_ms(lesson.start_time), lesson.lesson_id))


async def search_active_lessons(
    ctx: ServiceContext, *, text: str, teacher: str = ""
) -> LessonSearch:
    """Active lessons whose name has a word starting with each word of `text`, and whose
    teacher's name likewise with each word of `teacher` (if any), accents and case ignored:
    "fiz" finds "Fizik 101", teacher "ayse yil" finds "Ayşe Yılmaz".

    One range of the word index (the narrowest of the query's words, bounded), then those
    lessons.
    """
    wanted = name_words(text)
    if not wanted:
        raise InvalidRequest("Type a word of the lesson's name (letters or digits).")
    teacher_wanted = name_words(teacher)
    reply = await ctx.redis_client.find_lesson_ids_by_words(
        wanted, teacher_wanted, limit=SEARCH_ENTRIES
    )
    ids, more = reply.data, reply.outcome is SearchOutcome.MORE
    now = ctx.now()
    found = _newest_first(
        [
            lesson
            for lesson in await ctx.redis_client.get_lessons(ids)
            if lesson.is_active(now)
            and _has_prefixes(name_words(lesson.lesson_name), wanted)
            and _has_prefixes(name_words(lesson.teacher_full_name), teacher_wanted)
        ]
    )
    if len(found) > SEARCH_RESULTS:
        found, more = found[:SEARCH_RESULTS], True
    return LessonSearch(found, more)


async def roster_lessons_now(
    ctx: ServiceContext, *, student: UserSessionRedis
) -> list[LessonRedis]:
    """The active lessons of the courses whose rosters list the student, newest first.

    One indexed SQL query for the student's courses, then the active lesson of each of their
    teachers (a teacher has at most one), kept when it is one of those courses.
    """
    async with ctx.db() as session:
        courses = set(
            await rosters.student_courses(session=session, student_number=student.school_number)
        )
    if not courses:
        return []
    teachers = sorted({teacher for teacher, _ in courses})
    now = ctx.now()
    return _newest_first(
        [
            lesson
            for lesson in await ctx.redis_client.teachers_active_lessons(teachers)
            if lesson.is_active(now)
            and (lesson.teacher_school_number, course_key(lesson.lesson_name)) in courses
        ]
    )


_REFUSALS = {
    JoinOutcome.NOT_ACTIVE: LessonNotActive,
    JoinOutcome.INVALID_CODE: InvalidCode,
    JoinOutcome.NETWORK_NOT_ALLOWED: NetworkNotAllowed,
    JoinOutcome.DEVICE_REQUIRED: DeviceRequired,
    JoinOutcome.DEVICE_ALREADY_USED: DeviceAlreadyUsed,
}


async def get_joinable_lesson(ctx: ServiceContext, *, lesson_id: str) -> LessonRedis | None:
    """A live lesson by id, for the page a QR code leads to (None when there is none)."""
    if not keys.is_lesson_id(lesson_id):
        return None
    return await ctx.redis_client.get_lesson(lesson_id)


async def join_attendance(
    ctx: ServiceContext,
    *,
    student: UserSessionRedis,
    lesson_id: str,
    check_in: CheckIn | None = None,
) -> JoinResult:
    """Check the student in: one atomic check of the lesson's security options and write.

    A repeated join returns the first join's record, whatever was sent with it. A device or
    an address another student of the lesson checked in from flags both records. Counted in
    `attn_joins_total` by outcome (created, already, or the refusal's code).
    """
    try:
        result = await _join(ctx, student=student, lesson_id=lesson_id, check_in=check_in)
    except AttnError as exc:
        metrics.outcome("JOINS", exc.code)
        raise
    except Exception:
        metrics.outcome("JOINS", "error")
        raise
    metrics.outcome("JOINS", "created" if result.created else "already")
    return result


async def _join(
    ctx: ServiceContext,
    *,
    student: UserSessionRedis,
    lesson_id: str,
    check_in: CheckIn | None,
) -> JoinResult:
    if not keys.is_lesson_id(lesson_id):
        raise LessonNotFound
    check_in = check_in or CheckIn()
    settings = ctx.settings
    now = ctx.now()
    record = AttendanceRecordRedis(
        lesson_id=lesson_id,
        student_number=student.school_number,
        student_full_name=student.full_name,
        attendance_time=now,
    )
    verification_id = formats.new_verification_id(lesson_id)
    client_bits = "" if check_in.client is None else formats.address_bits(check_in.client)
    reply = await ctx.redis_client.add_attendance_record(
        record,
        JoinRequest(
            code_ok=codes.code_matches(
                ctx.secret_key, lesson_id, check_in.code, now, settings.CODE_ROTATION_SECONDS
            )
            or scan.admits(
                ctx.secret_key,
                check_in.scan_ticket,
                lesson_id=lesson_id,
                code=check_in.code,
                now=now,
                grace_seconds=settings.SCAN_GRACE_SECONDS,
                rotation_seconds=settings.CODE_ROTATION_SECONDS,
            ),
            client_bits=client_bits,
            device=devices.device_of(check_in.device_id) if check_in.device_id else "",
            address=client_bits if network.names_one_client(check_in.client) else "",
            verification_id=verification_id,
            code_max_failures=settings.CODE_MAX_FAILURES,
            code_failure_window_ms=settings.CODE_FAILURE_WINDOW_SECONDS * 1000,
        ),
    )
    outcome, joined = reply.outcome, reply.data
    if outcome is JoinOutcome.CREATED and joined.record_json is not None:
        pending = joined.status == RecordStatus.PENDING.value
        return JoinResult(True, joined.record_json, verification_id if pending else None)
    if outcome is JoinOutcome.EXISTS and joined.record_json is not None:
        return JoinResult(False, joined.record_json)
    if outcome is JoinOutcome.TOO_MANY_ATTEMPTS:
        wait = max(1, -(-joined.retry_after_ms // 1000))
        raise TooManyAttempts(
            retry_after=wait, message=f"Too many wrong codes; try again in {wait} seconds."
        )
    if outcome is JoinOutcome.NOT_FOUND:
        # Not live: a retried join of a persisted lesson gets the record it made.
        async with ctx.db() as session:
            persisted = await history.get_record(
                session=session, lesson_id=lesson_id, student_number=student.school_number
            )
            if persisted is not None:
                return JoinResult(created=False, record_json=formats.record_json(persisted))
            if await history.get_lesson(session=session, lesson_id=lesson_id) is not None:
                raise LessonNotActive
        raise LessonNotFound
    raise _REFUSALS[outcome]


async def get_own_record(
    ctx: ServiceContext, *, student: UserSessionRedis, lesson_id: str
) -> AttendanceRecordRedis:
    """The student's record in one lesson, live or persisted.

    Without one, the lesson is the student's to see only while it is open to joins (as the
    search shows it): record_not_found then, lesson_not_found otherwise, so that the answer
    never tells whether some other lesson exists.
    """
    if not keys.is_lesson_id(lesson_id):
        raise LessonNotFound
    record = await ctx.redis_client.get_attendance_record(lesson_id, student.school_number)
    if record is not None:
        return record
    live_lesson = await ctx.redis_client.get_lesson(lesson_id)
    async with ctx.db() as session:
        record = await history.get_record(
            session=session, lesson_id=lesson_id, student_number=student.school_number
        )
    if record is not None:
        return record
    if live_lesson is not None and live_lesson.is_active(ctx.now()):
        raise RecordNotFound
    raise LessonNotFound


async def list_own_records(
    ctx: ServiceContext, *, student: UserSessionRedis, limit: int, offset: int
) -> list[tuple[LessonRedis, AttendanceRecordRedis]]:
    """The student's own records, live and persisted, newest lesson first."""
    ids = await ctx.redis_client.student_lesson_ids(student.school_number)
    live, vanished = await ctx.redis_client.get_student_records(student.school_number, ids)
    live_ids = {lesson.lesson_id for lesson, _ in live}
    async with ctx.db() as session:
        persisted = await history.list_student_records(
            session=session,
            student_number=student.school_number,
            limit=offset + limit,
            exclude=sorted(live_ids),
        )
    # Entries whose lesson left Redis point at SQL now (or at nothing): unlist them.
    await ctx.redis_client.forget_student_lessons(student.school_number, vanished)
    found = live + persisted
    found.sort(key=lambda pair: (-to_ms(pair[0].start_time), pair[0].lesson_id))
    return found[offset : offset + limit]
