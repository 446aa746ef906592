"""Accounts for tests: many at once with one password hash per run instead of one per
account, and checking a password against a stored hash."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError

from attn.db import users
from attn.models import NewAccount
from tests.support.api import PASSWORD, Api

_password_hash: list[str] = []


async def add_accounts(api: Api, *accounts: tuple[str, str]) -> list[NewAccount]:
    """Accounts with PASSWORD, hashed once per run: what `Api.add_user` stores, only faster."""
    if not _password_hash:
        _password_hash.append(await api.context.hasher.hash(PASSWORD))
    entries = [
        NewAccount(
            school_number=f"{role[0].upper()}{secrets.token_hex(4)}",
            full_name=full_name,
            role=role,  # type: ignore[arg-type]
            password=PASSWORD,
        )
        for role, full_name in accounts
    ]
    async with api.context.db() as session, session.begin():
        await users.add_users(
            session=session,
            users=[
                users.NewUser(e.school_number, e.full_name, e.role.value, _password_hash[0])
                for e in entries
            ],
        )
    return entries


def verifies(password_hash: str, password: str) -> bool:
    try:
        return PasswordHasher(1).verify(password_hash, password)
    except VerifyMismatchError:
        return False
