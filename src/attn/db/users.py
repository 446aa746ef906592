"""User accounts in SQL. Keyword-only functions over an `AsyncSession`; callers commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from attn.db.tables import UserRow
from attn.models import utc_now


@dataclass(frozen=True, slots=True)
class NewUser:
    school_number: str
    full_name: str
    role: str
    password_hash: str


async def get_user(*, session: AsyncSession, school_number: str) -> UserRow | None:
    return await session.get(UserRow, school_number)


async def probe(*, session: AsyncSession, budget_ms: int) -> None:
    """Read one account as a login would, within `budget_ms` on PostgreSQL (where a lock on
    the table would otherwise keep the read waiting): what readiness means for logins."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(f"SET LOCAL statement_timeout = {int(budget_ms)}"))
    await session.execute(select(UserRow.school_number).limit(1))


async def count_users(*, session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(UserRow)) or 0)


async def existing_school_numbers(
    *, session: AsyncSession, school_numbers: Sequence[str]
) -> set[str]:
    rows = await session.scalars(
        select(UserRow.school_number).where(UserRow.school_number.in_(list(school_numbers)))
    )
    return set(rows)


async def add_users(*, session: AsyncSession, users: Sequence[NewUser]) -> None:
    """Add new accounts; a duplicate school number fails the caller's transaction."""
    now = utc_now()
    session.add_all(
        UserRow(
            school_number=user.school_number,
            full_name=user.full_name,
            role=user.role,
            password_hash=user.password_hash,
            created_at=now,
        )
        for user in users
    )
    await session.flush()


async def set_password_hash(
    *, session: AsyncSession, school_number: str, password_hash: str
) -> None:
    await session.execute(
        update(UserRow)
        .where(UserRow.school_number == school_number)
        .values(password_hash=password_hash)
    )
