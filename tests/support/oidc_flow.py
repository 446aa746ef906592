"""Signing in through the test OpenID Provider as a browser does, with httpx: one cookie jar
for ATTN's pages (in process, at http://testserver) and the provider (a real server on
127.0.0.1). The sign-in page's "Sign in with ..." button posts the form to the start route,
the browser follows the provider's redirects and its sign-in page, and the provider sends it
back to ATTN's callback. Each step can be stopped short of the callback, so a test can
replay, swap or tamper with what comes back."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from fastapi import FastAPI

from tests.support.oidc_harness import HarnessProvider
from tests.support.sign_in_form import sign_in_token_of

CALLBACK_PATH = "/sso/oidc/callback"
_FORM_ACTION = re.compile(r'<form method="post" action="([^"]+/login)"')
MAX_REDIRECTS = 10


def sso_browser(app: FastAPI, address: str = "127.0.0.1") -> httpx.AsyncClient:
    """A browser whose requests to http://testserver reach `app` and the rest the network."""
    return httpx.AsyncClient(
        mounts={"http://testserver": httpx.ASGITransport(app=app, client=(address, 40000))},
        base_url="http://testserver",
        headers={"Accept": "text/html"},
        timeout=20,
    )


@dataclass
class Account:
    """A person at the provider: the account name typed at its sign-in page, and the school
    number (`preferred_username`) its ID tokens carry."""

    login: str
    school_number: str


def provider_account(
    provider: HarnessProvider,
    school_number: str,
    *,
    groups: list[str] | None = None,
    name: str = "",
    **claims: object,
) -> Account:
    login = f"u-{secrets.token_hex(4)}"
    values: dict[str, object] = {"preferred_username": school_number, **claims}
    if groups is not None:
        values["groups"] = groups
    if name:
        values["name"] = name
    provider.add_account(login, **values)
    return Account(login, school_number)


async def press_sso_button(
    browser: httpx.AsyncClient, *, target: str = "/", remember: bool = False
) -> httpx.Response:
    """Open the sign-in page and press "Sign in with ...": the start route's answer."""
    page = await browser.get("/login", params={"next": target})
    assert page.status_code == 200, page.text[:500]
    assert 'formaction="/sso/oidc/start"' in page.text, page.text[:2000]
    data = {"sign_in_token": sign_in_token_of(page), "next": target}
    if remember:
        data["remember"] = "1"
    return await browser.post("/sso/oidc/start", data=data)


async def follow(browser: httpx.AsyncClient, response: httpx.Response) -> httpx.Response:
    """Follow redirects until a page, or a redirect back to ATTN's callback (not followed)."""
    for _ in range(MAX_REDIRECTS):
        location = response.headers.get("location")
        if response.status_code not in (302, 303) or location is None:
            return response
        url = httpx.URL(str(response.url)).join(location)
        if url.path == CALLBACK_PATH:
            return response
        response = await browser.get(url)
    raise AssertionError("too many redirects")


async def at_provider(
    browser: httpx.AsyncClient, account: Account, start: httpx.Response, *, cancel: bool = False
) -> str:
    """From the start route's redirect: the provider's sign-in page, signed in as `account`
    (or cancelled); the callback URL the provider sends the browser back to."""
    assert start.status_code == 303, start.text[:500]
    page = await follow(browser, start)
    assert page.status_code == 200, page.text[:500]
    found = _FORM_ACTION.search(page.text)
    assert found, page.text[:1000]
    action = httpx.URL(str(page.url)).join(found.group(1))
    if cancel:
        answer = await browser.post(str(action).removesuffix("/login") + "/abort")
    else:
        answer = await browser.post(action, data={"login": account.login})
    back = await follow(browser, answer)
    assert back.status_code in (302, 303), back.text[:500]
    callback = str(httpx.URL(str(back.url)).join(back.headers["location"]))
    assert urlsplit(callback).path == CALLBACK_PATH, callback
    return callback


async def callback_url(
    browser: httpx.AsyncClient, account: Account, *, target: str = "/", remember: bool = False
) -> str:
    """Everything up to (not including) ATTN's callback."""
    start = await press_sso_button(browser, target=target, remember=remember)
    return await at_provider(browser, account, start)


async def sso_sign_in(
    browser: httpx.AsyncClient, account: Account, *, target: str = "/", remember: bool = False
) -> httpx.Response:
    """The whole sign-in; the callback's answer."""
    return await browser.get(await callback_url(browser, account, target=target, remember=remember))


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {**query_of(url), **changes}
    return parts._replace(query=urlencode(query)).geturl()


async def token_response(
    provider: HarnessProvider,
    *,
    issuer: str | None = None,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    account: Account,
    nonce: str,
) -> dict[str, str]:
    """A real token response from the provider for a client of the test's own (another site's
    application, or a flow this server never started): the authorization request, the sign-in
    and the code exchange, by a client of its own."""
    import base64
    import hashlib

    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    base = issuer or provider.issuer
    async with httpx.AsyncClient(timeout=20) as client:
        discovery = (await client.get(f"{base}/.well-known/openid-configuration")).json()
        start = await client.get(
            discovery["authorization_endpoint"],
            params={
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "scope": "openid profile",
                "state": secrets.token_urlsafe(16),
                "nonce": nonce,
                "code_challenge": challenge.decode(),
                "code_challenge_method": "S256",
            },
        )
        start.status_code = 303 if start.status_code == 302 else start.status_code
        callback = await at_provider(client, account, start)
        tokens = await client.post(
            discovery["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": query_of(callback)["code"],
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
            auth=(client_id, client_secret),
        )
        assert tokens.status_code == 200, tokens.text
        answer: dict[str, str] = tokens.json()
        return answer
