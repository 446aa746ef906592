"""Creating accounts: one user, or a whole CSV import that lands completely or not at all."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Sequence

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attn.db import users
from attn.errors import InvalidUser, UserExists
from attn.models import UserIn
from attn.services.passwords import PasswordHasher

IMPORT_HEADER = ["school_number", "full_name", "role", "password"]


def _describe(exc: ValidationError) -> str:
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"]) or "row"
    return f"{field}: {error['msg']}"


def validate_user(**fields: str) -> UserIn:
    try:
        return UserIn(**fields)
    except ValidationError as exc:
        raise InvalidUser(_describe(exc)) from None


def parse_import(text: str) -> list[UserIn]:
    """Parse an import file; any bad row or duplicate makes the whole file invalid."""
    try:
        return _parse_import(text)
    except csv.Error as exc:
        raise InvalidUser(f"the file is not valid CSV: {exc}") from None


def _parse_import(text: str) -> list[UserIn]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or [column.strip().lstrip("\ufeff") for column in header] != IMPORT_HEADER:
        raise InvalidUser(f"the first line must be the header {','.join(IMPORT_HEADER)}")
    entries: list[UserIn] = []
    seen: set[str] = set()
    for line_number, row in enumerate(reader, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(IMPORT_HEADER):
            raise InvalidUser(f"line {line_number}: expected {len(IMPORT_HEADER)} columns")
        try:
            entry = UserIn(**dict(zip(IMPORT_HEADER, row, strict=True)))
        except ValidationError as exc:
            raise InvalidUser(f"line {line_number}: {_describe(exc)}") from None
        if entry.school_number in seen:
            raise InvalidUser(f"line {line_number}: {entry.school_number} appears twice")
        seen.add(entry.school_number)
        entries.append(entry)
    if not entries:
        raise InvalidUser("the file has no users")
    return entries


async def add_users(
    *, db: async_sessionmaker[AsyncSession], hasher: PasswordHasher, entries: Sequence[UserIn]
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
