"""LTI 1.3: registered platforms, the tool's signing keys, linked courses, their members, the
platforms' users, the grade passback outbox and the scores the platforms accepted

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = sa.DateTime(timezone=True)


def _platform_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["platform_id"],
        ["lti_platforms.id"],
        name=f"fk_{table}_platform_id_lti_platforms",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "lti_platforms",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("issuer", sa.String(255), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("auth_login_url", sa.String(1000), nullable=False),
        sa.Column("auth_token_url", sa.String(1000), nullable=False),
        sa.Column("auth_audience", sa.String(1000), nullable=True),
        sa.Column("keyset_url", sa.String(1000), nullable=False),
        sa.Column("deployment_ids", sa.Text(), nullable=False),
        sa.Column("frame_origins", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("created_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_lti_platforms"),
        sa.UniqueConstraint("issuer", "client_id", name="uq_lti_platforms_client"),
    )
    op.create_table(
        "lti_tool_keys",
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("retired_at", _UTC, nullable=True),
        sa.PrimaryKeyConstraint("kid", name="pk_lti_tool_keys"),
    )
    op.create_table(
        "lti_courses",
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.String(255), nullable=False),
        sa.Column("teacher_school_number", sa.String(32), nullable=False),
        sa.Column("course_key", sa.String(200), nullable=False),
        sa.Column("course_name", sa.String(200), nullable=False),
        sa.Column("memberships_url", sa.String(1000), nullable=True),
        sa.Column("lineitems_url", sa.String(1000), nullable=True),
        sa.Column("ags_scopes", sa.Text(), nullable=False),
        sa.Column("lineitem_url", sa.String(1000), nullable=True),
        sa.Column("grades_on", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("synced_at", _UTC, nullable=True),
        sa.Column("sync_error", sa.String(500), nullable=True),
        _platform_fk("lti_courses"),
        sa.ForeignKeyConstraint(
            ["teacher_school_number"],
            ["users.school_number"],
            name="fk_lti_courses_teacher_school_number_users",
        ),
        sa.PrimaryKeyConstraint(
            "platform_id", "context_id", "teacher_school_number", name="pk_lti_courses"
        ),
    )
    op.create_index("ix_lti_courses_course_key", "lti_courses", ["course_key"])
    op.create_table(
        "lti_members",
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.String(255), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("school_number", sa.String(32), nullable=True),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("learner", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("changed_at", _UTC, nullable=False),
        _platform_fk("lti_members"),
        sa.PrimaryKeyConstraint("platform_id", "context_id", "user_id", name="pk_lti_members"),
    )
    op.create_table(
        "lti_users",
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("school_number", sa.String(32), nullable=False),
        _platform_fk("lti_users"),
        sa.PrimaryKeyConstraint("platform_id", "user_id", name="pk_lti_users"),
    )
    op.create_index("ix_lti_users_school_number", "lti_users", ["school_number"])
    op.create_table(
        "lti_grade_jobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.String(255), nullable=False),
        sa.Column("teacher_school_number", sa.String(32), nullable=False),
        sa.Column("lesson_id", sa.String(32), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _UTC, nullable=False),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("done_at", _UTC, nullable=True),
        _platform_fk("lti_grade_jobs"),
        sa.PrimaryKeyConstraint("id", name="pk_lti_grade_jobs"),
    )
    op.create_index("ix_lti_grade_jobs_next_attempt_at", "lti_grade_jobs", ["next_attempt_at"])
    op.create_table(
        "lti_scores",
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.String(255), nullable=False),
        sa.Column("teacher_school_number", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("posted_at", _UTC, nullable=False),
        _platform_fk("lti_scores"),
        sa.PrimaryKeyConstraint(
            "platform_id", "context_id", "teacher_school_number", "user_id", name="pk_lti_scores"
        ),
    )


def downgrade() -> None:
    op.drop_table("lti_scores")
    op.drop_index("ix_lti_grade_jobs_next_attempt_at", table_name="lti_grade_jobs")
    op.drop_table("lti_grade_jobs")
    op.drop_index("ix_lti_users_school_number", table_name="lti_users")
    op.drop_table("lti_users")
    op.drop_table("lti_members")
    op.drop_index("ix_lti_courses_course_key", table_name="lti_courses")
    op.drop_table("lti_courses")
    op.drop_table("lti_tool_keys")
    op.drop_table("lti_platforms")
