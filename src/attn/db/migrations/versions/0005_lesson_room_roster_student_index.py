"""a lesson's room or section; roster entries found by student

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lessons") as batch:
        batch.add_column(sa.Column("room", sa.String(100), nullable=True))
    op.create_index("ix_roster_students_student", "roster_students", ["student_number"])


def downgrade() -> None:
    op.drop_index("ix_roster_students_student", table_name="roster_students")
    with op.batch_alter_table("lessons") as batch:
        batch.drop_column("room")
