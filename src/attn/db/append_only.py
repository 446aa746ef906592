"""The database's own guard of the admin audit: updates and deletes of its rows are refused.

The migration creates it; a test that empties the tables lifts it for the moment (`lift`).
"""

from __future__ import annotations

TABLE = "admin_audit"


def guard_statements(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [
            "CREATE FUNCTION admin_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'admin_audit is append-only'; END $$",
            "CREATE TRIGGER admin_audit_append_only BEFORE UPDATE OR DELETE ON admin_audit "
            "FOR EACH ROW EXECUTE FUNCTION admin_audit_append_only()",
        ]
    return [
        f"CREATE TRIGGER admin_audit_no_{event.lower()} BEFORE {event} ON admin_audit "
        "BEGIN SELECT RAISE(ABORT, 'admin_audit is append-only'); END"
        for event in ("UPDATE", "DELETE")
    ]


def lift_statements(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [
            "DROP TRIGGER IF EXISTS admin_audit_append_only ON admin_audit",
            "DROP FUNCTION IF EXISTS admin_audit_append_only()",
        ]
    return [f"DROP TRIGGER IF EXISTS admin_audit_no_{e} " for e in ("update", "delete")]
