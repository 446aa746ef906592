"""Creating accounts: one user, or a whole CSV import that lands completely or not at all.

A school number that is taken by an unclaimed student (one first seen on a roster or in an
attendance record, with no password) is claimed instead: as a student, with the password and
name given. A number with a password, or an unclaimed one added with another role, is refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attn.db import users
from attn.db.tables import UserRow
from attn.errors import InvalidUser, UserExists
from attn.models import NewAccount, Role
from attn.services.csv_tables import CsvTableError, read_table
from attn.services.passwords import PasswordHasher
from attn.services.validation import first_error

IMPORT_HEADER = ["school_number", "full_name", "role", "password"]


def validate_user(**fields: str) -> NewAccount:
    try:
        return NewAccount(**fields)
    except ValidationError as exc:
        raise InvalidUser(first_error(exc)) from None


def parse_import(text: str) -> list[NewAccount]:
    """Parse an import file; any bad row or duplicate makes the whole file invalid."""
    entries: list[NewAccount] = []
    seen: set[str] = set()
    try:
        for line_number, row in read_table(text, IMPORT_HEADER):
            try:
                entry = NewAccount(**dict(zip(IMPORT_HEADER, row, strict=True)))
            except ValidationError as exc:
                raise InvalidUser(f"line {line_number}: {first_error(exc)}") from None
            if entry.school_number in seen:
                raise InvalidUser(f"line {line_number}: {entry.school_number} appears twice")
            seen.add(entry.school_number)
            entries.append(entry)
    except CsvTableError as exc:
        raise InvalidUser(str(exc)) from None
    if not entries:
        raise InvalidUser("the file has no users")
    return entries


async def add_users(
    *, db: async_sessionmaker[AsyncSession], hasher: PasswordHasher, entries: Sequence[NewAccount]
) -> list[str]:
    """Create (or claim) every account in one transaction, or none when any is taken.

    Returns the school numbers that were claimed rather than created.
    """
    numbers = [entry.school_number for entry in entries]
    async with db() as session:
        existing = await users.get_users(session=session, school_numbers=numbers)
    claimed = [_claimable(entry, existing.get(entry.school_number)) for entry in entries]
    hashes = await asyncio.gather(*(hasher.hash(entry.password) for entry in entries))
    new_users = [
        users.NewUser(entry.school_number, entry.full_name, entry.role.value, password_hash)
        for entry, password_hash in zip(entries, hashes, strict=True)
    ]
    try:
        async with db() as session, session.begin():
            fresh = [user for user, claim in zip(new_users, claimed, strict=True) if not claim]
            await users.add_users(session=session, users=fresh)
            for user, claim in zip(new_users, claimed, strict=True):
                if claim and not await users.claim_user(session=session, user=user):
                    raise UserExists(f"user {user.school_number} already exists")
    except IntegrityError:
        raise UserExists("a user in the list already exists") from None
    return [user.school_number for user, claim in zip(new_users, claimed, strict=True) if claim]


def _claimable(entry: NewAccount, account: UserRow | None) -> bool:
    """Whether the entry claims an unclaimed student; False for a free number; UserExists
    when the number is taken."""
    if account is None:
        return False
    if account.password_hash:
        raise UserExists(f"user {entry.school_number} already exists")
    if account.role != "student" or entry.role is not Role.STUDENT:
        raise UserExists(
            f"user {entry.school_number} already exists as a student without a password; "
            "add it with the role student to claim it"
        )
    return True
