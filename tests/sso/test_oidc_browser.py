"""A student on a phone (360x740) signs in by pressing "Sign in with ..." in a real Chromium:
the real `attn serve`, the real test provider's sign-in page, back to the student page. The
sign-in page's CSP lets its form go on to the provider (a form's redirect is held to
form-action). Screenshots: test-artifacts/oidc-sign-in-*.png."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as sync_redis
from playwright.sync_api import Browser, expect, sync_playwright

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
from tests.support.oidc_harness import CLIENT_ID, CLIENT_SECRET, HarnessProvider
from tests.support.pages import PHONE, Person
from tests.support.processes import child_environment

pytestmark = pytest.mark.e2e

STUDENT = Person("S7001", "Derya Kılıç", "student")


@pytest.fixture
def chromium_browser() -> Iterator[Browser]:
    executable = find_chromium()
    if executable is None:
        pytest.skip(chromium_missing())
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def oidc_server(
    database: Database,
    redis_url: str,
    tmp_path: Path,
    provider: HarnessProvider,
    e2e_port: int,
) -> Iterator[Server]:
    asyncio.run(empty_tables(database))
    with sync_redis.Redis.from_url(redis_url) as client:
        client.flushdb()
    env = child_environment(
        DATABASE_URL=database.url,
        REDIS_URL=redis_url,
        DATA_DIR=tmp_path / "data",
        PUBLIC_URL=f"http://127.0.0.1:{e2e_port}",
        LOG_LEVEL="warning",
        OIDC_ISSUER=provider.issuer,
        OIDC_CLIENT_ID=CLIENT_ID,
        OIDC_CLIENT_SECRET=CLIENT_SECRET,
        OIDC_PROVIDER_NAME="Test University",
        PASSWORD_SIGN_IN="false",
    )
    with serving(e2e_port, env, database, ARTIFACTS / "e2e-oidc-server.log") as server:
        add_person(server, STUDENT)
        yield server


def test_a_student_signs_in_with_the_provider_on_a_phone(
    oidc_server: Server, chromium_browser: Browser, provider: HarnessProvider
) -> None:
    # the server first: Playwright's driver runs an event loop of its own
    provider.add_account("derya", preferred_username=STUDENT.number, name=STUDENT.name)
    context = chromium_browser.new_context(base_url=oidc_server.base_url, viewport=PHONE)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto("/login")
        button = page.get_by_role("button", name="Sign in with Test University")
        expect(button).to_be_visible()
        expect(page.get_by_label("Password")).to_have_count(0)  # ATTN_PASSWORD_SIGN_IN=false
        page.screenshot(path=str(ARTIFACTS / "oidc-sign-in-page.png"), full_page=True)
        button.click()
        page.wait_for_url(f"{provider.issuer}/interaction/**")
        page.get_by_label("Account").fill("derya")
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(oidc_server.url("/student"))
        expect(page.get_by_text(STUDENT.name).first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "oidc-sign-in-student.png"), full_page=True)
    finally:
        context.close()
