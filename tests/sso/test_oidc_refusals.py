"""What an OIDC sign-in refuses, each as it happens in the wild, against a real provider: an ID
token issued to another application, expired, issued in the future, with altered signature
bytes, signed by a key the provider never published, for another sign-in (nonce), from another
issuer or tenant; a forged, missing or reused state, a reused authorization code, an answer
naming another issuer, the provider's own error, a sign-in form not opened here, a provider
that cannot be reached. Every refusal answers the failure page (never a 500) and signs no one
in; the logged reason says which check refused it."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.sso.conftest import CALLBACK
from tests.support.api import Api
from tests.support.oidc_flow import (
    Account,
    at_provider,
    callback_url,
    press_sso_button,
    provider_account,
    query_of,
    sso_browser,
    token_response,
    with_query,
)
from tests.support.oidc_harness import (
    CLIENT_ID,
    CLIENT_SECRET,
    OTHER_CLIENT_ID,
    OTHER_CLIENT_SECRET,
    HarnessProvider,
    free_ports,
)

FAILED = "Signing in through Test University failed."


@pytest.fixture(autouse=True)
def _oidc_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="attn.oidc")


def signed_in(browser: httpx.AsyncClient) -> bool:
    return any(c.name == "attn_session" for c in browser.cookies.jar)


async def refused_with(
    browser: httpx.AsyncClient, url: str, caplog: pytest.LogCaptureFixture, reason: str
) -> httpx.Response:
    """Open the callback `url`: the failure page, no session, and `reason` in the log."""
    caplog.clear()
    answer = await browser.get(url)
    assert answer.status_code == 401, (answer.status_code, answer.text[:800])
    assert FAILED in answer.text and 'action="/login"' in answer.text  # the sign-in page
    assert not signed_in(browser)
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert any(reason in message for message in refusals), refusals
    return answer


@pytest.fixture
async def person(sso_api: Api, provider: HarnessProvider) -> Account:
    user = await sso_api.add_user("student")
    return provider_account(provider, user.school_number, groups=["student"])


async def test_an_id_token_issued_to_another_application_is_refused(
    sso_api: Api, provider: HarnessProvider, person: Account, caplog: pytest.LogCaptureFixture
) -> None:
    async with sso_browser(sso_api.app) as browser:
        url = await callback_url(browser, person)
        other = await token_response(
            provider,
            client_id=OTHER_CLIENT_ID,
            client_secret=OTHER_CLIENT_SECRET,
            redirect_uri=CALLBACK,
            account=person,
            nonce=secrets.token_urlsafe(16),
        )
        provider.control("substitute", id_token=other["id_token"])
        await refused_with(browser, url, caplog, "aud")


async def test_an_expired_id_token_is_refused(
    sso_api: Api, provider: HarnessProvider, person: Account, caplog: pytest.LogCaptureFixture
) -> None:
    async with sso_browser(sso_api.app) as browser:
        url = await callback_url(browser, person)
        provider.control("clock", offset=-2 * 3600)  # issued 2 h ago, expired 1 h ago
        await refused_with(browser, url, caplog, "exp")


async def test_an_id_token_issued_in_the_future_is_refused(
    sso_api: Api, provider: HarnessProvider, person: Account, caplog: pytest.LogCaptureFixture
) -> None:
    async with sso_browser(sso_api.app) as browser:
        url = await callback_url(browser, person)
        provider.control("clock", offset=300)  # past the 60 s leeway
        await refused_with(browser, url, caplog, "issued in the future")


async def test_a_clock_a_little_off_is_within_the_leeway(
    sso_api: Api, provider: HarnessProvider, person: Account
) -> None:
    async with sso_browser(sso_api.app) as browser:
        url = await callback_url(browser, person)
        provider.control("clock", offset=20)
        assert (await browser.get(url)).status_code == 303


async def test_an_id_token_whose_signature_bytes_are_altered_is_refused(
    sso_api: Api, provider: HarnessProvider, person: Account, caplog: pytest.LogCaptureFixture
) -> None:
    async with sso_browser(sso_api.app) as browser:
        url = await callback_url(browser, person)
        provider.control("tamper", part="signature")
        await refused_with(browser, url, caplog, "signature does not verify")


async def test_a_token_naming_an_unknown_key_fetches_the_keys_once_then_is_refused(
    sso_api: Api, provider: HarnessProvider, person: Account, caplog: pytest.LogCaptureFixture
) -> None:
    async with sso_browser(sso_api.app) as browser:
        assert (await browser.get(await callback_url(browser, person))).status_code == 303
    assert provider.stats()["jwks"] == 1
    async with sso_browser(sso_api.app) as browser:
        url = await callback_url(browser, person)
        provider.control("tamper", part="kid")
        await refused_with(browser, url, caplog, "unknown key")
    fetched = provider.stats()["jwks"]
    assert fetched == 2  # once again for the unknown key id
    async with sso_browser(sso_api.app) as browser:
        url = await callback_url(browser, person)
        provider.control("tamper", part="kid")
        await refused_with(browser, url, caplog, "unknown key")
    assert provider.stats()["jwks"] == fetched  # not again so soon: rate-limited


async def test_an_id_token_for_another_sign_in_is_refused_by_its_nonce(
    sso_api: Api, provider: HarnessProvider, person: Account, caplog: pytest.LogCaptureFixture
) -> None:
    async with sso_browser(sso_api.app) as browser:
        url = await callback_url(browser, person)
        # a real token to this very client, but from an authorization request with its own nonce
        stolen = await token_response(
            provider,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            redirect_uri=CALLBACK,
            account=person,
            nonce="nonce-of-another-sign-in",
        )
        provider.control("substitute", id_token=stolen["id_token"])
        await refused_with(browser, url, caplog, "nonce")


async def test_an_unknown_or_missing_state_is_refused(
    sso_api: Api, provider: HarnessProvider, person: Account, caplog: pytest.LogCaptureFixture
) -> None:
    async with sso_browser(sso_api.app) as browser:
        url = await callback_url(browser, person)
        await refused_with(
            browser, with_query(url, state="forged-state"), caplog, "unknown or used state"
        )
        await refused_with(browser, with_query(url, state=""), caplog, "unknown or used state")
        # the real state still works: the forgeries took nothing
        assert (await browser.get(url)).status_code == 303


async def test_a_state_started_in_another_browser_is_refused_in_this_one_only_once(
    sso_api: Api, provider: HarnessProvider, person: Account, caplog: pytest.LogCaptureFixture
) -> None:
    async with sso_browser(sso_api.app) as browser:
        url = await callback_url(browser, person)
        signed = await browser.get(url)
        assert signed.status_code == 303 and signed_in(browser)
    async with sso_browser(sso_api.app) as replayer:
        await refused_with(replayer, url, caplog, "unknown or used state")


async def test_a_replayed_authorization_code_with_a_fresh_state_is_refused(
    sso_api: Api, provider: HarnessProvider, person: Account, caplog: pytest.LogCaptureFixture
) -> None:
    async with sso_browser(sso_api.app) as victim:
        used = await callback_url(victim, person)
        assert (await victim.get(used)).status_code == 303
    tokens_before = provider.stats()["token"]
    async with sso_browser(sso_api.app) as attacker:
        fresh = await callback_url(attacker, person)
        replay = with_query(fresh, code=query_of(used)["code"])
        await refused_with(attacker, replay, caplog, "authorization code was used before")
    assert provider.stats()["token"] == tokens_before  # refused before the provider is asked


async def test_a_code_from_another_browsers_sign_in_fails_its_pkce_check(
    sso_api: Api, provider: HarnessProvider, person: Account, caplog: pytest.LogCaptureFixture
) -> None:
    async with sso_browser(sso_api.app) as victim, sso_browser(sso_api.app) as attacker:
        victims = await callback_url(victim, person)
        attackers = await callback_url(attacker, person)
        # the victim's code in the attacker's callback: its verifier is not the victim's
        swapped = with_query(attackers, code=query_of(victims)["code"])
        await refused_with(attacker, swapped, caplog, "refused the code: invalid_grant")


async def test_an_id_token_from_another_issuer_is_refused(
    sso_api: Api, provider: HarnessProvider, person: Account, caplog: pytest.LogCaptureFixture
) -> None:
    async with sso_browser(sso_api.app) as browser:
        url = await callback_url(browser, person)
        # a real token for this client from another issuer (same keys, as a shared IdP farm)
        elsewhere = await token_response(
            provider,
            issuer=provider.tenant_issuer("tenant-b"),
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            redirect_uri=CALLBACK,
            account=person,
            nonce="irrelevant",
        )
        provider.control("substitute", id_token=elsewhere["id_token"])
        await refused_with(browser, url, caplog, "issuer")


async def test_an_answer_naming_another_issuer_is_refused(
    sso_api: Api, provider: HarnessProvider, person: Account, caplog: pytest.LogCaptureFixture
) -> None:
    async with sso_browser(sso_api.app) as browser:
        url = await callback_url(browser, person)
        assert query_of(url)["iss"] == provider.issuer  # RFC 9207
        mixed_up = with_query(url, iss="https://idp.example.org")
        await refused_with(browser, mixed_up, caplog, "not this provider")


async def test_a_discovery_document_of_another_issuer_is_refused(
    make_sso_api: Callable[..., Any], provider: HarnessProvider
) -> None:
    # the provider's document, copied to another address than its issuer's
    async with (
        make_sso_api(OIDC_ISSUER=f"{provider.issuer}/mirror") as api,
        sso_browser(api.app) as browser,
    ):
        start = await press_sso_button(browser)
        assert start.status_code == 503, start.text[:500]
        assert "cannot be reached now" in start.text


async def test_the_providers_error_is_shown_politely(
    sso_api: Api, provider: HarnessProvider, person: Account, caplog: pytest.LogCaptureFixture
) -> None:
    async with sso_browser(sso_api.app) as browser:
        start = await press_sso_button(browser)
        url = await at_provider(browser, person, start, cancel=True)
        assert query_of(url)["error"] == "access_denied"
        page = await refused_with(browser, url, caplog, "error=access_denied")
        assert "Test University answered: access_denied" in page.text
        # an error code that is not one is not repeated
        start = await press_sso_button(browser)
        url = await at_provider(browser, person, start, cancel=True)
        page = await refused_with(
            browser, with_query(url, error="<script>alert(1)</script>"), caplog, "error=unknown"
        )
        assert "<script>alert" not in page.text


async def test_the_start_refuses_a_sign_in_form_not_opened_here(
    sso_api: Api, provider: HarnessProvider
) -> None:
    async with sso_browser(sso_api.app) as browser:
        answer = await browser.post(
            "/sso/oidc/start", data={"sign_in_token": "forged", "next": "/"}
        )
        assert answer.status_code == 403, answer.text[:500]
        assert "The sign-in form had expired" in answer.text
        assert provider.stats()["discovery"] == 0


async def test_a_provider_that_cannot_be_reached_is_a_polite_503(
    make_sso_api: Callable[..., Any],
) -> None:
    closed = free_ports(1)[0]
    async with (
        make_sso_api(OIDC_ISSUER=f"http://127.0.0.1:{closed}") as api,
        sso_browser(api.app) as browser,
    ):
        start = await press_sso_button(browser)
        assert start.status_code == 503, start.text[:500]
        assert "The identity provider cannot be reached now" in start.text


async def test_sign_in_through_an_allowed_entra_style_tenant_and_not_another(
    make_sso_api: Callable[..., Any], provider: HarnessProvider, caplog: pytest.LogCaptureFixture
) -> None:
    async with make_sso_api(OIDC_ISSUER=provider.common_issuer, OIDC_TENANTS="tenant-a") as api:
        user = await api.add_user("teacher")
        person = provider_account(provider, user.school_number)
        async with sso_browser(api.app) as browser:
            url = await callback_url(browser, person)
            assert query_of(url)["iss"] == provider.tenant_issuer("tenant-a")
            signed = await browser.get(url)
            assert signed.status_code == 303, signed.text[:800]
            assert signed_in(browser)

        provider.control("home-tenant", tenant="tenant-b")  # the person's home is another tenant
        async with sso_browser(api.app) as browser:
            url = await callback_url(browser, person)
            await refused_with(browser, url, caplog, "not this provider")
        async with sso_browser(api.app) as browser:
            url = await callback_url(browser, person)
            # without the answer's `iss`, the ID token's own issuer and tenant are checked
            without_iss = with_query(url, iss="")
            await refused_with(browser, without_iss, caplog, "tenant 'tenant-b' is not allowed")


async def test_a_multi_tenant_issuer_with_no_allowed_tenant_signs_no_one_in(
    make_sso_api: Callable[..., Any], provider: HarnessProvider, caplog: pytest.LogCaptureFixture
) -> None:
    async with make_sso_api(OIDC_ISSUER=provider.common_issuer) as api:
        user = await api.add_user("teacher")
        person = provider_account(provider, user.school_number)
        async with sso_browser(api.app) as browser:
            url = await callback_url(browser, person)
            await refused_with(browser, with_query(url, iss=""), caplog, "is not allowed")
