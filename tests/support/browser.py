"""What the browser tests run in: Chromium, found and launched, the `attn serve` that the
pages come from (the package's, or a test's own with its settings and the fake verifier), and
the people imported into it.

Chromium is looked up here, never installed: the binary `ATTN_CHROMIUM` names, else Debian's
`/usr/bin/chromium`, else `chromium` on PATH. `make browser` installs Debian's package (and
`make test` and CI run it first). Playwright's own browser download is not used.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tests.support.api import PASSWORD
from tests.support.database import Database
from tests.support.health import wait_until_healthy
from tests.support.ports import free_port
from tests.support.processes import ATTN, child_environment, stop_popen

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
NOT_FOUND = "Chromium not found: install Debian's chromium package (`make browser`)"

CLI_TIMEOUT = 60
STARTUP_TIMEOUT = 30
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _runnable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_chromium() -> str | None:
    """The Chromium binary to drive, or None when there is none."""
    for candidate in (os.environ.get("ATTN_CHROMIUM"), str(CHROMIUM), shutil.which("chromium")):
        if candidate is not None and _runnable(candidate):
            return candidate
    return None


def chromium_missing() -> str:
    """Why the browser tests are skipped when `find_chromium` finds nothing."""
    configured = os.environ.get("ATTN_CHROMIUM")
    if configured:
        return f"{NOT_FOUND}; ATTN_CHROMIUM={configured} is not an executable file"
    return NOT_FOUND


@dataclass(frozen=True)
class Server:
    """The `attn serve` the browser tests use, and the settings it runs with."""

    base_url: str
    env: dict[str, str]
    database: Database

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def attn(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """Run the `attn` command with the server's settings."""
        return subprocess.run(
            [ATTN, *args],
            input=stdin,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
            check=False,
        )


class Listed(Protocol):
    """Someone to make an account for: a school number, a full name and a role."""

    @property
    def number(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...


def add_person(server: Server, person: Listed) -> None:
    """Make one account (password `PASSWORD`) with `attn users add`."""
    added = server.attn(
        "users",
        "add",
        "--school-number",
        person.number,
        "--full-name",
        person.name,
        "--role",
        person.role,
        "--password-stdin",
        stdin=f"{PASSWORD}\n",
    )
    assert added.returncode == 0, added.stderr


def add_people(server: Server, people: Iterable[Listed], directory: Path) -> None:
    """Make the accounts (password `PASSWORD`) with one `attn users import`."""
    listing = directory / "people.csv"
    with listing.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["school_number", "full_name", "role", "password"])
        writer.writerows([p.number, p.name, p.role, PASSWORD] for p in people)
    imported = server.attn("users", "import", str(listing))
    assert imported.returncode == 0, imported.stderr


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [ATTN, *args], env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )


@contextmanager
def serving(port: int, env: dict[str, str], database: Database, log: Path) -> Iterator[Server]:
    """`attn serve --no-sweep` on 127.0.0.1:`port` with `env`, its output in `log`, once it
    answers `/healthz`; always stopped."""
    base_url = f"http://127.0.0.1:{port}"
    log.parent.mkdir(parents=True, exist_ok=True)
    process = _start(["serve", "--no-sweep", "--host", "127.0.0.1", "--port", str(port)], env, log)
    try:
        wait_until_healthy(
            base_url,
            process,
            lambda: log.read_text(errors="replace")[-2000:],
            seconds=STARTUP_TIMEOUT,
        )
        yield Server(base_url=base_url, env=env, database=database)
    finally:
        stop_popen(process)


@contextmanager
def own_server(
    database: Database,
    redis_url: str,
    data_dir: Path,
    *,
    name: str,
    people: Iterable[Listed],
    settings: dict[str, str],
    verifier_args: list[str],
    verifier_secret: str,
) -> Iterator[Server]:
    """A test's own `attn serve` beside the package's, on the same databases (start it after
    the package's server, which empties them), with `settings` (ATTN_* without the prefix), the
    fake verifier (`attn fake-verifier` with `verifier_args`) and `people` imported. The logs
    are test-artifacts/e2e-`name`.log and e2e-`name`-verifier.log; both processes are always
    stopped."""
    port, verifier_port = free_port(), free_port()
    env = child_environment(
        DATABASE_URL=database.url,
        REDIS_URL=redis_url,
        DATA_DIR=data_dir / "data",
        PUBLIC_URL=f"http://127.0.0.1:{port}",
        VERIFIER_URL=f"http://127.0.0.1:{verifier_port}/",
        VERIFIER_SECRET=verifier_secret,
        LOG_LEVEL="warning",
        **settings,
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    verifier = _start(
        ["fake-verifier", "--port", str(verifier_port), *verifier_args],
        env,
        ARTIFACTS / f"e2e-{name}-verifier.log",
    )
    try:
        with serving(port, env, database, ARTIFACTS / f"e2e-{name}.log") as server:
            add_people(server, people, data_dir)
            yield server
    finally:
        stop_popen(verifier)
