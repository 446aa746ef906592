"""SAML 2.0 sign-in against a real IdP on loopback (pysaml2's own `saml2.server.Server`, run by
`tests.support.saml_idp` as its own process): the SP's metadata, the round trip for each role,
just-in-time accounts, deactivated accounts, "remember this device", the attribute mapping,
and each refusal: audience, NotOnOrAfter, NotBefore, a signature broken after signing, an
unsigned assertion, another key, Recipient, Destination, an unknown or missing
InResponseTo, a replay, a ticket in another browser, and garbage of every kind. The refusal
tests also read the detail the ACS logs, so each one fails for the reason it names."""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from defusedxml import ElementTree as ET

from attn.config import Settings
from attn.services import administration
from attn.services.saml import ServiceProvider
from tests.support.api import Api
from tests.support.browser import ARTIFACTS
from tests.support.oidc_harness import CLIENT_ID, CLIENT_SECRET, HarnessProvider
from tests.support.saml_flow import (
    ACS,
    SP_ENTITY_ID,
    RunningIdp,
    at_idp,
    follow,
    idp_initiated,
    post_to_acs,
    publish_sp_metadata,
    running_idp,
    saml_response_for,
    sign_in_through_idp,
    start,
    xmlsec_missing,
)
from tests.support.sign_in_form import page_browser

MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"
SESSION, REMEMBER, DEVICE = "attn_session", "attn_remember", "attn_device"
START_PAGES = {"student": "/student", "teacher": "/teacher", "admin": "/admin"}


@pytest.fixture(scope="module")
def saml_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningIdp]:
    reason = xmlsec_missing()
    if reason:
        pytest.skip(reason)
    with running_idp(tmp_path_factory.mktemp("saml"), ARTIFACTS / "saml-idp.log") as idp:
        yield idp


@pytest.fixture
def idp(saml_idp: RunningIdp) -> RunningIdp:
    saml_idp.reset()  # key a signs, and is the only one published
    return saml_idp


@pytest.fixture(scope="module")
def sp_key_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One SP key pair for the module's apps (made as an app makes its own: see
    test_saml_settings.py), so that each test does not wait for a new RSA key."""
    return ServiceProvider(Settings(DATA_DIR=tmp_path_factory.mktemp("sp"))).key_pair()


@pytest.fixture
def make_saml_api(
    make_api: Callable[..., Any], idp: RunningIdp, sp_key_pair: tuple[Path, Path]
) -> Callable[..., Any]:
    """An app that signs in through the test IdP (its metadata file, unless the test names
    another source), its SP metadata handed to the IdP."""

    @asynccontextmanager
    async def build(**overrides: Any) -> AsyncIterator[Api]:
        settings = {
            "SAML_IDP_METADATA": str(idp.metadata_file),
            "SAML_SP_KEY_FILE": sp_key_pair[0],
            "SAML_SP_CERT_FILE": sp_key_pair[1],
            **overrides,
        }
        async with make_api(**settings) as api:
            async with page_browser(api.app) as browser:
                await publish_sp_metadata(browser, idp)
            yield api

    return build


@pytest.fixture
async def saml_api(make_saml_api: Callable[..., Any]) -> AsyncIterator[Api]:
    async with make_saml_api() as api:
        yield api


@pytest.fixture
async def browser(saml_api: Api) -> AsyncIterator[httpx.AsyncClient]:
    async with page_browser(saml_api.app) as client:
        yield client


async def session_of(api: Api, school_number: str) -> Any:
    """The user's live ATTN session (None when there is none)."""
    return await api.context.redis_client.get_user_session(school_number)


def cookie(browser: httpx.AsyncClient, name: str) -> str | None:
    return next((c.value for c in browser.cookies.jar if c.name == name), None)


def refusal_logged(caplog: pytest.LogCaptureFixture) -> str:
    return " | ".join(
        record.getMessage()
        for record in caplog.records
        if record.name == "attn.web.saml" and "refused" in record.getMessage()
    )


async def set_active(api: Api, school_number: str, active: bool) -> None:
    """Deactivate or reactivate an account as an administrator does."""
    await administration.change_account(
        api.context,
        actor="A0001",
        school_number=school_number,
        changes=administration.AccountChanges(active=active),
    )


# --- the SP's metadata and the sign-in page ---------------------------------------------


async def test_sp_metadata_names_the_entity_the_acs_and_wants_signed_assertions(
    browser: httpx.AsyncClient,
) -> None:
    answer = await browser.get("/sso/saml/metadata")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/samlmetadata+xml")
    root = ET.fromstring(answer.text)
    assert root.get("entityID") == SP_ENTITY_ID
    sp = root.find(f"{MD}SPSSODescriptor")
    assert sp is not None
    assert sp.get("WantAssertionsSigned") == "true"
    assert sp.get("AuthnRequestsSigned") == "true"
    services = sp.findall(f"{MD}AssertionConsumerService")
    assert [(s.get("Binding"), s.get("Location")) for s in services] == [
        ("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST", ACS)
    ]
    certificate = sp.find(
        f"{MD}KeyDescriptor//{{http://www.w3.org/2000/09/xmldsig#}}X509Certificate"
    )
    assert certificate is not None and len(certificate.text or "") > 500
    # the same metadata the next time
    again = await browser.get("/sso/saml/metadata")
    assert again.text == answer.text


async def test_the_sp_entity_id_is_a_setting(make_saml_api: Callable[..., Any]) -> None:
    async with (
        make_saml_api(SAML_SP_ENTITY_ID="urn:example:attn") as api,
        page_browser(api.app) as client,
    ):
        answer = await client.get("/sso/saml/metadata")
    assert ET.fromstring(answer.text).get("entityID") == "urn:example:attn"


async def test_the_sign_in_page_offers_the_idp(make_saml_api: Callable[..., Any]) -> None:
    async with make_saml_api(SAML_PROVIDER_NAME="Kampüs") as api, page_browser(api.app) as client:
        page = await client.get("/login")
    assert re.search(r'formaction="/sso/saml/start"[^>]*>Sign in with Kampüs<', page.text)


async def test_saml_and_oidc_side_by_side(
    make_saml_api: Callable[..., Any], provider: HarnessProvider, idp: RunningIdp
) -> None:
    """Both providers configured: both buttons, the page's form may go on to both, and each
    signs in on its own routes."""
    oidc = {
        "OIDC_ISSUER": provider.issuer,
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_PROVIDER_NAME": "Test University",
    }
    async with make_saml_api(**oidc) as api, page_browser(api.app) as client:
        page = await client.get("/login")
        assert 'formaction="/sso/saml/start"' in page.text
        assert 'formaction="/sso/oidc/start"' in page.text
        form_action = re.search(r"form-action ([^;]*)", page.headers["content-security-policy"])
        assert form_action and idp.url in form_action.group(1)
        assert provider.issuer in form_action.group(1)
        user = await api.add_user("teacher")
        finished = await sign_in_through_idp(client, user=user.school_number)
        assert finished.status_code == 303 and cookie(client, SESSION)


async def test_without_the_setting_there_is_no_saml(api: Api) -> None:
    async with page_browser(api.app) as client:
        assert (await client.get("/sso/saml/metadata")).status_code == 404
        assert "/sso/saml/start" not in (await client.get("/login")).text


# --- signing in -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "affiliation"), [("student", "student"), ("teacher", "faculty"), ("admin", "staff")]
)
async def test_each_role_signs_in_and_lands_on_its_page(
    saml_api: Api, browser: httpx.AsyncClient, idp: RunningIdp, role: str, affiliation: str
) -> None:
    """An existing account signs in with the role its administrator gave it (the admin's IdP
    says staff, which would map to teacher)."""
    user = await saml_api.add_user(role)
    action, fields = await saml_response_for(
        browser, user=user.school_number, affiliation=affiliation
    )
    assert action == ACS and "RelayState" in fields
    acs = await post_to_acs(browser, action, fields)
    # the cross-site post sets no cookie: it hands over to a same-site page
    assert acs.status_code == 303 and "set-cookie" not in acs.headers
    assert acs.headers["location"].startswith("/sso/saml/finish?ticket=")
    finished = await follow(browser, acs)
    assert finished.status_code == 303
    assert finished.headers["location"] == "/"
    assert cookie(browser, SESSION)
    home = await browser.get("/")
    assert home.headers["location"] == START_PAGES[role]
    page = await browser.get(START_PAGES[role])
    assert page.status_code == 200
    session = await session_of(saml_api, user.school_number)
    assert session is not None and session.role == role
    assert (cookie(browser, SESSION) or "").startswith(f"{user.school_number}.")


async def test_the_sign_in_comes_back_to_where_it_was_started_for(
    saml_api: Api, browser: httpx.AsyncClient
) -> None:
    user = await saml_api.add_user("student")
    finished = await sign_in_through_idp(
        browser, target="/student/history", user=user.school_number
    )
    assert finished.status_code == 303
    assert finished.headers["location"] == "/student/history"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
async def test_a_next_of_another_site_comes_back_home(
    saml_api: Api, browser: httpx.AsyncClient, target: str
) -> None:
    user = await saml_api.add_user("student")
    finished = await sign_in_through_idp(browser, target=target, user=user.school_number)
    assert finished.status_code == 303
    assert finished.headers["location"] == "/"


async def test_the_idp_name_becomes_the_account_name(
    saml_api: Api, browser: httpx.AsyncClient
) -> None:
    user = await saml_api.add_user("student", full_name="Old Name")
    await sign_in_through_idp(browser, user=user.school_number, name="Ayşe Yılmaz")
    page = await browser.get("/student")
    assert "Ayşe Yılmaz" in page.text


async def test_an_unknown_user_is_refused_by_default(
    browser: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    finished = await sign_in_through_idp(browser, user="20239999")
    assert finished.status_code == 403
    assert "There is no ATTN account for you yet" in finished.text
    assert cookie(browser, SESSION) is None


@pytest.mark.parametrize(
    ("affiliation", "role"), [("faculty", "teacher"), ("student", "student"), ("member", "student")]
)
async def test_just_in_time_accounts_take_the_mapped_role(
    make_saml_api: Callable[..., Any], affiliation: str, role: str
) -> None:
    """With ATTN_SSO_CREATE_USERS an unknown user gets an account at once: the role from the
    affiliation's map, or ATTN_SSO_DEFAULT_ROLE for a value the map does not name."""
    async with make_saml_api(SSO_CREATE_USERS=True) as api, page_browser(api.app) as client:
        finished = await sign_in_through_idp(
            client, user="20235555", affiliation=affiliation, name="Deniz Aydın"
        )
        assert finished.status_code == 303, finished.text[:500]
        assert (await client.get("/")).headers["location"] == START_PAGES[role]
        page = await client.get(START_PAGES[role])
        assert "Deniz Aydın" in page.text


async def test_the_role_map_and_default_are_settings(make_saml_api: Callable[..., Any]) -> None:
    async with (
        make_saml_api(
            SSO_CREATE_USERS=True, SAML_ROLE_MAP="lecturer=teacher", SSO_DEFAULT_ROLE="teacher"
        ) as api,
        page_browser(api.app) as client,
    ):
        await sign_in_through_idp(client, user="20236666", affiliation="student")
        assert (await client.get("/")).headers["location"] == "/teacher"


async def test_a_deactivated_account_is_refused(saml_api: Api, browser: httpx.AsyncClient) -> None:
    """Deactivated while signed in through the IdP: the session ends at once, and the IdP's
    word no longer signs the account in; reactivated, it does again."""
    await saml_api.add_user("admin", school_number="A0001")
    user = await saml_api.add_user("student")
    await sign_in_through_idp(browser, remember=True, user=user.school_number)
    assert (await browser.get("/student")).status_code == 200
    await set_active(saml_api, user.school_number, False)
    assert await session_of(saml_api, user.school_number) is None
    browser.cookies.clear()
    finished = await sign_in_through_idp(browser, user=user.school_number)
    assert finished.status_code == 403
    assert "This account has been deactivated" in finished.text
    assert cookie(browser, SESSION) is None
    await set_active(saml_api, user.school_number, True)
    again = await sign_in_through_idp(browser, user=user.school_number)
    assert again.status_code == 303 and cookie(browser, SESSION)


async def test_remember_this_device_keeps_a_refresh_token(
    saml_api: Api, browser: httpx.AsyncClient
) -> None:
    user = await saml_api.add_user("student")
    finished = await sign_in_through_idp(browser, remember=True, user=user.school_number)
    assert finished.status_code == 303
    assert cookie(browser, REMEMBER) and cookie(browser, DEVICE)
    # the session goes; the remembered device renews it without the IdP
    browser.cookies.delete(SESSION)
    renewed = await browser.get("/student")
    assert renewed.status_code == 303 and renewed.headers["location"] == "/student"
    assert (await browser.get("/student")).status_code == 200


async def test_without_remember_there_is_no_refresh_token(
    saml_api: Api, browser: httpx.AsyncClient
) -> None:
    user = await saml_api.add_user("student")
    await sign_in_through_idp(browser, user=user.school_number)
    assert cookie(browser, SESSION) and cookie(browser, REMEMBER) is None
    assert cookie(browser, DEVICE)  # a student's phone gets its device id as at a password login


async def test_the_school_number_from_an_eppn_before_its_scope(
    make_saml_api: Callable[..., Any],
) -> None:
    async with make_saml_api(
        SAML_SCHOOL_NUMBER_ATTRIBUTE="eduPersonPrincipalName", SAML_SCHOOL_NUMBER_STRIP_SCOPE=True
    ) as api:
        user = await api.add_user("student", school_number="20231234")
        async with page_browser(api.app) as client:
            finished = await sign_in_through_idp(
                client, user="someone-else", eppn="20231234@uni.edu.tr"
            )
            assert finished.status_code == 303, finished.text[:500]
            assert (await client.get("/student")).status_code == 200
        assert await session_of(api, user.school_number) is not None
        assert await session_of(api, "someone-else") is None


async def test_an_eppn_with_its_scope_is_no_school_number(
    make_saml_api: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with make_saml_api(
        SAML_SCHOOL_NUMBER_ATTRIBUTE="urn:oid:1.3.6.1.4.1.5923.1.1.1.6"
    ) as api:
        await api.add_user("student", school_number="20231234")
        async with page_browser(api.app) as client:
            finished = await sign_in_through_idp(client, user="x", eppn="20231234@uni.edu.tr")
    assert finished.status_code == 401
    assert "is not a school number" in refusal_logged(caplog)


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("knobs", "detail"),
    [
        pytest.param(
            {"audience": "http://other.example/sp"}, "AudienceRestrictions", id="audience"
        ),
        pytest.param({"clock": "-3600"}, "too old", id="expired"),
        pytest.param({"clock": "3600"}, "ToEarly", id="not-yet-valid"),
        pytest.param(
            {"tamper": "name", "name": "Elif Kaya"}, "Failed to verify signature", id="name-altered"
        ),
        pytest.param({"tamper": "user"}, "Failed to verify signature", id="number-altered"),
        pytest.param({"sign": "response"}, "Signature missing for assertion", id="unsigned"),
        pytest.param({"sign": "none"}, "Signature missing for assertion", id="nothing-signed"),
        pytest.param({"key": "rogue"}, "Failed to verify signature", id="another-key"),
        pytest.param({"recipient": "http://evil.example/acs"}, "Recipient", id="recipient"),
        pytest.param({"destination": "http://evil.example/acs"}, "Destination", id="destination"),
        pytest.param({"in_response_to": "id-never-issued"}, "Unsolicited", id="unknown-request"),
        pytest.param({"in_response_to": ""}, "Unsolicited", id="no-in-response-to"),
    ],
)
async def test_a_response_that_fails_a_check_signs_nobody_in(
    saml_api: Api,
    browser: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    knobs: dict[str, str],
    detail: str,
) -> None:
    caplog.set_level(logging.WARNING)
    user = await saml_api.add_user("student")
    answer = await sign_in_through_idp(browser, user=user.school_number, **knobs)
    assert answer.status_code == 401, answer.text[:500]
    assert "Signing in through SSO failed." in answer.text
    assert "attn_session" not in answer.headers.get("set-cookie", "")
    assert detail in refusal_logged(caplog)
    assert cookie(browser, SESSION) is None
    assert (await browser.get("/student")).status_code == 303  # still signed out


async def test_an_untouched_response_with_both_signatures_signs_in(
    saml_api: Api, browser: httpx.AsyncClient
) -> None:
    """The control for the signature refusals: the same IdP, the same key, nothing altered."""
    user = await saml_api.add_user("student")
    finished = await sign_in_through_idp(browser, user=user.school_number, sign="both")
    assert finished.status_code == 303 and cookie(browser, SESSION)


async def test_a_response_posted_twice_signs_in_once(
    saml_api: Api, browser: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    user = await saml_api.add_user("student")
    action, fields = await saml_response_for(browser, user=user.school_number)
    first = await post_to_acs(browser, action, fields)
    assert first.status_code == 303
    again = await post_to_acs(browser, action, fields)
    assert again.status_code == 401
    assert "unsolicited" in refusal_logged(caplog)


async def test_a_replayed_assertion_is_refused_even_where_unsolicited_ones_are_taken(
    make_saml_api: Callable[..., Any], idp: RunningIdp, caplog: pytest.LogCaptureFixture
) -> None:
    """IdP-initiated sign-in has no request to bind to: the assertion's id, remembered until
    it expires, is what stops a replay."""
    caplog.set_level(logging.WARNING)
    async with make_saml_api(SAML_ALLOW_IDP_INITIATED=True) as api:
        user = await api.add_user("teacher")
        action, fields = await idp_initiated(idp, user=user.school_number, affiliation="faculty")
        assert "RelayState" not in fields
        async with page_browser(api.app) as client:
            first = await post_to_acs(client, action, fields)
            assert first.status_code == 303
            finished = await follow(client, first)
            assert finished.status_code == 303 and cookie(client, SESSION)
        async with page_browser(api.app) as other:
            again = await post_to_acs(other, action, fields)
            assert again.status_code == 401
        seen = await api.context.redis_client.redis.ttl(
            f"attn:sso-seen:saml:{_assertion_id(fields['SAMLResponse'])}"
        )
    assert "used before" in refusal_logged(caplog)
    assert 0 < seen <= 300 + 60  # remembered until the assertion expires (and the leeway)


def _assertion_id(saml_response: str) -> str:
    found = re.search(r'<ns1:Assertion[^>]* ID="([^"]+)"', base64.b64decode(saml_response).decode())
    assert found
    return found.group(1)


async def test_an_unsolicited_response_is_refused_by_default(
    saml_api: Api, browser: httpx.AsyncClient, idp: RunningIdp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    user = await saml_api.add_user("student")
    answer = await post_to_acs(browser, *await idp_initiated(idp, user=user.school_number))
    assert answer.status_code == 401
    assert "unsolicited" in refusal_logged(caplog)


async def test_a_relay_state_of_another_sign_in_is_refused(
    saml_api: Api, browser: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Two sign-ins started: the first's Response sent with the second's RelayState answers a
    request that RelayState did not start."""
    caplog.set_level(logging.WARNING)
    user = await saml_api.add_user("student")
    action, first = await saml_response_for(browser, user=user.school_number)
    _, second = await saml_response_for(browser, user=user.school_number)
    mixed = {"SAMLResponse": first["SAMLResponse"], "RelayState": second["RelayState"]}
    answer = await post_to_acs(browser, action, mixed)
    assert answer.status_code == 401
    assert "Unsolicited" in refusal_logged(caplog)


async def test_the_ticket_works_once_and_only_in_the_browser_that_started(
    saml_api: Api, browser: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    user = await saml_api.add_user("student")
    action, fields = await saml_response_for(browser, user=user.school_number)
    acs = await post_to_acs(browser, action, fields)
    ticket_url = acs.headers["location"]
    async with page_browser(saml_api.app) as other:  # a login-CSRF: someone else's browser
        stolen = await other.get(ticket_url)
        assert stolen.status_code == 401 and cookie(other, SESSION) is None
    assert "another browser" in refusal_logged(caplog)
    # the ticket was taken by that attempt: the starting browser signs in again from scratch
    assert (await browser.get(ticket_url)).status_code == 401
    assert "unknown, used or expired" in refusal_logged(caplog)
    again = await sign_in_through_idp(browser, user=user.school_number)
    assert again.status_code == 303 and cookie(browser, SESSION)


async def test_the_start_needs_the_sign_in_forms_token(browser: httpx.AsyncClient) -> None:
    await browser.get("/login")
    answer = await browser.post("/sso/saml/start", data={"sign_in_token": "forged", "next": "/"})
    assert answer.status_code == 403
    assert "location" not in answer.headers


async def test_the_start_refuses_a_post_from_another_site(browser: httpx.AsyncClient) -> None:
    form = await browser.get("/login")
    token = re.search(r'name="sign_in_token" value="([^"]+)"', form.text)
    assert token
    answer = await browser.post(
        "/sso/saml/start",
        data={"sign_in_token": token.group(1)},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert answer.status_code == 403


async def test_the_authn_request_is_signed_and_names_the_acs(browser: httpx.AsyncClient) -> None:
    started = await start(browser)
    assert started.status_code == 303
    location = httpx.URL(started.headers["location"])
    assert {"SAMLRequest", "RelayState", "SigAlg", "Signature"} <= set(location.params)
    assert cookie(browser, "attn_saml")  # the starting browser's nonce


# --- the IdP's signing certificate rollover ----------------------------------------------


async def test_metadata_listing_two_signing_certificates_verifies_with_either(
    make_saml_api: Callable[..., Any], idp: RunningIdp
) -> None:
    idp.control(publish=["a", "b"])
    async with make_saml_api() as api:
        user = await api.add_user("student")
        for key in ("a", "b"):
            async with page_browser(api.app) as client:
                finished = await sign_in_through_idp(client, user=user.school_number, key=key)
                assert finished.status_code == 303, (key, finished.text[:300])
        async with page_browser(api.app) as client:
            rogue = await sign_in_through_idp(client, user=user.school_number, key="rogue")
            assert rogue.status_code == 401


@pytest.mark.slow
async def test_after_a_refresh_the_new_certificate_works(
    make_saml_api: Callable[..., Any], idp: RunningIdp
) -> None:
    """The metadata from the IdP's URL: one app reads it again every second, one every hour.
    The IdP publishes its new certificate beside the old and signs with the new one: after a
    refresh the first takes it, the second (still on the old metadata) does not; when the
    IdP then drops the old certificate, the old key signs nobody in."""
    async with (
        make_saml_api(SAML_IDP_METADATA=idp.metadata_url, SAML_METADATA_REFRESH_SECONDS=1) as fresh,
        make_saml_api(SAML_IDP_METADATA=idp.metadata_url) as stale,
    ):
        user = await fresh.add_user("student")
        for api in (fresh, stale):
            async with page_browser(api.app) as client:
                assert (
                    await sign_in_through_idp(client, user=user.school_number)
                ).status_code == 303
        idp.control(sign_with="b", publish=["a", "b"])
        await asyncio.sleep(1.2)
        async with page_browser(stale.app) as client:
            assert (await sign_in_through_idp(client, user=user.school_number)).status_code == 401
        async with page_browser(fresh.app) as client:
            assert (await sign_in_through_idp(client, user=user.school_number)).status_code == 303
        idp.control(publish=["b"])
        await asyncio.sleep(1.2)
        async with page_browser(fresh.app) as client:
            old = await sign_in_through_idp(client, user=user.school_number, key="a")
            assert old.status_code == 401
        async with page_browser(fresh.app) as client:
            assert (await sign_in_through_idp(client, user=user.school_number)).status_code == 303


async def test_a_metadata_url_that_cannot_be_read_is_a_503_not_a_server_error(
    make_api: Callable[..., Any], idp: RunningIdp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with (
        make_api(SAML_IDP_METADATA="http://127.0.0.1:9/metadata") as api,
        page_browser(api.app) as client,
    ):
        answer = await start(client)
    assert answer.status_code == 503
    assert "The identity provider cannot be reached now" in answer.text
    assert "metadata cannot be read" in " ".join(r.getMessage() for r in caplog.records)


# --- garbage -----------------------------------------------------------------------------------

BOMB = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    '<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>'
    '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&lol4;</samlp:Response>'
)
XXE = (
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="a" Version="2.0" '
    'IssueInstant="2026-01-01T00:00:00Z">&x;</samlp:Response>'
)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


REMOTE_ENTITY = XXE.replace("file:///etc/passwd", "http://127.0.0.1:9/entity")
ENTITY_CASES = {b64(BOMB), b64(XXE), b64(REMOTE_ENTITY)}


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({}, id="nothing"),
        pytest.param({"SAMLResponse": ""}, id="empty"),
        pytest.param({"SAMLResponse": "not base64 at all!!"}, id="not-base64"),
        pytest.param({"SAMLResponse": "////"}, id="base64-junk"),
        pytest.param({"SAMLResponse": b64("hello")}, id="not-xml"),
        pytest.param({"SAMLResponse": b64("<x/>")}, id="other-xml"),
        pytest.param({"SAMLResponse": b64("<samlp:Response")}, id="broken-xml"),
        pytest.param({"SAMLResponse": b64(BOMB)}, id="billion-laughs"),
        pytest.param({"SAMLResponse": b64(XXE)}, id="external-entity"),
        pytest.param({"SAMLResponse": b64(REMOTE_ENTITY)}, id="remote-entity"),
        pytest.param({"SAMLResponse": b64("\x00\xff" * 50)}, id="binary"),
        pytest.param({"SAMLResponse": b64("<a>" * 5000)}, id="deep-nesting"),
        pytest.param({"SAMLResponse": "x", "RelayState": "y" * 5000}, id="relay-state-junk"),
    ],
)
async def test_garbage_at_the_acs_is_refused_not_a_server_error(
    browser: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, fields: dict[str, str]
) -> None:
    """Posted with the RelayState of a sign-in really started (unless the case brings its
    own), so the junk reaches the SAML parser instead of being refused as unsolicited."""
    caplog.set_level(logging.WARNING)
    started = await start(browser)
    relay_state = httpx.URL(started.headers["location"]).params["RelayState"]
    answer = await post_to_acs(browser, ACS, {"RelayState": relay_state, **fields})
    assert answer.status_code == 401, answer.text[:300]
    assert "Signing in through SSO failed." in answer.text
    logged = refusal_logged(caplog)
    assert logged
    if "RelayState" not in fields:
        assert "unsolicited" not in logged, logged
    if fields.get("SAMLResponse", "") in ENTITY_CASES:
        assert "EntitiesForbidden" in logged, logged  # refused before any entity is read


async def test_a_body_that_is_no_form_is_refused(browser: httpx.AsyncClient) -> None:
    for content, kind in (
        (b'{"SAMLResponse": 1}', "application/json"),
        (b"--x\r\nContent-Disposition: form-data\r\n", "multipart/form-data; boundary=x"),
        (b"\xff\xfe\x00", "application/x-www-form-urlencoded"),
    ):
        answer = await browser.post(
            "/sso/saml/acs",
            content=content,
            headers={"Content-Type": kind, "Sec-Fetch-Site": "cross-site"},
        )
        assert answer.status_code in (401, 400), (kind, answer.status_code, answer.text[:200])


async def test_an_oversized_post_to_the_acs_is_refused(browser: httpx.AsyncClient) -> None:
    answer = await post_to_acs(browser, ACS, {"SAMLResponse": "A" * 70_000})
    assert answer.status_code == 413


async def test_a_genuine_response_altered_in_transit_is_refused(
    saml_api: Api, browser: httpx.AsyncClient
) -> None:
    """The IdP's own signed Response with its base64 cut short, or with a byte changed."""
    user = await saml_api.add_user("student")
    action, fields = await saml_response_for(browser, user=user.school_number)
    cut = {**fields, "SAMLResponse": fields["SAMLResponse"][: len(fields["SAMLResponse"]) // 2]}
    assert (await post_to_acs(browser, action, cut)).status_code == 401
    _, fields = await saml_response_for(browser, user=user.school_number)
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    changed = {**fields, "SAMLResponse": b64(xml.replace("Password", "Passwort", 1))}
    assert (await post_to_acs(browser, action, changed)).status_code == 401


async def test_an_unsigned_assertion_beside_the_signed_one_is_refused(
    saml_api: Api, browser: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Signature wrapping: the IdP's signed assertion kept, and an unsigned one for another
    user put before it, for a reader that takes the first assertion it finds."""
    caplog.set_level(logging.WARNING)
    user = await saml_api.add_user("student")
    victim = await saml_api.add_user("admin")
    action, fields = await saml_response_for(browser, user=user.school_number)
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    signed = re.search(r"<ns1:Assertion .*</ns1:Assertion>", xml, re.DOTALL)
    assert signed
    evil = re.sub(r"<ds:Signature.*</ds:Signature>", "", signed.group(0), flags=re.DOTALL)
    evil = evil.replace(user.school_number, victim.school_number).replace(' ID="', ' ID="x')
    wrapped = xml.replace(signed.group(0), evil + signed.group(0))
    answer = await post_to_acs(browser, action, {**fields, "SAMLResponse": b64(wrapped)})
    assert answer.status_code == 401
    assert await session_of(saml_api, victim.school_number) is None
    assert await session_of(saml_api, user.school_number) is None
    assert "Invalid number of assertions" in refusal_logged(caplog)


async def test_a_ticket_that_is_junk_is_refused(browser: httpx.AsyncClient) -> None:
    for ticket in ("", "x", "' OR 1=1", "a" * 3000):
        answer = await browser.get("/sso/saml/finish", params={"ticket": ticket})
        assert answer.status_code == 401


async def test_the_idp_answers_only_requests_for_the_sps_acs(idp: RunningIdp) -> None:
    """The test IdP itself refuses a request it cannot read (it is a real IdP, not an echo)."""
    assert (await at_idp(f"{idp.url}/sso?SAMLRequest=junk")).status_code == 400
