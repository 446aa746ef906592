"""What an administrator does with accounts: find them, create one, change one (its name, role,
password, or whether it is active), import many, and read the audit of every such change.

Every change writes its audit entry (who, when, what, the account before and after; never a
password or its hash) in the transaction of the change itself, so neither lands without the
other. The `attn users` commands go through here too, as the actor `cli`.

Deactivating an account, changing its role or setting its password ends its session and its
remembered devices at once (`auth.end_sessions`): before the change is committed, so that a
failing store leaves nothing signed in, and again after it, for a sign-in that looked at the
account in between. The last active administrator can neither be deactivated nor lose the
role (LastAdmin); on PostgreSQL the active administrators' rows are locked for the check, so
two administrators demoting each other at once cannot both succeed.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from attn.db import account_audit, users
from attn.db.tables import AdminAuditRow, UserRow
from attn.errors import LastAdmin, UserNotFound
from attn.models import SCHOOL_NUMBER_PATTERN, Role, name_words
from attn.services import accounts, auth
from attn.services.accounts import ImportCheck
from attn.services.context import ServiceContext

CLI_ACTOR = "cli"
SEARCH_LIMIT_MAX = 200
# one-time passwords: 12 characters of an alphabet without look-alikes (no 0/O, 1/l/I)
_OTP_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_OTP_LENGTH = 12
_SCHOOL_NUMBER_RE = re.compile(SCHOOL_NUMBER_PATTERN)


@dataclass(frozen=True, slots=True)
class Account:
    """An account as an administrator sees it (never its password hash)."""

    school_number: str
    full_name: str
    role: Role
    active: bool
    has_password: bool
    sso: bool
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, row: UserRow) -> Account:
        return cls(
            school_number=row.school_number,
            full_name=row.full_name,
            role=Role(row.role),
            active=bool(row.active),
            has_password=bool(row.password_hash),
            sso=row.sso_provider is not None,
            created_at=row.created_at,
            last_login_at=row.last_login_at,
        )


@dataclass(frozen=True, slots=True)
class AccountChanges:
    """What to change of an account; None leaves it as it is."""

    full_name: str | None = None
    role: Role | None = None
    active: bool | None = None
    password: str | None = None

    @property
    def ends_sessions(self) -> bool:
        return self.role is not None or self.active is False or self.password is not None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str  # create, update, import
    target: str
    before: str | None  # the account before, as JSON (None for a new one)
    after: str | None
    id: int = 0  # grows with every entry: the newest of an account tells a change apart

    @classmethod
    def of(cls, row: AdminAuditRow) -> AuditEntry:
        return cls(row.at, row.actor, row.action, row.target, row.before, row.after, row.id)


def one_time_password() -> str:
    """A password to give a user once, by word of mouth or on paper (about 70 bits)."""
    return "".join(secrets.choice(_OTP_ALPHABET) for _ in range(_OTP_LENGTH))


def _number_prefix(query: str) -> str:
    """The query, when it could be (the start of) a school number; else ""."""
    return query if _SCHOOL_NUMBER_RE.fullmatch(query) else ""


async def find_accounts(
    ctx: ServiceContext,
    *,
    query: str = "",
    role: Role | None = None,
    active: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Account]:
    """Accounts by school number prefix or by name words (Turkish letters folded, each word a
    prefix of a word of the name), of a role and activity when given, by school number."""
    query = query.strip()
    words, number_prefix = name_words(query), _number_prefix(query)
    if query and not words and not number_prefix:
        return []  # nothing a name or a number could match
    async with ctx.db() as session:
        rows = await users.find_users(
            session=session,
            words=words,
            number_prefix=number_prefix,
            role=None if role is None else role.value,
            active=active,
            limit=min(max(limit, 1), SEARCH_LIMIT_MAX),
            offset=max(offset, 0),
        )
    return [Account.of(row) for row in rows]


async def get_account(ctx: ServiceContext, school_number: str) -> Account:
    async with ctx.db() as session:
        row = await users.get_user(session=session, school_number=school_number)
    if row is None:
        raise UserNotFound
    return Account.of(row)


async def create_account(
    ctx: ServiceContext,
    *,
    actor: str,
    school_number: str,
    full_name: str,
    role: Role,
    password: str | None,
) -> Account:
    """Create one account (or claim a student known only from a roster); UserExists when
    the number is taken. Without a password the account signs in only by single sign-on."""
    entry = accounts.validate_user(
        school_number=school_number, full_name=full_name, role=role.value, password=password
    )
    await accounts.add_users(
        db=ctx.db, hasher=ctx.hasher, entries=[entry], actor=actor, at=ctx.now()
    )
    return await get_account(ctx, entry.school_number)


async def change_account(
    ctx: ServiceContext, *, actor: str, school_number: str, changes: AccountChanges
) -> Account:
    """Change an account; UserNotFound, or LastAdmin when it would leave no active admin."""
    if changes.full_name is not None:
        changes = AccountChanges(
            accounts.validate_name(changes.full_name),
            changes.role,
            changes.active,
            changes.password,
        )
    new_hash = None
    if changes.password is not None:
        new_hash = await ctx.hasher.hash(accounts.validate_password(changes.password))
    if changes.ends_sessions:
        # refused before anything ends when it is bound to be (the check is made again,
        # under lock, in the change's transaction)
        async with ctx.db() as session:
            row = await users.get_user(session=session, school_number=school_number)
            if row is None:
                raise UserNotFound
            if _demotes(row, changes) and await users.count_active_admins(session=session) <= 1:
                raise LastAdmin
        await auth.end_sessions(ctx, school_number)
    async with ctx.db() as session, session.begin():
        await users.lock_active_admins(session=session)
        row = await users.get_user_for_update(session=session, school_number=school_number)
        if row is None:
            raise UserNotFound
        before = accounts.snapshot(row)
        demoted = _demotes(row, changes)
        if changes.full_name is not None:
            users.rename(row, changes.full_name)
        if changes.role is not None:
            row.role = changes.role.value
        if changes.active is not None:
            row.active = changes.active
        if new_hash is not None:
            row.password_hash = new_hash
        await session.flush()
        if demoted and await users.count_active_admins(session=session) == 0:
            raise LastAdmin
        after = accounts.snapshot(row)
        if new_hash is not None:
            after["password"] = "set"  # noqa: S105 - a marker that it changed, not a password
        if after != before:
            await account_audit.record(
                session=session,
                at=ctx.now(),
                actor=actor,
                action="update",
                target=school_number,
                before=before,
                after=after,
            )
        account = Account.of(row)
    if changes.ends_sessions:
        await auth.end_sessions(ctx, school_number)
    return account


def _demotes(row: UserRow, changes: AccountChanges) -> bool:
    """Whether the change takes an active administrator's role or activity away."""
    active_admin = row.role == Role.ADMIN and row.active
    role = changes.role.value if changes.role is not None else row.role
    active = changes.active if changes.active is not None else row.active
    return active_admin and not (role == Role.ADMIN and active)


async def check_import(ctx: ServiceContext, text: str) -> ImportCheck:
    """What an import of this CSV would do, row by row, without doing it."""
    return await accounts.check_import(db=ctx.db, text=text)


async def import_accounts(ctx: ServiceContext, *, actor: str, text: str) -> ImportCheck:
    """Create (or claim) every account of the CSV in one transaction, or none when any row is
    bad or taken (InvalidUser, with every bad row among its problems)."""
    check = await accounts.check_import(db=ctx.db, text=text)
    check.raise_for_problems()
    await accounts.add_users(
        db=ctx.db,
        hasher=ctx.hasher,
        entries=check.entries,
        actor=actor,
        at=ctx.now(),
        action="import",
    )
    return check


async def audit_log(
    ctx: ServiceContext, *, target: str | None = None, limit: int = 50, offset: int = 0
) -> Sequence[AuditEntry]:
    async with ctx.db() as session:
        rows = await account_audit.entries(
            session=session,
            target=target,
            limit=min(max(limit, 1), SEARCH_LIMIT_MAX),
            offset=max(offset, 0),
        )
    return [AuditEntry.of(row) for row in rows]
