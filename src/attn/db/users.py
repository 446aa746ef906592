"""User accounts in SQL. Keyword-only functions over an `AsyncSession`; callers commit.

An unclaimed account is a student first seen on a roster or in an attendance record, who
cannot sign in until `attn users add` (or an import, or an administrator) claims it, or, when
single sign-on is set up, until they sign in through it. An account an administrator made
without a password is claimed: it signs in by single sign-on only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from attn.db.engine import insert_into
from attn.db.tables import UserRow
from attn.models import searchable_name, utc_now


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
        .where(UserRow.school_number == user.school_number, UserRow.unclaimed.is_(True))
        .values(
            unclaimed=False,
            full_name=user.full_name,
            name_folded=searchable_name(user.full_name),
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
    user.unclaimed = False
    if full_name and full_name != user.full_name:
        rename(user, full_name)
    await session.flush()
    return user


def _like_escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def find_users(
    *,
    session: AsyncSession,
    words: Sequence[str],
    number_prefix: str,
    role: str | None,
    active: bool | None,
    limit: int,
    offset: int,
) -> list[UserRow]:
    """Accounts whose school number starts with `number_prefix` or whose name has a word
    starting with each of `words` (folded, as `searchable_name` keeps them), by school number.
    No words and no prefix: every account."""
    statement = select(UserRow)
    matches: list[ColumnElement[bool]] = []
    if number_prefix:
        matches.append(
            func.lower(UserRow.school_number).like(
                _like_escaped(number_prefix.lower()) + "%", escape="\\"
            )
        )
    if words:
        spaced = " " + UserRow.name_folded
        matches.append(
            and_(*(spaced.like(f"% {_like_escaped(word)}%", escape="\\") for word in words))
        )
    if matches:
        statement = statement.where(or_(*matches))
    if role is not None:
        statement = statement.where(UserRow.role == role)
    if active is not None:
        statement = statement.where(UserRow.active.is_(active))
    statement = statement.order_by(UserRow.school_number).limit(limit).offset(offset)
    return list(await session.scalars(statement))


async def lock_active_admins(*, session: AsyncSession) -> None:
    """On PostgreSQL, lock the active administrators' rows until the transaction ends, so that
    two administrators demoting each other at once cannot leave none (SQLite's writers take
    turns anyway)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            select(UserRow.school_number)
            .where(UserRow.role == "admin", UserRow.active.is_(True))
            .with_for_update()
        )


async def count_active_admins(*, session: AsyncSession) -> int:
    statement = select(func.count()).where(UserRow.role == "admin", UserRow.active.is_(True))
    return int(await session.scalar(statement) or 0)


async def get_user_for_update(*, session: AsyncSession, school_number: str) -> UserRow | None:
    return await session.get(UserRow, school_number, with_for_update=True, populate_existing=True)


def rename(user: UserRow, full_name: str) -> None:
    """Give an account a new name (and the search form of it)."""
    user.full_name = full_name
    user.name_folded = searchable_name(full_name)
