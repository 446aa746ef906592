"""history: finished lessons and their attendance records

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lessons",
        sa.Column("lesson_id", sa.String(32), nullable=False),
        sa.Column("lesson_name", sa.String(200), nullable=False),
        sa.Column("teacher_school_number", sa.String(32), nullable=False),
        sa.Column("teacher_full_name", sa.String(200), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("redis_version", sa.BigInteger(), nullable=False),
        sa.Column("persisted_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('active', 'finished')", name="ck_lessons_status"),
        sa.CheckConstraint("end_time >= start_time", name="ck_lessons_time_order"),
        sa.ForeignKeyConstraint(
            ["teacher_school_number"],
            ["users.school_number"],
            name="fk_lessons_teacher_school_number_users",
        ),
        sa.PrimaryKeyConstraint("lesson_id", name="pk_lessons"),
    )
    op.create_index("ix_lessons_teacher_start", "lessons", ["teacher_school_number", "start_time"])
    op.create_table(
        "attendance_records",
        sa.Column("lesson_id", sa.String(32), nullable=False),
        sa.Column("student_number", sa.String(32), nullable=False),
        sa.Column("student_full_name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attendance_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changed_by", sa.String(32), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('present', 'late', 'pending', 'rejected', 'excused', 'absent')",
            name="ck_attendance_records_status",
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["lessons.lesson_id"],
            name="fk_attendance_records_lesson_id_lessons",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_number"],
            ["users.school_number"],
            name="fk_attendance_records_student_number_users",
        ),
        sa.PrimaryKeyConstraint("lesson_id", "student_number", name="pk_attendance_records"),
    )
    op.create_index("ix_attendance_records_student", "attendance_records", ["student_number"])
    op.create_index(
        "ix_attendance_records_lesson_time", "attendance_records", ["lesson_id", "attendance_time"]
    )


def downgrade() -> None:
    op.drop_table("attendance_records")
    op.drop_table("lessons")
