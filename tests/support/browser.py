"""What the browser tests run in: Chromium, found and launched, and the `attn serve` that the
pages come from.

Chromium is looked up here, never installed: the binary `ATTN_CHROMIUM` names, else Debian's
`/usr/bin/chromium`, else `chromium` on PATH. `make browser` installs Debian's package (and
`make test` and CI run it first). Playwright's own browser download is not used.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support.database import Database
from tests.support.processes import ATTN

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
