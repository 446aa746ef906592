"""Domain models kept in Redis, and the API's request and response schemas.

`UserSessionRedis`, `LessonRedis` and `AttendanceRecordRedis` are the design's live-state
models; the `*Out` and `*In` classes are what the HTTP API reads and writes. Times are
timezone-aware UTC datetimes everywhere; they are rendered with millisecond precision and a
`Z` so that they are easy to read and compare. Imports nothing from the rest of the package.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)

SCHOOL_NUMBER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$"
LESSON_ID_RE = re.compile(r"^[0-9a-f]{32}$")


class Role(StrEnum):
    TEACHER = "teacher"
    STUDENT = "student"
    ADMIN = "admin"


class LessonStatus(StrEnum):
    ACTIVE = "active"
    FINISHED = "finished"


class SecurityOption(StrEnum):
    CODE = "code"
    NETWORK = "network"
    DEVICE = "device"
    VERIFICATION = "verification"


class RecordStatus(StrEnum):
    PRESENT = "present"
    LATE = "late"
    PENDING = "pending"
    REJECTED = "rejected"
    EXCUSED = "excused"
    ABSENT = "absent"


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_time(value: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and `Z`: one fixed-width form for every time."""
    return (
        value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    )


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def to_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def _as_utc(value: datetime) -> datetime:
    """Aware UTC, cut to the millisecond precision that storage and the API keep."""
    if value.tzinfo is None:
        raise ValueError("time must carry a UTC offset")
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    if value.microsecond % 1000:
        value = value.replace(microsecond=value.microsecond // 1000 * 1000)
    return value


UtcTime = Annotated[
    datetime,
    AfterValidator(_as_utc),
    PlainSerializer(format_time, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


def _no_control_characters(value: str) -> str:
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in value):
        raise ValueError("must not contain control or invisible format characters")
    return value


def normalize_name(value: str) -> str:
    """The form names are matched in: NFKC, case-folded, white space collapsed.

    Turkish dotted and dotless i fold to one letter, so "YILMAZ", "Yılmaz" and "Yilmaz"
    match whichever keyboard or locale typed them.
    """
    folded = unicodedata.normalize("NFKC", value).casefold()
    folded = folded.replace("i\u0307", "i").replace("\u0131", "i")
    return " ".join(folded.split())


def _has_visible_text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or only white space")
    return " ".join(value.split())


DisplayName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    AfterValidator(_no_control_characters),
    AfterValidator(_has_visible_text),
]
FullName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    AfterValidator(_no_control_characters),
    AfterValidator(_has_visible_text),
]
SchoolNumber = Annotated[str, StringConstraints(pattern=SCHOOL_NUMBER_PATTERN)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- live state in Redis (Phase 1 of the design) ---------------------------------------


class UserSessionRedis(_Model):
    """A logged-in user's session; the Redis key expires after the role's TTL."""

    school_number: str
    full_name: str
    role: Role
    token_digest: str
    created_at: UtcTime
    expires_at: UtcTime
    # the remembered device this session came from, whose refresh token logout revokes
    device_key: str | None = None


class RefreshTokenRedis(_Model):
    """A remembered device's refresh token: only its digest is kept."""

    school_number: str
    full_name: str
    role: Role
    token_digest: str
    created_at: UtcTime
    expires_at: UtcTime


class LessonRedis(_Model):
    """An attendance lesson while it lives in Redis."""

    lesson_id: str
    lesson_name: str
    teacher_school_number: str
    teacher_full_name: str
    start_time: UtcTime
    end_time: UtcTime
    status: LessonStatus = LessonStatus.ACTIVE
    finished_at: UtcTime | None = None
    attendee_count: int = 0
    security: tuple[SecurityOption, ...] = ()
    allowed_subnets: tuple[str, ...] = ()
    late_after_minutes: int | None = None

    def status_at(self, now: datetime) -> LessonStatus:
        """A lesson past its end time that nobody finished counts as finished."""
        if self.status is LessonStatus.ACTIVE and now >= self.end_time:
            return LessonStatus.FINISHED
        return self.status

    def is_active(self, now: datetime) -> bool:
        return self.status_at(now) is LessonStatus.ACTIVE


class AttendanceRecordRedis(_Model):
    """One student's attendance in one lesson, complete with the student's full name.

    `changed_by` is the teacher who last decided the status by hand; an automatic result (a
    verifier's answer, a repeated join) never overrides such a decision.
    """

    lesson_id: str
    student_number: str
    student_full_name: str
    status: RecordStatus = RecordStatus.PRESENT
    attendance_time: UtcTime | None
    reason: str | None = None
    flags: tuple[str, ...] = ()
    changed_by: str | None = None
    changed_at: UtcTime | None = None


class AuditEntry(_Model):
    """One change of a record's status: who, when, from what to what, and why."""

    lesson_id: str
    student_number: str
    changed_by: str | None  # None for an automatic change
    source: str  # "teacher", "verifier" or "system"
    changed_at: UtcTime
    old_status: RecordStatus | None  # None when the change created the record
    new_status: RecordStatus
    reason: str | None = None


# --- API schemas -------------------------------------------------------------------------


class UserOut(_Model):
    school_number: str
    full_name: str
    role: Role


DeviceIdText = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{16,128}$")]


class LoginIn(_Model):
    school_number: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    remember_device: bool = False
    device_id: DeviceIdText | None = None


class RefreshIn(_Model):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    device_id: DeviceIdText | None = None


class LoginOut(_Model):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    user: UserOut
    refresh_token: str | None = None
    refresh_expires_in: int | None = None


class MeOut(_Model):
    user: UserOut
    session_expires_at: UtcTime


Reason = Annotated[
    str,
    StringConstraints(min_length=1, max_length=500),
    AfterValidator(_no_control_characters),
    AfterValidator(_has_visible_text),
]


def _unique(values: list[SecurityOption]) -> list[SecurityOption]:
    if len(set(values)) != len(values):
        raise ValueError("each option at most once")
    return values


def _networks(values: list[str]) -> list[str]:
    normalized = []
    for value in values:
        try:
            normalized.append(str(ipaddress.ip_network(value.strip(), strict=False)))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP network such as 10.1.2.0/24") from None
    return normalized


class LessonIn(_Model):
    lesson_name: DisplayName
    duration_minutes: Annotated[int, Field(ge=1, le=720, strict=True)]
    late_after_minutes: Annotated[int, Field(ge=0, le=720, strict=True)] | None = None
    security: Annotated[list[SecurityOption], Field(max_length=4), AfterValidator(_unique)] = []
    allowed_subnets: Annotated[
        list[Annotated[str, StringConstraints(max_length=64)]],
        Field(max_length=32),
        AfterValidator(_networks),
    ] = []


class LessonOut(_Model):
    lesson_id: str
    lesson_name: str
    teacher_school_number: str
    teacher_full_name: str
    start_time: UtcTime
    end_time: UtcTime
    status: LessonStatus
    attendee_count: int
    # When it was finished: by its teacher, or at its end time; None while it is active.
    finished_at: UtcTime | None = None
    security: list[SecurityOption] = []
    late_after_minutes: int | None = None

    @classmethod
    def of(cls, lesson: LessonRedis, now: datetime) -> LessonOut:
        status = lesson.status_at(now)
        finished_at = None
        if status is LessonStatus.FINISHED:
            finished_at = lesson.finished_at or lesson.end_time
        return cls(
            lesson_id=lesson.lesson_id,
            lesson_name=lesson.lesson_name,
            teacher_school_number=lesson.teacher_school_number,
            teacher_full_name=lesson.teacher_full_name,
            start_time=lesson.start_time,
            end_time=lesson.end_time,
            status=status,
            attendee_count=lesson.attendee_count,
            finished_at=finished_at,
            security=list(lesson.security),
            late_after_minutes=lesson.late_after_minutes,
        )


class TeacherLessonOut(LessonOut):
    """A lesson as its teacher sees it: with the networks check-ins must come from."""

    allowed_subnets: list[str] = []

    @classmethod
    def of(cls, lesson: LessonRedis, now: datetime) -> TeacherLessonOut:
        return cls(
            **LessonOut.of(lesson, now).model_dump(), allowed_subnets=list(lesson.allowed_subnets)
        )


class RecordOut(_Model):
    lesson_id: str
    student_number: str
    student_full_name: str
    status: RecordStatus
    attendance_time: UtcTime | None
    reason: str | None = None
    flags: list[str] = []
    changed_by: str | None = None
    changed_at: UtcTime | None = None

    @classmethod
    def of(cls, record: AttendanceRecordRedis) -> RecordOut:
        return cls.model_validate(record.model_dump())


class StudentRecordOut(RecordOut):
    lesson_name: str
    teacher_full_name: str
    start_time: UtcTime


class JoinIn(_Model):
    """The body of a join: the lesson's current code when it asks for one."""

    code: Annotated[str, StringConstraints(max_length=32)] | None = None


# The statuses a teacher can decide (`pending` is the verifier's): the schema says so, and the
# service refuses the rest with `status_not_allowed`.
DecidedStatus = Annotated[
    RecordStatus,
    WithJsonSchema(
        {
            "type": "string",
            "enum": [status.value for status in RecordStatus if status is not RecordStatus.PENDING],
        }
    ),
]


class CorrectionIn(_Model):
    """A teacher's decision on a record; a rejection needs a reason."""

    status: DecidedStatus
    reason: Reason | None = None


class AddRecordIn(_Model):
    """A student the teacher adds by hand (one who could not check in)."""

    student_number: SchoolNumber
    status: DecidedStatus = RecordStatus.PRESENT
    reason: Reason | None = None


class AuditEntryOut(AuditEntry):
    pass


class CodeOut(_Model):
    code: str
    valid_for_seconds: int
    rotation_seconds: int
    join_url: str


class RosterStudent(_Model):
    school_number: SchoolNumber
    full_name: FullName


class RosterOut(_Model):
    course: str
    students: list[RosterStudent]
    updated_at: UtcTime


class RosterSummary(_Model):
    course: str
    student_count: int
    updated_at: UtcTime


class VerificationResultIn(_Model):
    result: Literal["verified", "rejected"]
    reason: Reason | None = None


class VerificationResultOut(_Model):
    status: Literal["applied", "ignored"]
    record: RecordOut


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class Health(BaseModel):
    status: str


class UserIn(_Model):
    """A new account, from `attn users add` or a row of `attn users import`."""

    school_number: SchoolNumber
    full_name: FullName
    role: Role
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
