"""Domain models kept in Redis, and the API's request and response schemas.

`UserSessionRedis`, `LessonRedis` and `AttendanceRecordRedis` are the design's live-state
models; the `*Out` and `*In` classes are what the HTTP API reads and writes. Times are
timezone-aware UTC datetimes everywhere; they are rendered with millisecond precision and a
`Z` so that they are easy to read and compare. Imports nothing from the rest of the package.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
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
    return value.astimezone(UTC).replace(microsecond=value.microsecond // 1000 * 1000)


UtcTime = Annotated[
    datetime,
    AfterValidator(_as_utc),
    PlainSerializer(format_time, return_type=str, when_used="json"),
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

    def status_at(self, now: datetime) -> LessonStatus:
        """A lesson past its end time that nobody finished counts as finished."""
        if self.status is LessonStatus.ACTIVE and now >= self.end_time:
            return LessonStatus.FINISHED
        return self.status

    def is_active(self, now: datetime) -> bool:
        return self.status_at(now) is LessonStatus.ACTIVE


class AttendanceRecordRedis(_Model):
    """One student's attendance in one lesson, complete with the student's full name."""

    lesson_id: str
    student_number: str
    student_full_name: str
    status: RecordStatus = RecordStatus.PRESENT
    attendance_time: UtcTime | None


# --- API schemas -------------------------------------------------------------------------


class UserOut(_Model):
    school_number: str
    full_name: str
    role: Role


class LoginIn(_Model):
    school_number: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class LoginOut(_Model):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    user: UserOut


class MeOut(_Model):
    user: UserOut
    session_expires_at: UtcTime


class LessonIn(_Model):
    lesson_name: DisplayName
    duration_minutes: Annotated[int, Field(ge=1, le=720, strict=True)]


class LessonOut(_Model):
    lesson_id: str
    lesson_name: str
    teacher_school_number: str
    teacher_full_name: str
    start_time: UtcTime
    end_time: UtcTime
    status: LessonStatus
    attendee_count: int

    @classmethod
    def of(cls, lesson: LessonRedis, now: datetime) -> LessonOut:
        return cls(
            lesson_id=lesson.lesson_id,
            lesson_name=lesson.lesson_name,
            teacher_school_number=lesson.teacher_school_number,
            teacher_full_name=lesson.teacher_full_name,
            start_time=lesson.start_time,
            end_time=lesson.end_time,
            status=lesson.status_at(now),
            attendee_count=lesson.attendee_count,
        )


class RecordOut(_Model):
    lesson_id: str
    student_number: str
    student_full_name: str
    status: RecordStatus
    attendance_time: UtcTime | None


class StudentRecordOut(RecordOut):
    lesson_name: str
    teacher_full_name: str
    start_time: UtcTime


class JoinIn(_Model):
    """The body of a join; empty for now, security options add fields."""


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
