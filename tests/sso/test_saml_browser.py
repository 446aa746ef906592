"""SAML sign-in in a real browser on a phone-sized screen (360x740): the sign-in page's
"Sign in with ..." button, the test IdP's login form, its self-posting form back to ATTN's
ACS (a real cross-site post from the IdP's origin to ATTN's), and the student's page. The
screenshots go to test-artifacts/saml-*.png."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis as sync_redis
from playwright.sync_api import expect, sync_playwright

from tests.support.browser import (
    ARTIFACTS,
    CHROMIUM_ARGS,
    Server,
    add_person,
    chromium_missing,
    find_chromium,
    serving,
)
from tests.support.database import Database, empty_tables
from tests.support.ports import free_ports
from tests.support.processes import child_environment
from tests.support.saml_flow import RunningIdp, running_idp, xmlsec_missing

pytestmark = pytest.mark.e2e
PHONE = {"width": 360, "height": 740}
PROVIDER_NAME = "Kampüs SSO"


@dataclass(frozen=True)
class Student:
    number: str = "20231234"
    name: str = "Elif Kaya"
    role: str = "student"


@pytest.fixture
def chromium() -> str:
    found = find_chromium()
    if found is None:
        pytest.skip(chromium_missing())
    return found


@pytest.fixture
def idp(tmp_path: Path) -> Iterator[RunningIdp]:
    reason = xmlsec_missing()
    if reason:
        pytest.skip(reason)
    # `localhost`: another site than ATTN at 127.0.0.1, so the browser treats the IdP's post
    # to the ACS as a real IdP's (cross-site: no SameSite=Lax cookies)
    with running_idp(
        tmp_path / "saml", ARTIFACTS / "saml-idp-browser.log", host_name="localhost"
    ) as running:
        yield running


@pytest.fixture
def attn_with_saml(
    idp: RunningIdp, database: Database, redis_url: str, tmp_path: Path
) -> Iterator[Server]:
    """`attn serve` signing in through the test IdP (metadata from its URL), a student in it,
    and its SP metadata handed to the IdP."""
    asyncio.run(empty_tables(database))
    with sync_redis.Redis.from_url(redis_url) as client:
        client.flushdb()
    port = free_ports(1)[0]
    env = child_environment(
        DATABASE_URL=database.url,
        REDIS_URL=redis_url,
        DATA_DIR=tmp_path / "data",
        PUBLIC_URL=f"http://127.0.0.1:{port}",
        LOG_LEVEL="warning",
        SAML_IDP_METADATA=idp.metadata_url,
        SAML_PROVIDER_NAME=PROVIDER_NAME,
    )
    with serving(port, env, database, ARTIFACTS / "saml-attn-browser.log") as server:
        add_person(server, Student())
        metadata = httpx.get(server.url("/sso/saml/metadata"), timeout=10)
        assert metadata.status_code == 200, metadata.text[:300]
        idp.sp_metadata_file.write_text(metadata.text)
        yield server


def test_a_student_signs_in_through_the_idp_on_a_phone(
    chromium: str, attn_with_saml: Server
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(base_url=attn_with_saml.base_url, viewport=PHONE)
            context.set_default_timeout(15_000)
            page = context.new_page()
            acs_posts: list[dict[str, str]] = []
            page.on(
                "request",
                lambda request: (
                    acs_posts.append(request.all_headers())
                    if request.url.endswith("/sso/saml/acs")
                    else None
                ),
            )
            page.goto("/login")
            button = page.get_by_role("button", name=f"Sign in with {PROVIDER_NAME}")
            expect(button).to_be_visible()
            page.screenshot(path=ARTIFACTS / "saml-sign-in-page.png", full_page=True)
            button.click()
            expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()
            page.get_by_label("School number").fill(Student.number)
            page.get_by_label("Name").fill(Student.name)
            page.get_by_label("Affiliation").select_option("student")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{attn_with_saml.base_url}/student")
            expect(page.get_by_text(Student.name).first).to_be_visible()
            page.screenshot(path=ARTIFACTS / "saml-student-page.png", full_page=True)
            # the IdP's post came from another site, and carried none of ATTN's cookies
            assert len(acs_posts) == 1
            assert acs_posts[0].get("sec-fetch-site") == "cross-site", acs_posts[0]
            assert "attn_" not in acs_posts[0].get("cookie", ""), acs_posts[0]
            names = {cookie["name"] for cookie in context.cookies(attn_with_saml.base_url)}
            assert {"attn_session", "attn_device"} <= names
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"the page is {width}px wide on a 360px screen"
        finally:
            browser.close()
