"""User accounts in SQL. Keyword-only functions over an `AsyncSession`; callers commit.

An account without a password hash is unclaimed: a student first seen on a roster or in an
attendance record, who cannot sign in until `attn users add` (or `import`) claims it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from attn.db.engine import insert_into
from attn.db.tables import UserRow
from attn.models import fold_name, utc_now


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


async def get_users(*, session: AsyncSession, school_numbers: Sequence[str]) -> dict[str, UserRow]:
    """The accounts of these school numbers that exist, by school number."""
    if not school_numbers:
        return {}
    rows = await session.scalars(
        select(UserRow).where(UserRow.school_number.in_(list(school_numbers)))
    )
    return {row.school_number: row for row in rows}


async def claim_user(*, session: AsyncSession, user: NewUser) -> bool:
    """Give an unclaimed account its password, name and role; False when it has been
    claimed (or is gone) meanwhile."""
    result = await session.execute(
        update(UserRow)
        .where(UserRow.school_number == user.school_number, UserRow.password_hash == "")
        .values(
            full_name=user.full_name,
            name_folded=fold_name(user.full_name),
            role=user.role,
            password_hash=user.password_hash,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


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


async def signed_in(
    *, session: AsyncSession, school_number: str, at: datetime, password_hash: str | None
) -> None:
    """Note a password sign-in (and its password's new hash, when it was rehashed)."""
    values: dict[str, object] = {"last_login_at": at}
    if password_hash is not None:
        values["password_hash"] = password_hash
    await session.execute(
        update(UserRow).where(UserRow.school_number == school_number).values(**values)
    )


async def create_external_user(
    *, session: AsyncSession, user: NewUser, provider: str, at: datetime
) -> UserRow:
    """Create the account of a user an identity provider vouched for (no password), or, when a
    concurrent sign-in created it first, return that one."""
    statement = insert_into(session, UserRow).values(
        school_number=user.school_number,
        full_name=user.full_name,
        role=user.role,
        password_hash=user.password_hash,
        created_at=at,
        last_login_at=at,
        sso_provider=provider,
    )
    await session.execute(statement.on_conflict_do_nothing(index_elements=["school_number"]))
    row = await session.get(UserRow, user.school_number, populate_existing=True)
    assert row is not None
    return row


async def signed_in_externally(
    *, session: AsyncSession, user: UserRow, provider: str, full_name: str, at: datetime
) -> UserRow:
    """Note an identity provider's sign-in of an existing account; its name for the user, when
    it gives one, becomes the account's."""
    user.last_login_at = at
    user.sso_provider = provider
    if full_name and full_name != user.full_name:
        user.full_name = full_name
        user.name_folded = fold_name(full_name)
    await session.flush()
    return user
