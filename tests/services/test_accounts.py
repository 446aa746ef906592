"""Accounts (`attn.services.accounts`): what adding a user stores."""

from __future__ import annotations

from tests.support.api import PASSWORD, Api


async def test_password_hash_is_argon2id(api: Api) -> None:
    from attn.db import users

    user = await api.add_user("student")
    async with api.context.db() as session:
        stored = await users.get_user(session=session, school_number=user.school_number)
    assert stored is not None and stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash
