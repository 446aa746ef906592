"""The test OpenID Provider (tests/support/oidc_provider/provider.mjs, on the certified npm
package `oidc-provider`): installed with `npm ci` from the committed package-lock.json into
`.cache/oidc-provider/` (ignored by git), started on a free 127.0.0.1 port, driven through its
test knobs, stopped.

Only the standard library is used by `prepare`, so `make sso-provider` can run this file with
any Python 3 before the project is installed (`python3 tests/support/oidc_harness.py`): it
installs once (again when the lock file changes) and never fails, saying why when it cannot.
The tests call `prepare()` too and skip with its reason when Node.js or the package cannot
be had.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import ports

ROOT = Path(__file__).resolve().parents[2]
SOURCE = Path(__file__).resolve().parent / "oidc_provider"
SCRIPT = SOURCE / "provider.mjs"
CACHE = ROOT / ".cache" / "oidc-provider"
MODULES = CACHE / "node_modules"
STAMP = CACHE / ".installed"
INSTALL_TIMEOUT = 300  # seconds for npm ci
STARTUP_TIMEOUT = 20
CLIENT_ID = "attn"
CLIENT_SECRET = "attn-test-client-secret"
OTHER_CLIENT_ID, OTHER_CLIENT_SECRET = "other-app", "other-secret"
# set to `first-last` (say 18100-18199) to keep the servers the tests start in that range


class ProviderUnavailable(Exception):
    """Node.js or the oidc-provider package cannot be had; the message says why."""


def _lock_digest() -> str:
    return hashlib.sha256((SOURCE / "package-lock.json").read_bytes()).hexdigest()


def prepare() -> Path:
    """Install the pinned oidc-provider into the cache (once per lock file); the modules."""
    digest = _lock_digest()
    if (
        STAMP.is_file()
        and STAMP.read_text().strip() == digest
        and (MODULES / "oidc-provider").is_dir()
    ):
        return MODULES
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise ProviderUnavailable("Node.js (node and npm) is not on PATH: install nodejs and npm")
    CACHE.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(SOURCE / name, CACHE / name)
    try:
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
            cwd=CACHE,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ProviderUnavailable(f"npm ci in {CACHE} did not finish: {exc}") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ProviderUnavailable(f"npm ci in {CACHE} failed: {' / '.join(tail)}")
    STAMP.write_text(digest)
    return MODULES


def free_ports(count: int) -> list[int]:
    """`count` free loopback ports (`tests.support.ports.free_ports`), or ProviderUnavailable."""
    try:
        return ports.free_ports(count)
    except ports.NoFreePort as exc:
        raise ProviderUnavailable(str(exc)) from exc


@dataclass
class HarnessProvider:
    """A running test provider and its knobs (see provider.mjs)."""

    port: int
    tenants: tuple[str, ...]
    log: Path

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def common_issuer(self) -> str:
        """The multi-tenant issuer, as Microsoft Entra's `common` endpoint."""
        return f"{self.issuer}/common/v2.0"

    def tenant_issuer(self, tenant: str) -> str:
        return f"{self.issuer}/{tenant}/v2.0"

    def control(self, knob: str, **body: Any) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310 (loopback http)
            f"{self.issuer}/_control/{knob}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            answer: dict[str, Any] = json.loads(response.read())
        return answer

    def stats(self) -> dict[str, int]:
        with urllib.request.urlopen(f"{self.issuer}/_control/stats", timeout=10) as response:  # noqa: S310
            counts: dict[str, int] = json.loads(response.read())
        return counts

    def add_account(self, account_id: str, **claims: Any) -> None:
        self.control("accounts", id=account_id, claims=claims)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def command(port: int, redirect_uris: Sequence[str], tenants: Sequence[str] = ()) -> list[str]:
    """The command line that starts the test provider (README shows the same)."""
    args = ["node", str(SCRIPT), "--port", str(port), "--client-id", CLIENT_ID]
    args += ["--client-secret", CLIENT_SECRET]
    for uri in redirect_uris:
        args += ["--redirect-uri", uri]
    if tenants:
        args += ["--tenants", ",".join(tenants)]
    return args


@contextlib.contextmanager
def running(
    port: int, redirect_uris: Sequence[str], log: Path, tenants: Sequence[str] = ()
) -> Iterator[HarnessProvider]:
    """The test provider on 127.0.0.1:`port`, stopped (its process group) afterwards."""
    modules = prepare()
    env = {**os.environ, "OIDC_PROVIDER_MODULES": str(modules)}
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as output:
        process = subprocess.Popen(
            command(port, redirect_uris, tenants),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    provider = HarnessProvider(port, tuple(tenants), log)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                raise ProviderUnavailable(f"the test provider exited:\n{provider.log_text()}")
            if time.monotonic() > deadline:
                raise ProviderUnavailable(
                    f"the test provider did not answer:\n{provider.log_text()}"
                )
            try:
                provider.stats()
                break
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        yield provider
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


if __name__ == "__main__":
    try:
        print(f"sso-provider: oidc-provider is in {prepare()}")
    except ProviderUnavailable as exc:
        print(f"sso-provider: {exc}; the single sign-on tests will be skipped", file=sys.stderr)
