"""Creating accounts: one user, or a whole CSV import that lands completely or not at all."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attn.db import users
from attn.errors import InvalidUser, UserExists
from attn.models import NewAccount
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
) -> None:
    """Create every account in one transaction, or none when any already exists."""
    async with db() as session:
        taken = await users.existing_school_numbers(
            session=session, school_numbers=[entry.school_number for entry in entries]
        )
    if taken:
        raise UserExists(f"user {sorted(taken)[0]} already exists")
    hashes = await asyncio.gather(*(hasher.hash(entry.password) for entry in entries))
    new_users = [
        users.NewUser(entry.school_number, entry.full_name, entry.role.value, password_hash)
        for entry, password_hash in zip(entries, hashes, strict=True)
    ]
    try:
        async with db() as session, session.begin():
            await users.add_users(session=session, users=new_users)
    except IntegrityError:
        raise UserExists("a user in the list already exists") from None
