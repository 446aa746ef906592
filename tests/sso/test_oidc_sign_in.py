"""Signing in through a real OpenID Provider (the certified `oidc-provider` on loopback): each
role's existing account lands on its own page with an ordinary ATTN session of its role's
lifetime; just-in-time accounts only when the setting allows; a deactivated account is
refused; "remember this device" works as after a password sign-in; the provider's key
rotation is followed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from attn.db.tables import UserRow
from attn.services import administration
from tests.support.api import Api
from tests.support.oidc_flow import (
    callback_url,
    provider_account,
    sso_browser,
    sso_sign_in,
)
from tests.support.oidc_harness import HarnessProvider

START_PAGES = {"teacher": "/teacher", "student": "/student", "admin": "/admin"}
GROUPS = {"teacher": ["staff"], "student": ["student"], "admin": ["it-admins", "staff"]}


def cookie(browser: Any, name: str) -> str | None:
    return next((c.value for c in browser.cookies.jar if c.name == name), None)


@pytest.mark.parametrize("role", ["teacher", "student", "admin"])
async def test_an_existing_account_of_each_role_signs_in_and_lands_on_its_page(
    make_sso_api: Callable[..., Any], provider: HarnessProvider, role: str
) -> None:
    async with make_sso_api(
        TEACHER_SESSION_TTL_SECONDS=1234, STUDENT_SESSION_TTL_SECONDS=321
    ) as api:
        user = await api.add_user(role)
        account = provider_account(provider, user.school_number, groups=GROUPS[role])
        async with sso_browser(api.app) as browser:
            signed = await sso_sign_in(browser, account)
            assert signed.status_code == 303, signed.text[:800]
            assert signed.headers["location"] == "/"
            set_cookie = ", ".join(signed.headers.get_list("set-cookie"))
            ttl = {"teacher": 1234, "student": 321, "admin": 3600}[role]
            assert f"Max-Age={ttl}" in set_cookie
            home = await browser.get("/", follow_redirects=True)
            assert home.status_code == 200
            assert home.url.path == START_PAGES[role]
            assert user.full_name in home.text or user.school_number in home.text
        session = await api.context.redis_client.get_user_session(user.school_number)
        assert session is not None and session.role.value == role


async def test_the_sign_in_goes_on_to_the_page_it_began_from(
    sso_api: Api, provider: HarnessProvider
) -> None:
    user = await sso_api.add_user("teacher")
    account = provider_account(provider, user.school_number)
    async with sso_browser(sso_api.app) as browser:
        signed = await sso_sign_in(browser, account, target="/teacher/lessons")
        assert signed.status_code == 303, signed.text[:800]
        assert signed.headers["location"] == "/teacher/lessons"


async def test_an_unknown_person_is_refused_unless_accounts_are_made_on_first_sign_in(
    make_sso_api: Callable[..., Any], provider: HarnessProvider, caplog: pytest.LogCaptureFixture
) -> None:
    async with make_sso_api() as api:
        stranger = provider_account(provider, "S99887766", name="Ayşe Yılmaz", groups=["staff"])
        async with sso_browser(api.app) as browser:
            refused = await sso_sign_in(browser, stranger)
            assert refused.status_code == 403
            assert "Signing in through Test University failed." in refused.text
            assert "There is no ATTN account for you yet" in refused.text
            assert 'action="/login"' in refused.text  # the sign-in page, to try again
            assert cookie(browser, "attn_session") is None
        async with api.context.db() as session:
            assert await session.get(UserRow, "S99887766") is None

    async with make_sso_api(SSO_CREATE_USERS=True) as api:
        newcomer = provider_account(provider, "T55443322", name="Ayşe Yılmaz", groups=["staff"])
        async with sso_browser(api.app) as browser:
            signed = await sso_sign_in(browser, newcomer)
            assert signed.status_code == 303, signed.text[:800]
            teacher_page = await browser.get("/", follow_redirects=True)
            assert teacher_page.url.path == "/teacher"
        async with api.context.db() as session:
            row = (
                await session.execute(select(UserRow).where(UserRow.school_number == "T55443322"))
            ).scalar_one()
            assert (row.role, row.full_name, row.sso_provider) == ("teacher", "Ayşe Yılmaz", "oidc")

        unmapped = provider_account(provider, "S11223344", groups=["visitors"])
        async with sso_browser(api.app) as browser:
            assert (await sso_sign_in(browser, unmapped)).status_code == 303
        async with api.context.db() as session:
            row = await session.get(UserRow, "S11223344")
            assert row is not None and row.role == "student"  # ATTN_SSO_DEFAULT_ROLE


async def test_a_deactivated_account_is_refused(sso_api: Api, provider: HarnessProvider) -> None:
    admin = await sso_api.add_user("admin")
    user = await sso_api.add_user("student")
    account = provider_account(provider, user.school_number, groups=["student"])
    async with sso_browser(sso_api.app) as browser:
        assert (await sso_sign_in(browser, account)).status_code == 303
        # the administrator deactivates the account: its session ends, and so do SSO sign-ins
        await administration.change_account(
            sso_api.context,
            actor=admin.school_number,
            school_number=user.school_number,
            changes=administration.AccountChanges(active=False),
        )
        ended = await browser.get("/student")
        assert ended.status_code == 303 and ended.headers["location"].startswith("/login")
    async with sso_browser(sso_api.app) as browser:
        refused = await sso_sign_in(browser, account)
        assert refused.status_code == 403
        assert "This account has been deactivated" in refused.text
        assert cookie(browser, "attn_session") is None


async def test_remember_this_device_after_an_sso_sign_in_renews_the_session(
    make_sso_api: Callable[..., Any], provider: HarnessProvider
) -> None:
    async with make_sso_api(STUDENT_SESSION_TTL_SECONDS=2) as api:
        user = await api.add_user("student")
        account = provider_account(provider, user.school_number, groups=["student"])
        async with sso_browser(api.app) as phone:
            signed = await sso_sign_in(phone, account, remember=True)
            assert signed.status_code == 303, signed.text[:800]
            remembered = cookie(phone, "attn_remember")
            assert remembered is not None and remembered.startswith(f"{user.school_number}.")
            # the session ends in Redis; the page renews it from the remembered device
            await api.context.redis_client.delete_user_session(user.school_number)
            page = await phone.get("/student", follow_redirects=True)
            assert page.status_code == 200 and page.url.path == "/student", page.text[:500]
            assert cookie(phone, "attn_remember") not in (None, remembered)  # rotated

        async with sso_browser(api.app) as other:
            await sso_sign_in(other, provider_account(provider, user.school_number))
            assert cookie(other, "attn_remember") is None  # not ticked: none


async def test_the_provider_rotating_its_keys_does_not_stop_the_next_sign_in(
    sso_api: Api, provider: HarnessProvider, caplog: pytest.LogCaptureFixture
) -> None:
    user = await sso_api.add_user("teacher")
    account = provider_account(provider, user.school_number)
    async with sso_browser(sso_api.app) as browser:
        assert (await sso_sign_in(browser, account)).status_code == 303
    before = provider.stats()["jwks"]
    provider.control("rotate")
    caplog.set_level(logging.INFO, logger="attn.oidc")
    async with sso_browser(sso_api.app) as browser:
        signed = await sso_sign_in(browser, account)
        assert signed.status_code == 303, signed.text[:800]
    assert provider.stats()["jwks"] == before + 1  # fetched again once, for the new key
    assert "unknown signing key" in caplog.text


async def test_the_discovery_document_and_keys_are_fetched_once_for_many_sign_ins(
    sso_api: Api, provider: HarnessProvider
) -> None:
    user = await sso_api.add_user("student")
    account = provider_account(provider, user.school_number)
    for _ in range(3):
        async with sso_browser(sso_api.app) as browser:
            url = await callback_url(browser, account)
            assert (await browser.get(url)).status_code == 303
    counts = provider.stats()
    assert (counts["discovery"], counts["jwks"], counts["token"]) == (1, 1, 3)


async def test_the_providers_groups_give_a_role_only_to_a_new_account(
    make_sso_api: Callable[..., Any], provider: HarnessProvider
) -> None:
    async with make_sso_api(SSO_CREATE_USERS=True) as api:
        student = await api.add_user("student")
        claims_staff = provider_account(provider, student.school_number, groups=["staff"])
        async with sso_browser(api.app) as browser:
            assert (await sso_sign_in(browser, claims_staff)).status_code == 303
            page = await browser.get("/", follow_redirects=True)
            assert page.url.path == "/student"  # the administrator's role stays
        newcomer = provider_account(provider, "A77001122", groups=["it-admins"])
        async with sso_browser(api.app) as browser:
            assert (await sso_sign_in(browser, newcomer)).status_code == 303
            page = await browser.get("/", follow_redirects=True)
            assert page.url.path == "/admin"  # mapped explicitly: it-admins=admin
