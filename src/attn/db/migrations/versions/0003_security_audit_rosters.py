"""security options, record reasons and flags, the audit trail, course rosters

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = "('present', 'late', 'pending', 'rejected', 'excused', 'absent')"


def upgrade() -> None:
    with op.batch_alter_table("lessons") as batch:
        batch.add_column(sa.Column("security", sa.String(64), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("allowed_subnets", sa.String(2000), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("late_after_minutes", sa.Integer(), nullable=True))
    with op.batch_alter_table("attendance_records") as batch:
        batch.alter_column("changed_at", existing_type=sa.DateTime(timezone=True), nullable=True)
        batch.add_column(sa.Column("reason", sa.String(500), nullable=True))
        batch.add_column(sa.Column("flags", sa.String(200), nullable=False, server_default=""))
        batch.add_column(
            sa.Column(
                "written_at",
                sa.DateTime(timezone=True),
                nullable=False,
                server_default=sa.func.current_timestamp(),
            )
        )
    op.execute("UPDATE attendance_records SET changed_at = NULL WHERE changed_by IS NULL")
    op.create_table(
        "attendance_audit",
        sa.Column("lesson_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("student_number", sa.String(32), nullable=False),
        sa.Column("changed_by", sa.String(32), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("old_status", sa.String(16), nullable=True),
        sa.Column("new_status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.CheckConstraint(f"new_status IN {STATUSES}", name="ck_attendance_audit_new_status"),
        sa.CheckConstraint(
            f"old_status IS NULL OR old_status IN {STATUSES}",
            name="ck_attendance_audit_old_status",
        ),
        sa.CheckConstraint(
            "source IN ('teacher', 'verifier', 'system')", name="ck_attendance_audit_source"
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["lessons.lesson_id"],
            name="fk_attendance_audit_lesson_id_lessons",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("lesson_id", "seq", name="pk_attendance_audit"),
    )
    op.create_table(
        "rosters",
        sa.Column("teacher_school_number", sa.String(32), nullable=False),
        sa.Column("course_key", sa.String(200), nullable=False),
        sa.Column("course_name", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["teacher_school_number"],
            ["users.school_number"],
            name="fk_rosters_teacher_school_number_users",
        ),
        sa.PrimaryKeyConstraint("teacher_school_number", "course_key", name="pk_rosters"),
    )
    op.create_table(
        "roster_students",
        sa.Column("teacher_school_number", sa.String(32), nullable=False),
        sa.Column("course_key", sa.String(200), nullable=False),
        sa.Column("student_number", sa.String(32), nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["teacher_school_number", "course_key"],
            ["rosters.teacher_school_number", "rosters.course_key"],
            name="fk_roster_students_teacher_school_number_rosters",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "teacher_school_number", "course_key", "student_number", name="pk_roster_students"
        ),
    )


def downgrade() -> None:
    op.drop_table("roster_students")
    op.drop_table("rosters")
    op.drop_table("attendance_audit")
    with op.batch_alter_table("attendance_records") as batch:
        batch.drop_column("written_at")
        batch.drop_column("flags")
        batch.drop_column("reason")
    with op.batch_alter_table("lessons") as batch:
        batch.drop_column("late_after_minutes")
        batch.drop_column("allowed_subnets")
        batch.drop_column("security")
