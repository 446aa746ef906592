"""The SAML tests' machinery: the test IdP (`tests.support.saml_idp`) started as its own
process on a loopback port, and a browser's round trip through it: the sign-in form's
"Sign in with ..." button, the IdP's page with the chosen user, and its self-posting form
sent on to ATTN's ACS from the IdP's site (`Sec-Fetch-Site: cross-site`, and without ATTN's
cookies, which a browser keeps from another site's post), then the ACS's hand-over page.

xmlsec1 (Debian's package, which pysaml2 calls) is installed when it is missing and this is
root with apt-get (as `make xmlsec` does); otherwise the tests are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import html
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.support.ports import free_ports
from tests.support.processes import stop_popen

ROOT = Path(__file__).resolve().parents[2]
ACS = "http://testserver/sso/saml/acs"
SP_ENTITY_ID = "http://testserver/sso/saml/metadata"
STARTUP_SECONDS = 30
_FORM = re.compile(r'<form method="post" action="([^"]+)">')
_FIELD = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


def xmlsec_missing() -> str | None:
    """Why the SAML tests cannot run (None when they can): xmlsec1 absent, after trying to
    install Debian's package as root."""
    if shutil.which("xmlsec1"):
        return None
    apt_get = shutil.which("apt-get")
    if os.geteuid() == 0 and apt_get:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            subprocess.run(
                [apt_get, "-q", "-y", "install", "xmlsec1"],
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=600,
                check=False,
            )
        if shutil.which("xmlsec1"):
            return None
    return "xmlsec1 is not installed (Debian: apt-get install xmlsec1, or make xmlsec)"


@dataclass(frozen=True)
class RunningIdp:
    """The test IdP's process: its address, its metadata file, and the SP metadata file it
    reads (the tests write the app's there)."""

    url: str
    metadata_file: Path
    sp_metadata_file: Path
    log: Path

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/metadata"

    def control(self, **change: Any) -> None:
        """Switch the signing key / published certificates (see the IdP's docstring)."""
        answer = httpx.post(f"{self.url}/control", json=change, timeout=10)
        assert answer.status_code == 200, answer.text

    def reset(self) -> None:
        self.control(reset=True)


@contextlib.contextmanager
def running_idp(
    directory: Path, log: Path, port: int | None = None, host_name: str = "127.0.0.1"
) -> Iterator[RunningIdp]:
    """`python -m tests.support.saml_idp` on 127.0.0.1 (its URLs naming `host_name`), stopped
    afterwards."""
    port = port or free_ports(1)[0]
    directory.mkdir(parents=True, exist_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    sp_metadata = directory / "sp-metadata.xml"
    sp_metadata.write_text("")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.saml_idp",
                "--port",
                str(port),
                "--sp-metadata",
                str(sp_metadata),
                "--data-dir",
                str(directory / "idp"),
                "--host-name",
                host_name,
            ],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://{host_name}:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the test IdP stopped: {log.read_text(errors='replace')}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/metadata", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the test IdP did not start: {log.read_text()}")
            time.sleep(0.1)
        yield RunningIdp(
            url=url,
            metadata_file=directory / "idp" / "idp-metadata.xml",
            sp_metadata_file=sp_metadata,
            log=log,
        )
    finally:
        stop_popen(process)


def form_of(page: httpx.Response) -> tuple[str, dict[str, str]]:
    """The IdP's self-posting form: where it posts, and its fields."""
    found = _FORM.search(page.text)
    assert found, page.text[:500]
    fields = {name: html.unescape(value) for name, value in _FIELD.findall(page.text)}
    return html.unescape(found.group(1)), fields


async def publish_sp_metadata(browser: httpx.AsyncClient, idp: RunningIdp) -> str:
    """Give the IdP the app's SP metadata, as an IdP's administrator does."""
    answer = await browser.get("/sso/saml/metadata")
    assert answer.status_code == 200, answer.text[:500]
    idp.sp_metadata_file.write_text(answer.text)
    return answer.text


async def start(
    browser: httpx.AsyncClient, *, target: str = "/", remember: bool = False
) -> httpx.Response:
    """Open the sign-in form and press its SAML button: the answer sends the browser to the
    IdP (303)."""
    form = await browser.get("/login", params={"next": target})
    assert form.status_code == 200, form.text[:500]
    token = re.search(r'name="sign_in_token" value="([^"]+)"', form.text)
    assert token, form.text[:500]
    data = {"sign_in_token": token.group(1), "next": target}
    if remember:
        data["remember"] = "1"
    return await browser.post("/sso/saml/start", data=data)


async def at_idp(location: str, **knobs: str) -> httpx.Response:
    """The browser at the IdP (a real HTTP request to its process), with the test's knobs."""
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.get(httpx.URL(location).copy_merge_params(knobs))


async def post_to_acs(
    browser: httpx.AsyncClient, action: str, fields: dict[str, str]
) -> httpx.Response:
    """The IdP's page posting its form to ATTN's ACS, from the IdP's site: a browser sends
    `Sec-Fetch-Site: cross-site` and, ATTN's cookies being SameSite=Lax, none of them."""
    request = browser.build_request(
        "POST",
        urlsplit(action).path,
        data=fields,
        headers={"Sec-Fetch-Site": "cross-site", "Origin": "http://127.0.0.1"},
    )
    request.headers.pop("cookie", None)
    return await browser.send(request)


async def follow(browser: httpx.AsyncClient, answer: httpx.Response) -> httpx.Response:
    """Follow the ACS's 303 to the hand-over page, in the browser (with its cookies)."""
    assert answer.status_code == 303, (answer.status_code, answer.text[:800])
    return await browser.get(answer.headers["location"])


async def saml_response_for(
    browser: httpx.AsyncClient, *, target: str = "/", remember: bool = False, **knobs: str
) -> tuple[str, dict[str, str]]:
    """Start a sign-in and have the IdP answer it: the ACS URL and the form's fields."""
    started = await start(browser, target=target, remember=remember)
    assert started.status_code == 303, started.text[:800]
    page = await at_idp(started.headers["location"], **knobs)
    assert page.status_code == 200, page.text[:800]
    return form_of(page)


async def idp_initiated(idp: RunningIdp, **knobs: str) -> tuple[str, dict[str, str]]:
    """An unsolicited Response (IdP-initiated: no AuthnRequest): the ACS URL and fields."""
    return form_of(await at_idp(f"{idp.url}/idp-initiated", **knobs))


async def sign_in_through_idp(
    browser: httpx.AsyncClient, *, target: str = "/", remember: bool = False, **knobs: str
) -> httpx.Response:
    """The whole round trip; the ACS's answer when it refuses, else the hand-over page's."""
    action, fields = await saml_response_for(browser, target=target, remember=remember, **knobs)
    answer = await post_to_acs(browser, action, fields)
    if answer.status_code != 303:
        return answer
    return await follow(browser, answer)
