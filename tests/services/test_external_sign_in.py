"""`auth.sign_in_external`: what a sign-in an identity provider vouches for does with the
account: which may sign in, which are created, what is kept, and the session it opens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from attn.db import history, users
from attn.errors import AccountDisabled, SsoRefused, UnknownAccount
from attn.models import ExternalIdentity, Role, utc_now
from attn.services import administration, auth
from tests.support.api import Api


def _identity(number: str, name: str = "", role: Role | None = None) -> ExternalIdentity:
    return ExternalIdentity(school_number=number, full_name=name, role=role)


async def test_an_existing_account_signs_in_with_its_own_role_and_the_providers_name(
    api: Api,
) -> None:
    teacher = await api.add_user("teacher", full_name="Old Name")
    result = await auth.sign_in_external(
        api.context,
        provider="oidc",
        identity=_identity(teacher.school_number, "Ayşe Yılmaz", Role.ADMIN),
        client=None,
    )
    assert result.session.role is Role.TEACHER  # the administrator's role, not the claim's
    assert result.session.full_name == "Ayşe Yılmaz"
    me = await api.client.get(
        "/auth/me", headers={"Authorization": f"Bearer {result.access_token}"}
    )
    assert me.status_code == 200
    assert result.expires_in == api.context.settings.TEACHER_SESSION_TTL_SECONDS
    account = await administration.get_account(api.context, teacher.school_number)
    assert account.sso and account.last_login_at is not None


async def test_unknown_users_are_refused_by_default(api: Api) -> None:
    with pytest.raises(UnknownAccount):
        await auth.sign_in_external(
            api.context, provider="saml", identity=_identity("S5500", "New"), client=None
        )
    async with api.context.db() as session:
        assert await users.get_user(session=session, school_number="S5500") is None


async def test_just_in_time_creation_when_allowed(make_api: Callable[..., Any]) -> None:
    async with make_api(SSO_CREATE_USERS=True, SSO_DEFAULT_ROLE="student") as api:
        made = await auth.sign_in_external(
            api.context,
            provider="saml",
            identity=_identity("T5501", "Mehmet Demir", Role.TEACHER),
            client=None,
        )
        assert made.session.role is Role.TEACHER
        default = await auth.sign_in_external(
            api.context, provider="oidc", identity=_identity("S5502"), client=None
        )
        assert default.session.role is Role.STUDENT
        assert default.session.full_name == "S5502"  # no name given: the number
        account = await administration.get_account(api.context, "T5501")
        assert account.sso and not account.has_password and account.active


async def test_a_deactivated_account_is_refused_and_an_unclaimed_student_claimed(
    api: Api,
) -> None:
    student = await api.add_user("student")
    await administration.change_account(
        api.context,
        actor="A1",
        school_number=student.school_number,
        changes=administration.AccountChanges(active=False),
    )
    with pytest.raises(AccountDisabled):
        await auth.sign_in_external(
            api.context, provider="oidc", identity=_identity(student.school_number), client=None
        )
    async with api.context.db() as session, session.begin():
        await history.ensure_student(
            session=session, school_number="S5503", full_name="Seen Once", now=utc_now()
        )
    claimed = await auth.sign_in_external(
        api.context, provider="saml", identity=_identity("S5503", "Seen Once"), client=None
    )
    assert claimed.session.role is Role.STUDENT
    assert claimed.device_id is not None  # a student's phone gets its device id


@pytest.mark.parametrize("number", ["", "has space", "x" * 40, "{tag}", "a/b"])
async def test_a_number_ATTN_cannot_take_is_refused(api: Api, number: str) -> None:
    with pytest.raises(SsoRefused):
        await auth.sign_in_external(
            api.context, provider="oidc", identity=_identity(number), client=None
        )


async def test_remember_device_gives_a_refresh_token_as_a_password_login_does(api: Api) -> None:
    student = await api.add_user("student")
    result = await auth.sign_in_external(
        api.context,
        provider="oidc",
        identity=_identity(student.school_number),
        client=None,
        device_id=None,
        remember_device=True,
    )
    assert result.refresh_token is not None and result.device_id is not None
    renewed = await auth.refresh(
        api.context, refresh_token=result.refresh_token, device_id=result.device_id
    )
    assert renewed.session.school_number == student.school_number
