"""The async SQLAlchemy engine and session factory for PostgreSQL (asyncpg) or SQLite."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def create_engine(
    url: str,
    *,
    statement_timeout: float | None = None,
    lock_timeout: float | None = None,
    **kwargs: Any,
) -> AsyncEngine:
    """An engine for an async URL (see `attn.config.to_async_database_url`).

    On PostgreSQL, `statement_timeout` and `lock_timeout` (seconds) bound every statement of
    its sessions, so a request behind a held lock fails (503) instead of waiting for it.
    """
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    server_settings = {}
    if statement_timeout is not None:
        server_settings["statement_timeout"] = str(int(statement_timeout * 1000))
    if lock_timeout is not None:
        server_settings["lock_timeout"] = str(int(lock_timeout * 1000))
    return create_async_engine(
        url,
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=True,
        connect_args={"server_settings": server_settings},
        **kwargs,
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def dialect_insert(session: AsyncSession) -> Any:
    """The INSERT construct of the session's dialect (for ON CONFLICT)."""
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def insert_into(session: AsyncSession, model: Any) -> Any:
    """A Core INSERT of the model's table in the session's dialect (no ORM row handling)."""
    return dialect_insert(session)(model.__table__)
