"""The HTTP API's request and response schemas, shared by the JSON API and the pages.

Every page form is validated by the schema of the API body it corresponds to, so both faces
refuse the same input. Responses are built from domain objects (`attn.models`) with `of()`.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from attn.models import (
    AttendanceRecordRedis,
    Counts,
    DeviceIdText,
    DisplayName,
    LessonRedis,
    LessonStatus,
    Password,
    Reason,
    RecordStatus,
    Role,
    SchoolNumber,
    SecurityOption,
    StatusWeights,
    TypedText,
    UtcTime,
)
from attn.services.rosters import RosterPreview


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UserOut(_Model):
    school_number: str
    full_name: str
    role: Role


class AdminUserOut(UserOut):
    """An account as an administrator sees it."""

    active: bool
    has_password: bool
    sso: bool = Field(description="The account has signed in (or was created) by single sign-on.")
    created_at: UtcTime
    last_login_at: UtcTime | None = Field(
        description="The last sign-in with a password or single sign-on (a remembered "
        "device's silent renewal is not counted)."
    )


class AdminUserIn(_Model):
    school_number: SchoolNumber
    full_name: DisplayName
    role: Role
    password: Password | None = Field(
        default=None, description="Without one the account signs in by single sign-on only."
    )


class AdminUserPatch(_Model):
    full_name: DisplayName | None = None
    role: Role | None = None
    active: bool | None = None
    password: Password | None = None


class AdminImportOut(_Model):
    imported: int = Field(description="Accounts created or claimed (0 for a dry run).")
    claimed: list[str] = Field(description="Unclaimed students' numbers the import claims.")
    school_numbers: list[str] = Field(description="Every account of the file, in order.")
    dry_run: bool


class AdminAuditOut(_Model):
    at: UtcTime
    actor: str = Field(description="The administrator's school number, or `cli`.")
    action: str = Field(description="create, update or import.")
    target: str = Field(description="The account's school number.")
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class LoginIn(_Model):
    school_number: Annotated[TypedText, StringConstraints(min_length=1, max_length=64)]
    password: Password
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
    # the device id to send with check-ins from now on (students; and remembered devices)
    device_id: str | None = None


class MeOut(_Model):
    user: UserOut
    session_expires_at: UtcTime


def _unique(values: list[SecurityOption]) -> list[SecurityOption]:
    if len(set(values)) != len(values):
        raise PydanticCustomError("repeated_option", "each option at most once")
    return values


def _networks(values: list[str]) -> list[str]:
    normalized = []
    for value in values:
        try:
            normalized.append(str(ipaddress.ip_network(value.strip(), strict=False)))
        except ValueError:
            raise PydanticCustomError(
                "not_a_network",
                "{shown} is not an IP network such as 10.1.2.0/24",
                {"value": value, "shown": repr(value)},
            ) from None
    return normalized


def _room(value: str) -> str | None:
    """A room or section as typed: white space collapsed; None when nothing was typed."""
    return " ".join(value.split()) or None


# The room or section students tell same-named lessons apart by (optional, 0-100 characters).
RoomText = Annotated[TypedText, StringConstraints(max_length=100), AfterValidator(_room)]


class LessonIn(_Model):
    lesson_name: DisplayName
    room: RoomText | None = None
    duration_minutes: Annotated[int, Field(ge=1, le=720, strict=True)]
    late_after_minutes: Annotated[int, Field(ge=0, le=720, strict=True)] | None = None
    security: Annotated[list[SecurityOption], Field(max_length=4), AfterValidator(_unique)] = []
    allowed_subnets: Annotated[
        list[Annotated[str, StringConstraints(max_length=64)]],
        Field(max_length=32),
        AfterValidator(_networks),
    ] = []


class CountsOut(_Model):
    """A lesson's records counted by status, and attended = present + late."""

    present: int
    late: int
    pending: int
    excused: int
    rejected: int
    absent: int
    attended: int

    @classmethod
    def of(cls, counts: Counts) -> CountsOut:
        return cls(**counts.by_status())


class LessonOut(_Model):
    lesson_id: str
    lesson_name: str
    teacher_school_number: str
    teacher_full_name: str
    start_time: UtcTime
    end_time: UtcTime
    status: LessonStatus
    # The students who attended: present + late (`counts.attended`).
    attendee_count: int
    counts: CountsOut
    # When it was finished: by its teacher, or at its end time; None while it is active.
    finished_at: UtcTime | None = None
    security: list[SecurityOption] = []
    late_after_minutes: int | None = None
    room: str | None = None

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
            counts=CountsOut.of(lesson.counts),
            finished_at=finished_at,
            security=list(lesson.security),
            late_after_minutes=lesson.late_after_minutes,
            room=lesson.room,
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
    attendance_time: UtcTime | None
    status: RecordStatus
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


class RosterStudentOut(_Model):
    school_number: str
    full_name: str


class RosterRenameOut(_Model):
    school_number: str
    old_name: str
    new_name: str


class RosterErrorOut(_Model):
    line: int  # 1 is the header; 0 the file as a whole
    problem: str
    message: str


class RosterPreviewOut(_Model):
    """What a roster upload would change; `digest` is null while `errors` is not empty."""

    course: str
    exists: bool
    added: list[RosterStudentOut]
    removed: list[RosterStudentOut]
    renamed: list[RosterRenameOut]
    unchanged: int
    errors: list[RosterErrorOut]
    digest: str | None

    @classmethod
    def of(cls, preview: RosterPreview) -> RosterPreviewOut:
        return cls(
            course=preview.course,
            exists=preview.exists,
            added=[RosterStudentOut.model_validate(s.model_dump()) for s in preview.added],
            removed=[RosterStudentOut.model_validate(s.model_dump()) for s in preview.removed],
            renamed=[
                RosterRenameOut(
                    school_number=r.school_number, old_name=r.old_name, new_name=r.new_name
                )
                for r in preview.renamed
            ],
            unchanged=preview.unchanged,
            errors=[
                RosterErrorOut(line=p.line, problem=p.kind, message=p.message)
                for p in preview.problems
            ],
            digest=preview.digest,
        )


class WeightsIn(StatusWeights):
    """What each status counts for in the course's rate: a number from 0 to 1 (a share of one
    lesson attended), or null to leave that status's lessons out of the rate (late, pending,
    excused and rejected only). A status not sent takes its default."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "present": 1,
                "late": 0.5,
                "pending": 0,
                "excused": None,
                "rejected": 0,
                "absent": 0,
            }
        }
    )


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


class Readiness(Health):
    # finished lessons the sweep set aside because the database refuses them
    held_lessons: int = 0


class ProjectorLinkOut(_Model):
    """A lesson's projector link: the projector view of this one lesson, without a session."""

    url: str
    expires_at: UtcTime
