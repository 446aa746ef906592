"""The domain: live-state models, history objects and the value rules they share.

`UserSessionRedis`, `LessonRedis` and `AttendanceRecordRedis` are the design's live-state
models; `AuditEntry`, `Roster`, `CheckInCode` and the rest are what services hand to the
faces above them. The HTTP request and response schemas (`*In`, `*Out`) live in
`attn.http.schemas`. Times are timezone-aware UTC datetimes everywhere; they are rendered with
millisecond precision and a `Z` so that they are easy to read and compare. Imports nothing
from the rest of the package.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

SCHOOL_NUMBER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$"
# A device id as a request may carry it: one this server issued (`<device>.<seal>`, see
# `attn.services.devices`), or one an app made itself before ids were issued.
DEVICE_ID_PATTERN = r"^[A-Za-z0-9_.-]{16,128}$"
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
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    # "...+00:00" -> "...Z"; isoformat costs a third of strftime, on every record written
    return value.isoformat(timespec="milliseconds")[:-6] + "Z"


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


def no_control_characters(value: str) -> str:
    """`value`, unless it holds a control, invisible format, private-use, unassigned or lone
    surrogate character (NUL among them): no name holds one, and a database may refuse it."""
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in value):
        raise PydanticCustomError(
            "control_characters", "must not contain control or invisible format characters"
        )
    return value


def normalize_name(value: str) -> str:
    """The form names are matched in: NFKC, case-folded, white space collapsed.

    Turkish dotted and dotless i fold to one letter, so "YILMAZ", "Yılmaz" and "Yilmaz"
    match whichever keyboard or locale typed them.
    """
    folded = unicodedata.normalize("NFKC", value).casefold()
    folded = folded.replace("i\u0307", "i").replace("\u0131", "i")
    return " ".join(folded.split())


def fold_name(value: str) -> str:
    """The looser form a search matches in: `normalize_name`'s, with accents and other marks
    taken off the letters, so that ASCII typing finds Turkish names (ş→s, ğ→g, ç→c, ö→o,
    ü→u, ı/İ→i; é→e and the like as well)."""
    decomposed = unicodedata.normalize("NFKD", normalize_name(value))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", bare)


_WORD = re.compile(r"\w+")


def name_words(value: str) -> list[str]:
    """The words of a name in folded form, in order, each once: what a search matches by
    prefix ("Fizik-101 (A)" has the words `fizik`, `101`, `a`)."""
    return list(dict.fromkeys(_WORD.findall(fold_name(value))))


def searchable_name(value: str) -> str:
    """A name as SQL keeps it for searches: its folded words, one space apart."""
    return " ".join(name_words(value))


def _has_visible_text(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank_text", "must not be empty or only white space")
    return " ".join(value.split())


DisplayName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    AfterValidator(no_control_characters),
    AfterValidator(_has_visible_text),
]
SchoolNumber = Annotated[str, StringConstraints(pattern=SCHOOL_NUMBER_PATTERN)]
# A teacher's or verifier's reason for a decision.
Reason = Annotated[
    str,
    StringConstraints(min_length=1, max_length=500),
    AfterValidator(no_control_characters),
    AfterValidator(_has_visible_text),
]
DeviceIdText = Annotated[str, StringConstraints(pattern=DEVICE_ID_PATTERN)]
# What a person typed that is looked up as it is (a school number at sign-in, a course name).
TypedText = Annotated[str, AfterValidator(no_control_characters)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


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


class Counts(_Model):
    """A lesson's records counted by status, and `attended` (present + late): the one set of
    counters every page, export and API response shows (`attn.services.attendance`)."""

    present: int = 0
    late: int = 0
    pending: int = 0
    excused: int = 0
    rejected: int = 0
    absent: int = 0

    @property
    def attended(self) -> int:
        return self.present + self.late

    @property
    def total(self) -> int:
        """Every record, whatever its status."""
        return self.present + self.late + self.pending + self.excused + self.rejected + self.absent

    def by_status(self) -> dict[str, int]:
        """The counters in the order pages show them, `attended` last."""
        return {**self.model_dump(), "attended": self.attended}

    @classmethod
    def of(cls, statuses: Iterable[RecordStatus | str]) -> Counts:
        tally = {status.value: 0 for status in RecordStatus}
        for status in statuses:
            tally[RecordStatus(status).value] += 1
        return cls(**tally)


# A status's weight in a rate: a share of one lesson attended, 0 to 1.
Weight = Annotated[float, Field(ge=0, le=1, strict=True, allow_inf_nan=False)]


class StatusWeights(_Model):
    """What each status counts for in a course's attendance rate (as Moodle's status points):
    a share of one lesson attended, or None for a status whose lessons are left out of the
    rate altogether. Present and absent always count (excluding them would leave no rate)."""

    present: Weight = 1.0
    late: Weight | None = 1.0
    pending: Weight | None = 0.0
    excused: Weight | None = None
    rejected: Weight | None = 0.0
    absent: Weight = 0.0

    def of(self, status: RecordStatus) -> float | None:
        weight: float | None = getattr(self, status.value)
        return weight


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
    counts: Counts = Counts()
    security: tuple[SecurityOption, ...] = ()
    allowed_subnets: tuple[str, ...] = ()
    late_after_minutes: int | None = None
    # the room or section the teacher gave, to tell same-named lessons apart
    room: str | None = None

    @property
    def attendee_count(self) -> int:
        """The contract's count: the students who attended (present or late)."""
        return self.counts.attended

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
    attendance_time: UtcTime | None
    status: RecordStatus = RecordStatus.PRESENT
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


class HeldLesson(_Model):
    """A finished lesson the sweep set aside: the database refused to store it (it failed
    alone, every time), so it waits, whole in Redis, for an operator."""

    lesson_id: str
    error: str  # what the database said, one line
    held_at: UtcTime


class RosterStudent(_Model):
    """A student a course's roster expects."""

    school_number: SchoolNumber
    full_name: DisplayName


class Roster(_Model):
    """The students a teacher's course expects."""

    course: str
    students: list[RosterStudent]
    updated_at: UtcTime


class RosterSummary(_Model):
    course: str
    student_count: int
    updated_at: UtcTime


class CheckInCode(_Model):
    """The rotating code a lesson shows now, how long it lasts, and the link its QR carries."""

    code: str
    valid_for_seconds: int
    rotation_seconds: int
    join_url: str


class VerifierAnswer(_Model):
    """The external verifier's answer about one pending check-in."""

    result: Literal["verified", "rejected"]
    reason: Reason | None = None


@dataclass(frozen=True, slots=True)
class ExternalIdentity:
    """Who an identity provider says signed in, mapped to ATTN's terms: the school number, the
    name (may be empty) and the role its claims map to (None: the default role)."""

    school_number: str
    full_name: str
    role: Role | None


class NewAccount(_Model):
    """A new account, from `attn users add`, a row of an import, or an administrator; without
    a password it signs in by single sign-on only."""

    school_number: SchoolNumber
    full_name: DisplayName
    role: Role
    password: Password | None = None


# --- SAML single sign-on's one-time state (attn.services.saml) --------------------------


class SamlPending(_Model):
    """A SAML sign-in this server started, kept under its RelayState until the IdP answers:
    the AuthnRequest's id, where to go afterwards, whether to remember the device, and the
    digest of the nonce the starting browser keeps in a cookie."""

    request_id: str
    target: str
    remember: bool
    browser: str


class SamlHandover(_Model):
    """What the ACS verified, handed to the same-site page that signs the browser in (under a
    one-time ticket): who, where to go, whether to remember the device, and the starting
    browser's nonce digest ("" for an IdP-initiated sign-in, which no browser started)."""

    school_number: str
    full_name: str
    role: Role | None
    target: str
    remember: bool
    browser: str
