"""axe-core, the accessibility engine the browser tests run in each page: one pinned version
from the npm registry, checked against the registry's sha512 integrity and kept in
`.cache/axe-core/` (ignored by git).

Only the standard library is used, so `make browser` can run this file with any Python 3
before the project is installed (`python3 tests/support/axe_source.py`): it fetches the
tarball once and never fails, saying why when it cannot. The browser tests call
`axe_script()`, which fetches when the file is missing and tells why it cannot be had.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import os
import sys
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

VERSION = "4.14.1"
# The registry's `dist.integrity` of axe-core 4.14.1 (`npm view axe-core@4.14.1 dist.integrity`).
INTEGRITY = (
    "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ"
    "=="
)
TARBALL_URL = f"https://registry.npmjs.org/axe-core/-/axe-core-{VERSION}.tgz"
MEMBER = "package/axe.min.js"
CACHE = Path(__file__).resolve().parents[2] / ".cache" / "axe-core"
SCRIPT = CACHE / f"axe-{VERSION}.min.js"
FETCH_TIMEOUT = 30  # seconds


class AxeUnavailable(Exception):
    """axe-core is not in the cache and cannot be fetched; the message says why."""


def _check_integrity(tarball: bytes) -> None:
    algorithm, _, expected = INTEGRITY.partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, tarball).digest()).decode()
    if digest != expected:
        raise AxeUnavailable(
            f"the tarball from {TARBALL_URL} does not match its registry integrity "
            f"({algorithm}-{digest} != {INTEGRITY})"
        )


def fetch(url: str = TARBALL_URL) -> Path:
    """Download the pinned tarball, check its integrity, and store `axe.min.js` in the cache."""
    try:
        if not url.startswith("https://"):
            raise AxeUnavailable(f"not an https address: {url}")
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as response:  # noqa: S310 (https only)
            tarball: bytes = response.read()
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        raise AxeUnavailable(f"cannot download {url}: {exc}") from exc
    _check_integrity(tarball)
    try:
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
            member = archive.extractfile(MEMBER)
            if member is None:
                raise KeyError(MEMBER)
            script = member.read()
    except (KeyError, tarfile.TarError) as exc:
        raise AxeUnavailable(f"{url} has no readable {MEMBER}: {exc}") from exc
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = SCRIPT.with_suffix(f".{os.getpid()}.part")
    partial.write_bytes(script)
    partial.replace(SCRIPT)  # whole or not at all, even with two test runs at once
    return SCRIPT


def axe_script() -> str:
    """The source of axe.min.js, fetched first when the cache does not have it."""
    if not SCRIPT.is_file():
        fetch()
    return SCRIPT.read_text(encoding="utf-8")


def main() -> int:
    """`make browser`'s step: fetch when missing; say what happened; always exit 0."""
    if SCRIPT.is_file():
        print(f"browser: axe-core {VERSION} is {SCRIPT}")
        return 0
    try:
        fetch()
    except AxeUnavailable as exc:
        print(f"browser: axe-core {VERSION} not fetched ({exc});")
        print("browser: the accessibility tests will fetch it when run, or be skipped saying why")
        return 0
    print(f"browser: axe-core {VERSION} fetched to {SCRIPT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
