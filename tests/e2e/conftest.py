"""Fixtures of the browser tests: Chromium, one `attn serve` and one browser for all of them,
the people and a live lesson they share, and browser contexts that are always closed.

Chromium is found by `tests.support.browser.find_chromium`; when there is none, the tests are
skipped with the reason. The fixtures never install it: `make browser` does.

The server runs as the real `attn serve --no-sweep` on a free 127.0.0.1 port against the test
SQL database and Redis (both emptied first), with a check-in code that rotates every 60 s so
a code read from the projector stays valid for the test. The server, the browser and the
people last for the whole `tests/e2e` package (every test has its own sessions, since a new
sign-in ends the last one); the server is always stopped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis as sync_redis
from playwright.sync_api import Browser, BrowserContext, Playwright, expect, sync_playwright

from tests.support.axe import AxeUnavailable, axe_source
from tests.support.browser import (
    ARTIFACTS,
    CHROMIUM_ARGS,
    Server,
    add_people,
    add_person,
    chromium_missing,
    find_chromium,
    serving,
)
from tests.support.database import Database, empty_tables
from tests.support.pages import LAB_TEACHER, OTHERS, PHONE, TEACHER, Lesson, sign_in, start_lesson
from tests.support.ports import free_port
from tests.support.processes import child_environment

HERE = Path(__file__).parent

expect.set_options(timeout=10_000)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/e2e drives a real browser: mark it `e2e`, so `-m "not e2e"`
    leaves it out. Tryfirst: the marks must be there before `-m` selects."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.e2e)


# --- Chromium ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    found = find_chromium()
    if found is None:
        pytest.skip(chromium_missing())
    return found


@pytest.fixture(scope="package")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="package")
def browser(playwright_driver: Playwright, chromium_executable: str) -> Iterator[Browser]:
    launched = playwright_driver.chromium.launch(
        executable_path=chromium_executable, args=CHROMIUM_ARGS
    )
    try:
        yield launched
    finally:
        launched.close()


@pytest.fixture
def new_context(browser: Browser, attn_server: Server) -> Iterator[Callable[..., BrowserContext]]:
    """Open browser contexts (one per person) on the server; all are closed after the test,
    before the server stops, so no live stream keeps it busy."""
    opened: list[BrowserContext] = []

    def open_context(**options: Any) -> BrowserContext:
        context = browser.new_context(base_url=attn_server.base_url, **options)
        context.set_default_timeout(10_000)
        context.set_default_navigation_timeout(15_000)
        opened.append(context)
        return context

    try:
        yield open_context
    finally:
        for context in opened:
            context.close()


# --- the server ----------------------------------------------------------------------------


@pytest.fixture(scope="package")
def attn_server(
    database: Database, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """`attn serve --no-sweep` on empty tables and an empty Redis database, for the package."""
    asyncio.run(empty_tables(database))
    with sync_redis.Redis.from_url(redis_url) as client:
        client.flushdb()
    data_dir = tmp_path_factory.mktemp("attn-e2e")
    env = child_environment(
        DATABASE_URL=database.url,
        REDIS_URL=redis_url,
        DATA_DIR=data_dir / "data",
        CODE_ROTATION_SECONDS="60",
        LOG_LEVEL="warning",
        TIMEZONE="Europe/Istanbul",  # the institution's zone, which the pages show times in
    )
    with serving(free_port(), env, database, ARTIFACTS / "e2e-server.log") as server:
        yield server


# --- the people and the lesson they share ------------------------------------------------


@pytest.fixture(scope="package")
def people(attn_server: Server, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The accounts, made with the CLI: the main teacher with `attn users add`, everyone else
    with one `attn users import`."""
    add_person(attn_server, TEACHER)
    add_people(attn_server, OTHERS, tmp_path_factory.mktemp("people"))


@pytest.fixture(scope="package")
def chemistry(browser: Browser, attn_server: Server, people: None) -> Iterator[Lesson]:
    """A live lesson with a rotating code that the smaller tests check in to."""
    context = browser.new_context(base_url=attn_server.base_url, viewport=PHONE)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto("/login")
        sign_in(page, LAB_TEACHER)
        expect(page).to_have_url(attn_server.url("/teacher"))
        yield Lesson(start_lesson(page, "Chemistry 2"), context)
    finally:
        context.close()


# --- axe-core ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def axe_js() -> str:
    """axe-core's source (pinned, integrity-checked, cached in .cache/axe-core/); fetched
    when missing, and the test is skipped with the reason when it cannot be had."""
    try:
        return axe_source()
    except AxeUnavailable as exc:
        pytest.skip(f"axe-core unavailable: {exc} (`make browser` fetches it)")
