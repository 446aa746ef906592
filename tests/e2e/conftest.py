"""Fixtures of the browser tests: Chromium, one `attn serve` for the module, and browser
contexts that are always closed.

Chromium is found by `tests.support.browser.find_chromium`; when there is none, the tests are
skipped with the reason. The fixtures never install it: `make browser` does.

The server runs as the real `attn serve --no-sweep` on a free 127.0.0.1 port against the test
SQL database and Redis (both emptied first), with a check-in code that rotates every 60 s so
a code read from the projector stays valid for the test. The server is always stopped.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis as sync_redis
from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright

from tests.support.browser import ARTIFACTS, CHROMIUM_ARGS, Server, chromium_missing, find_chromium
from tests.support.database import Database, empty_tables
from tests.support.health import wait_until_healthy
from tests.support.ports import free_port
from tests.support.processes import ATTN, child_environment, stop_popen

STARTUP_TIMEOUT = 30


# --- Chromium ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    found = find_chromium()
    if found is None:
        pytest.skip(chromium_missing())
    return found


@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
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


@pytest.fixture(scope="module")
def attn_server(
    database: Database, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """`attn serve --no-sweep` on empty tables and an empty Redis database, for the module."""
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
    )
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / "e2e-server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [ATTN, "serve", "--no-sweep", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_healthy(
                base_url,
                process,
                lambda: log_path.read_text(errors="replace")[-2000:],
                seconds=STARTUP_TIMEOUT,
            )
            yield Server(base_url=base_url, env=env, database=database)
        finally:
            stop_popen(process)
