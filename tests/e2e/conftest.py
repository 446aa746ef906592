"""Fixtures of the browser tests: Debian's Chromium, one `attn serve` for the module, and
browser contexts that are always closed.

Chromium is `/usr/bin/chromium`. When it is missing and the tests run as root on Debian,
`apt-get install -y chromium` is tried (after `apt-get update` when the first try fails), each
step bounded by a timeout; when it still cannot be had, the tests are skipped with the reason.
Playwright's own browser download is not used.

The server runs as the real `attn serve --no-sweep` on a free 127.0.0.1 port against the test
SQL database and Redis (both emptied first), with a check-in code that rotates every 60 s so
a code read from the projector stays valid for the test. The server is always stopped.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis as sync_redis
from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright
from sqlalchemy import text

from attn.db.engine import create_engine
from attn.db.tables import Base
from tests.support.database import Database

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
APT_UPDATE_TIMEOUT = 180
APT_INSTALL_TIMEOUT = 600

ATTN = Path(sys.executable).parent / "attn"
STARTUP_TIMEOUT = 30
SHUTDOWN_TIMEOUT = 15
CLI_TIMEOUT = 60

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


# --- Chromium ----------------------------------------------------------------------------------


def _apt_get(*args: str, timeout: int) -> str | None:
    """Run apt-get; None when it worked, else a one-line reason."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        result = subprocess.run(
            ["apt-get", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"`apt-get {' '.join(args)}` did not finish in {timeout} s"
    except OSError as exc:
        return f"`apt-get {' '.join(args)}` could not run: {exc}"
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return f"`apt-get {' '.join(args)}` exited with {result.returncode}: {last}"
    return None


def _install_chromium() -> str | None:
    """Install Debian's chromium package; None when it is there afterwards, else why not."""
    if not Path("/etc/debian_version").exists():
        return "this is not a Debian system, so `apt-get install chromium` was not tried"
    if os.geteuid() != 0:
        return "not running as root, so `apt-get install chromium` was not tried"
    if shutil.which("apt-get") is None:
        return "apt-get is not on PATH"
    reason = _apt_get("install", "-y", "chromium", timeout=APT_INSTALL_TIMEOUT)
    if reason is not None:  # most often stale or missing package lists
        reason = _apt_get("update", timeout=APT_UPDATE_TIMEOUT) or _apt_get(
            "install", "-y", "chromium", timeout=APT_INSTALL_TIMEOUT
        )
    if reason is None and not CHROMIUM.exists():
        reason = f"the chromium package is installed but {CHROMIUM} is missing"
    return reason


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    if not CHROMIUM.exists():
        reason = _install_chromium()
        if reason is not None:
            pytest.skip(f"Chromium is not installed and could not be installed: {reason}")
    return str(CHROMIUM)


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


@dataclass(frozen=True)
class Server:
    base_url: str
    env: dict[str, str]
    database: Database

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def attn(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """Run the `attn` command with the server's settings."""
        return subprocess.run(
            [str(ATTN), *args],
            input=stdin,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
            check=False,
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _empty_tables(database: Database) -> None:
    engine = create_engine(database.async_url)
    try:
        async with engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                await connection.execute(text(f"DELETE FROM {table.name}"))
    finally:
        await engine.dispose()


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(SHUTDOWN_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(SHUTDOWN_TIMEOUT)


@pytest.fixture(scope="module")
def attn_server(
    database: Database, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """`attn serve --no-sweep` on empty tables and an empty Redis database, for the module."""
    asyncio.run(_empty_tables(database))
    with sync_redis.Redis.from_url(redis_url) as client:
        client.flushdb()
    data_dir = tmp_path_factory.mktemp("attn-e2e")
    env = {name: value for name, value in os.environ.items() if not name.startswith("ATTN_")}
    env.update(
        ATTN_DATABASE_URL=database.url,
        ATTN_REDIS_URL=redis_url,
        ATTN_DATA_DIR=str(data_dir / "data"),
        ATTN_CODE_ROTATION_SECONDS="60",
        ATTN_LOG_LEVEL="warning",
    )
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / "e2e-server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(ATTN), "serve", "--no-sweep", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while True:
                if process.poll() is not None:
                    pytest.fail(
                        f"attn serve exited with {process.returncode}: "
                        f"{log_path.read_text(errors='replace')[-2000:]}"
                    )
                try:
                    if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"attn serve did not answer /healthz in {STARTUP_TIMEOUT} s")
                time.sleep(0.1)
            yield Server(base_url=base_url, env=env, database=database)
        finally:
            _stop(process)
