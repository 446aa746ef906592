"""Server-level PostgreSQL statements: create and drop whole databases.

Used to give the test suite and the benchmarks a scratch database of their own on a shared
server.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


async def _execute(server_url: str, statement: str) -> None:
    import asyncpg

    parts = urlsplit(server_url)
    connection = await asyncpg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        database=parts.path.lstrip("/") or "postgres",
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def create_database(server_url: str, name: str) -> str:
    """Create database `name` on the server of `server_url`; returns its URL."""
    await _execute(server_url, f'CREATE DATABASE "{name}"')
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


async def drop_database(server_url: str, name: str) -> None:
    await _execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
