"""Test helpers for the pages: a cookie-keeping browser on the app from a chosen address, and
signing in the way a browser does (open the form, then send it with its token)."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI

from tests.support.api import PASSWORD

_SIGN_IN_TOKEN = re.compile(r'name="sign_in_token" value="([^"]+)"')
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def page_browser(
    app: FastAPI, address: str = "127.0.0.1", base_url: str = "http://testserver"
) -> httpx.AsyncClient:
    """A browser on the pages (not under /api/v1) whose connection comes from `address`."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 40000)),
        base_url=base_url,
        headers={"Accept": "text/html"},
    )


def sign_in_token_of(page: httpx.Response) -> str:
    """The sign-in form's CSRF token ('' when the page has none: the form is then refused)."""
    found = _SIGN_IN_TOKEN.search(page.text)
    return found.group(1) if found else ""


def csrf_of(page: httpx.Response) -> str:
    found = _CSRF.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


async def sign_in(
    browser: httpx.AsyncClient, number: str, password: str = PASSWORD, target: str = "/"
) -> httpx.Response:
    """Open the sign-in form and send it, as a person at a browser does."""
    form = await browser.get("/login", params={"next": target})
    assert form.status_code == 200, form.text[:500]
    return await browser.post(
        "/login",
        data={
            "sign_in_token": sign_in_token_of(form),
            "school_number": number,
            "password": password,
            "next": target,
        },
    )
