"""Creating accounts: one user, or a whole CSV import that lands completely or not at all.

A school number that is taken by an unclaimed student (one first seen on a roster or in an
attendance record, with no password) is claimed instead: as a student, with the password and
name given. A number with a password, or an unclaimed one added with another role, is refused.
An account may be created without a password: it signs in by single sign-on only.

Every account created or claimed gets its audit entry (`attn.db.account_audit`) in the same
transaction, with the actor who made it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attn.db import account_audit, users
from attn.db.tables import UserRow
from attn.errors import InvalidUser, RosterProblem, UserExists
from attn.models import DisplayName, NewAccount, Password, Role
from attn.services.csv_tables import CsvTableError, read_table
from attn.services.passwords import PasswordHasher
from attn.services.validation import first_error

IMPORT_HEADER = ["school_number", "full_name", "role", "password"]
_NAME: TypeAdapter[str] = TypeAdapter(DisplayName)
_PASSWORD: TypeAdapter[str] = TypeAdapter(Password)


def validate_user(**fields: str | None) -> NewAccount:
    try:
        return NewAccount(**fields)
    except ValidationError as exc:
        raise InvalidUser(first_error(exc)) from None


def validate_name(value: str) -> str:
    try:
        return _NAME.validate_python(value)
    except ValidationError as exc:
        raise InvalidUser(f"full_name: {first_error(exc)}") from None


def validate_password(value: str) -> str:
    try:
        return _PASSWORD.validate_python(value)
    except ValidationError as exc:
        raise InvalidUser(f"password: {first_error(exc)}") from None


def account_state(
    *, full_name: str, role: str, active: bool, has_password: bool, sso_provider: str | None
) -> dict[str, Any]:
    """An account as its audit entries show it (never a password or its hash)."""
    return {
        "full_name": full_name,
        "role": role,
        "active": active,
        "has_password": has_password,
        "sso_provider": sso_provider,
    }


def snapshot(row: UserRow) -> dict[str, Any]:
    return account_state(
        full_name=row.full_name,
        role=row.role,
        active=bool(row.active),
        has_password=bool(row.password_hash),
        sso_provider=row.sso_provider,
    )


@dataclass
class ImportCheck:
    """An import file read row by row: the accounts it would create or claim, and what is
    wrong with it (line 0 is the file as a whole)."""

    entries: list[NewAccount] = field(default_factory=list)
    claimed: list[str] = field(default_factory=list)  # school numbers of unclaimed students
    problems: list[RosterProblem] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)  # school number -> its line

    def raise_for_problems(self) -> None:
        if self.problems:
            first = self.problems[0]
            where = f"line {first.line}: " if first.line else ""
            raise InvalidUser(f"{where}{first.message}", problems=self.problems)


def read_import(text: str) -> ImportCheck:
    """Read an import file; every bad row and every duplicate is a problem of its own."""
    check = ImportCheck()
    seen: set[str] = set()
    try:
        for line, row in read_table(text, IMPORT_HEADER, check_width=False):
            if len(row) != len(IMPORT_HEADER):
                message = f"expected {len(IMPORT_HEADER)} columns"
                check.problems.append(RosterProblem(line, "columns", ",".join(row), message))
                continue
            cells = dict(zip(IMPORT_HEADER, row, strict=True))
            number = cells["school_number"].strip()
            try:
                entry = NewAccount(**{**cells, "password": cells["password"] or None})
            except ValidationError as exc:
                check.problems.append(RosterProblem(line, "invalid", number, first_error(exc)))
                continue
            if entry.school_number in seen:
                message = f"{entry.school_number} appears twice"
                check.problems.append(RosterProblem(line, "duplicate", number, message))
                continue
            seen.add(entry.school_number)
            check.entries.append(entry)
            check.lines[entry.school_number] = line
    except CsvTableError as exc:
        check.problems.append(RosterProblem(0, "header", "", str(exc)))
        return check
    if not check.entries and not check.problems:
        check.problems.append(RosterProblem(0, "empty", "", "the file has no users"))
    return check


def parse_import(text: str) -> list[NewAccount]:
    """The accounts of an import file; InvalidUser (every problem listed) when any is bad."""
    check = read_import(text)
    check.raise_for_problems()
    return check.entries


async def check_import(*, db: async_sessionmaker[AsyncSession], text: str) -> ImportCheck:
    """`read_import`, and each row's account looked up: a taken number is a problem, an
    unclaimed student's is claimed."""
    check = read_import(text)
    numbers = [entry.school_number for entry in check.entries]
    async with db() as session:
        existing = await users.get_users(session=session, school_numbers=numbers)
    for entry in check.entries:
        number = entry.school_number
        try:
            if _claimable(entry, existing.get(number)):
                check.claimed.append(number)
        except UserExists as exc:
            check.problems.append(RosterProblem(check.lines[number], "exists", number, exc.message))
    check.problems.sort(key=lambda problem: problem.line)
    return check


async def add_users(
    *,
    db: async_sessionmaker[AsyncSession],
    hasher: PasswordHasher,
    entries: Sequence[NewAccount],
    actor: str,
    at: datetime,
    action: str = "create",
) -> list[str]:
    """Create (or claim) every account in one transaction, or none when any is taken, each
    with its audit entry by `actor`.

    Returns the school numbers that were claimed rather than created.
    """
    numbers = [entry.school_number for entry in entries]
    async with db() as session:
        existing = await users.get_users(session=session, school_numbers=numbers)
    claimed = [_claimable(entry, existing.get(entry.school_number)) for entry in entries]

    async def hashed(password: str | None) -> str:
        return "" if password is None else await hasher.hash(password)

    hashes = await asyncio.gather(*(hashed(entry.password) for entry in entries))
    new_users = [
        users.NewUser(entry.school_number, entry.full_name, entry.role.value, password_hash)
        for entry, password_hash in zip(entries, hashes, strict=True)
    ]
    try:
        async with db() as session, session.begin():
            fresh = [user for user, claim in zip(new_users, claimed, strict=True) if not claim]
            await users.add_users(session=session, users=fresh)
            for user, claim in zip(new_users, claimed, strict=True):
                before = snapshot(existing[user.school_number]) if claim else None
                if claim and not await users.claim_user(session=session, user=user):
                    raise UserExists(f"user {user.school_number} already exists")
                await account_audit.record(
                    session=session,
                    at=at,
                    actor=actor,
                    action=action,
                    target=user.school_number,
                    before=before,
                    after=account_state(
                        full_name=user.full_name,
                        role=user.role,
                        active=True,
                        has_password=bool(user.password_hash),
                        sso_provider=None,
                    ),
                )
    except IntegrityError:
        raise UserExists("a user in the list already exists") from None
    return [user.school_number for user, claim in zip(new_users, claimed, strict=True) if claim]


def _claimable(entry: NewAccount, account: UserRow | None) -> bool:
    """Whether the entry claims an unclaimed student; False for a free number; UserExists
    when the number is taken."""
    if account is None:
        return False
    if not account.unclaimed:
        raise UserExists(f"user {entry.school_number} already exists")
    if account.role != "student" or entry.role is not Role.STUDENT:
        raise UserExists(
            f"user {entry.school_number} already exists as a student without a password; "
            "add it with the role student to claim it"
        )
    return True
