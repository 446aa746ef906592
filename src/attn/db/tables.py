"""SQL tables. Constraint names come from one naming convention so migrations stay stable."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from attn.models import searchable_name

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, also on SQLite, which keeps no offset."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _folded_name(context: Any) -> str:
    return searchable_name(str(context.get_current_parameters().get("full_name", "")))


class UserRow(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('teacher', 'student', 'admin')", name="role"),)

    school_number: Mapped[str] = mapped_column(String(32), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    # Empty for a user first seen in an attendance record, who cannot log in yet.
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # what a name search matches: the name's folded words (`searchable_name`), set by every
    # insert (an update of the name sets it too: `db.users`)
    name_folded: Mapped[str] = mapped_column(String(400), default=_folded_name, index=True)
    # false: deactivated by an administrator; no sign-in of any kind
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # known only from a roster or an attendance record: `attn users add` (or an import, or an
    # administrator) may claim it, giving it a password
    unclaimed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # the single sign-on that created or last signed in the account ("oidc", "saml")
    sso_provider: Mapped[str | None] = mapped_column(String(16))


class LessonRow(Base):
    """A finished lesson, as the persistence job committed it."""

    __tablename__ = "lessons"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'finished')", name="status"),
        CheckConstraint("end_time >= start_time", name="time_order"),
        Index("ix_lessons_teacher_start", "teacher_school_number", "start_time"),
    )

    lesson_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    lesson_name: Mapped[str] = mapped_column(String(200))
    teacher_school_number: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.school_number")
    )
    # The teacher's name at the time of the lesson, as students saw it.
    teacher_full_name: Mapped[str] = mapped_column(String(200))
    start_time: Mapped[datetime] = mapped_column(UtcDateTime)
    end_time: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16))
    # The live state's change counter when it was persisted: a write of older state is refused.
    redis_version: Mapped[int] = mapped_column(BigInteger)
    persisted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    security: Mapped[str] = mapped_column(String(64), default="")  # comma-separated options
    allowed_subnets: Mapped[str] = mapped_column(String(2000), default="")
    late_after_minutes: Mapped[int | None] = mapped_column(Integer)
    room: Mapped[str | None] = mapped_column(String(100))


class RecordRow(Base):
    """One student's attendance in one persisted lesson."""

    __tablename__ = "attendance_records"
    __table_args__ = (
        CheckConstraint(
            "status IN ('present', 'late', 'pending', 'rejected', 'excused', 'absent')",
            name="status",
        ),
        Index("ix_attendance_records_student", "student_number"),
        Index("ix_attendance_records_lesson_time", "lesson_id", "attendance_time"),
    )

    lesson_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("lessons.lesson_id", ondelete="CASCADE"), primary_key=True
    )
    student_number: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.school_number"), primary_key=True
    )
    # The student's name at the time of the record.
    student_full_name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    attendance_time: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The teacher who decided the status by hand, and when; None for automatic statuses.
    changed_by: Mapped[str | None] = mapped_column(String(32))
    changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reason: Mapped[str | None] = mapped_column(String(500))
    flags: Mapped[str] = mapped_column(String(200), default="")  # comma-separated
    written_at: Mapped[datetime] = mapped_column(UtcDateTime)


_STATUSES = "('present', 'late', 'pending', 'rejected', 'excused', 'absent')"


class AuditRow(Base):
    """Append-only: one row per change of a record's status, numbered per lesson."""

    __tablename__ = "attendance_audit"
    __table_args__ = (
        CheckConstraint(f"new_status IN {_STATUSES}", name="new_status"),
        CheckConstraint(f"old_status IS NULL OR old_status IN {_STATUSES}", name="old_status"),
        CheckConstraint("source IN ('teacher', 'verifier', 'system')", name="source"),
    )

    lesson_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("lessons.lesson_id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_number: Mapped[str] = mapped_column(String(32))
    changed_by: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    old_status: Mapped[str | None] = mapped_column(String(16))
    new_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(500))


class AdminAuditRow(Base):
    """Append-only (the database refuses updates and deletes): one row per administrator's
    change of an account, with the account before and after as JSON."""

    __tablename__ = "admin_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    # the administrator's school number, or "cli:<user>" for the `attn users` commands
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(32), index=True)
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)


class RosterRow(Base):
    """The students a teacher expects in a course (the lessons of one name)."""

    __tablename__ = "rosters"

    teacher_school_number: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.school_number"), primary_key=True
    )
    course_key: Mapped[str] = mapped_column(String(200), primary_key=True)  # normalised name
    course_name: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RosterStudentRow(Base):
    __tablename__ = "roster_students"
    __table_args__ = (
        ForeignKeyConstraint(
            ["teacher_school_number", "course_key"],
            ["rosters.teacher_school_number", "rosters.course_key"],
            ondelete="CASCADE",
        ),
        # a student's courses, for the lessons of theirs that are on now
        Index("ix_roster_students_student", "student_number"),
    )

    teacher_school_number: Mapped[str] = mapped_column(String(32), primary_key=True)
    course_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    student_number: Mapped[str] = mapped_column(String(32), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))


class CourseSettingsRow(Base):
    """A course's own settings, keyed as its roster is: the weights of each status in its
    attendance rate (NULL: that status's lessons are left out of the rate)."""

    __tablename__ = "course_settings"

    teacher_school_number: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.school_number"), primary_key=True
    )
    course_key: Mapped[str] = mapped_column(String(200), primary_key=True)  # normalised name
    weight_present: Mapped[float] = mapped_column(Float)
    weight_late: Mapped[float | None] = mapped_column(Float)
    weight_pending: Mapped[float | None] = mapped_column(Float)
    weight_excused: Mapped[float | None] = mapped_column(Float)
    weight_rejected: Mapped[float | None] = mapped_column(Float)
    weight_absent: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


# --- LTI 1.3: platforms, the tool's keys, linked courses, their members, grades ---------------


class LtiPlatformRow(Base):
    """A learning platform (Moodle, Canvas, Brightspace) registered to launch ATTN: its issuer,
    the client id it gave ATTN, its endpoints and the deployments it may launch from."""

    __tablename__ = "lti_platforms"
    __table_args__ = (UniqueConstraint("issuer", "client_id", name="uq_lti_platforms_client"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issuer: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(200), default="")
    auth_login_url: Mapped[str] = mapped_column(String(1000))
    auth_token_url: Mapped[str] = mapped_column(String(1000))
    # the `aud` of the token request's assertion when it is not the token URL (Brightspace)
    auth_audience: Mapped[str | None] = mapped_column(String(1000))
    keyset_url: Mapped[str] = mapped_column(String(1000))
    deployment_ids: Mapped[str] = mapped_column(Text, default="[]")  # a JSON list of strings
    # the origins its course pages are served from besides the issuer's (Canvas's issuer is
    # canvas.instructure.com, its pages each school's domain): a JSON list, from the
    # administrator and from the launches' signed return URLs
    frame_origins: Mapped[str] = mapped_column(Text, default="[]")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LtiToolKeyRow(Base):
    """One of the tool's RSA signing keys: the newest unretired one signs; a retired one is
    still published until the grace period after its retirement ends."""

    __tablename__ = "lti_tool_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class LtiCourseRow(Base):
    """An LMS course (an LTI context) as one teacher's ATTN course, with the platform's
    service endpoints for it (NRPS, AGS) and whether its grades are sent back."""

    __tablename__ = "lti_courses"

    platform_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("lti_platforms.id", ondelete="CASCADE"), primary_key=True
    )
    context_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    teacher_school_number: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.school_number"), primary_key=True
    )
    course_key: Mapped[str] = mapped_column(String(200), index=True)  # normalised name
    course_name: Mapped[str] = mapped_column(String(200))
    memberships_url: Mapped[str | None] = mapped_column(String(1000))
    lineitems_url: Mapped[str | None] = mapped_column(String(1000))
    ags_scopes: Mapped[str] = mapped_column(Text, default="")  # space-separated
    lineitem_url: Mapped[str | None] = mapped_column(String(1000))  # the "Attendance" item
    grades_on: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    synced_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sync_error: Mapped[str | None] = mapped_column(String(500))


class LtiMemberRow(Base):
    """A member of a linked course as the platform last listed it: the platform's user id,
    the ATTN school number it maps to (None: not known yet) and whether they are still a
    member ("active") or have left ("left")."""

    __tablename__ = "lti_members"

    platform_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("lti_platforms.id", ondelete="CASCADE"), primary_key=True
    )
    context_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    school_number: Mapped[str | None] = mapped_column(String(32))
    full_name: Mapped[str] = mapped_column(String(200), default="")
    learner: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LtiUserRow(Base):
    """A platform's user id and the ATTN account its launches signed in."""

    __tablename__ = "lti_users"

    platform_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("lti_platforms.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    school_number: Mapped[str] = mapped_column(String(32), index=True)


class LtiGradeJobRow(Base):
    """The outbox of grade passback: one row per persisted lesson of a linked course, written
    in the lesson's own transaction and drained by the worker until the platform took the
    scores (`done_at`), with its attempts and the last failure."""

    __tablename__ = "lti_grade_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("lti_platforms.id", ondelete="CASCADE")
    )
    context_id: Mapped[str] = mapped_column(String(255))
    teacher_school_number: Mapped[str] = mapped_column(String(32))
    lesson_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(String(500))
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class LtiScoreRow(Base):
    """The score last accepted by the platform for one member of a linked course: a retried
    or repeated passback sends only what changed."""

    __tablename__ = "lti_scores"

    platform_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("lti_platforms.id", ondelete="CASCADE"), primary_key=True
    )
    context_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    teacher_school_number: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    posted_at: Mapped[datetime] = mapped_column(UtcDateTime)
