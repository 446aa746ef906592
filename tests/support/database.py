"""The test's SQL database: where it is, emptying it, and reading it back in plain SQL.

The synchronous readers are for tests that drive the `attn` command in subprocesses and have
no running app (or event loop) of their own.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from attn.db import append_only
from attn.db.engine import create_engine
from attn.db.tables import Base


@dataclass(frozen=True)
class Database:
    url: str  # as a user would configure it
    async_url: str


async def empty_tables(database: Database) -> None:
    """Delete every row, children first; the schema stays."""
    engine = create_engine(database.async_url)
    try:
        async with engine.begin() as connection:
            dialect = connection.dialect.name
            for statement in append_only.lift_statements(dialect):
                await connection.execute(text(statement))
            for table in reversed(Base.metadata.sorted_tables):
                await connection.execute(text(f"DELETE FROM {table.name}"))
            for statement in append_only.guard_statements(dialect):
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def _query(database: Database, statement: str, **params: Any) -> list[Any]:
    engine = create_engine(database.async_url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(text(statement), params)).all())
    finally:
        await engine.dispose()


def sql(database: Database, statement: str, **params: Any) -> list[Any]:
    return asyncio.run(_query(database, statement, **params))


def user_count(database: Database) -> int:
    return int(sql(database, "SELECT count(*) FROM users")[0][0])


def users_by_number(database: Database) -> dict[str, tuple[str, str, str]]:
    rows = sql(database, "SELECT school_number, full_name, role, password_hash FROM users")
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def password_hash(database: Database, school_number: str) -> str:
    rows = sql(
        database,
        "SELECT password_hash FROM users WHERE school_number = :number",
        number=school_number,
    )
    assert len(rows) == 1, rows
    return str(rows[0][0])
