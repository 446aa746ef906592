"""course settings: each status's weight in a course's attendance rate

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "course_settings",
        sa.Column("teacher_school_number", sa.String(32), nullable=False),
        sa.Column("course_key", sa.String(200), nullable=False),
        sa.Column("weight_present", sa.Float(), nullable=False),
        sa.Column("weight_late", sa.Float(), nullable=True),
        sa.Column("weight_pending", sa.Float(), nullable=True),
        sa.Column("weight_excused", sa.Float(), nullable=True),
        sa.Column("weight_rejected", sa.Float(), nullable=True),
        sa.Column("weight_absent", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["teacher_school_number"],
            ["users.school_number"],
            name="fk_course_settings_teacher_school_number_users",
        ),
        sa.PrimaryKeyConstraint("teacher_school_number", "course_key", name="pk_course_settings"),
    )


def downgrade() -> None:
    op.drop_table("course_settings")
