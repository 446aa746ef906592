"""accounts an administrator manages: active, last sign-in, single sign-on, a folded name to
search; the append-only admin audit

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from attn.db import append_only
from attn.models import searchable_name

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("name_folded", sa.String(400), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(sa.Column("last_login_at", _UTC, nullable=True))
        batch.add_column(sa.Column("sso_provider", sa.String(16), nullable=True))
        batch.add_column(
            sa.Column("unclaimed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    users = sa.table(
        "users", sa.column("school_number"), sa.column("full_name"), sa.column("name_folded")
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(users.c.school_number, users.c.full_name)).all()
    for number, name in rows:
        connection.execute(
            users.update()
            .where(users.c.school_number == number)
            .values(name_folded=searchable_name(name))
        )
    op.create_index("ix_users_name_folded", "users", ["name_folded"])
    # an account without a password was one known only from a roster or a record
    op.execute("UPDATE users SET unclaimed = true WHERE password_hash = ''")

    op.create_table(
        "admin_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(32), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_admin_audit"),
    )
    op.create_index("ix_admin_audit_at", "admin_audit", ["at"])
    op.create_index("ix_admin_audit_target", "admin_audit", ["target"])
    for statement in append_only.guard_statements(connection.dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in append_only.lift_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table("admin_audit")
    op.drop_index("ix_users_name_folded", table_name="users")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("unclaimed")
        batch.drop_column("sso_provider")
        batch.drop_column("last_login_at")
        batch.drop_column("active")
        batch.drop_column("name_folded")
