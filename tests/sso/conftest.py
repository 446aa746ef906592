"""Fixtures of the single sign-on tests: the test OpenID Provider (the certified npm package
`oidc-provider`, run by tests/support/oidc_provider/provider.mjs) on a free 127.0.0.1 port for
the whole package, its knobs reset before each test, and apps configured to sign in through it.

When Node.js or the package cannot be had (no npm, an offline machine without the cache),
every test here is skipped with the reason; `make sso-provider` installs it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.browser import ARTIFACTS
from tests.support.oidc_harness import (
    CLIENT_ID,
    CLIENT_SECRET,
    HarnessProvider,
    ProviderUnavailable,
    free_ports,
    running,
)

TENANTS = ("tenant-a", "tenant-b")
CALLBACK = "http://testserver/sso/oidc/callback"


@pytest.fixture(scope="session")
def e2e_port() -> int:
    """The port of the browser test's `attn serve`, registered at the provider in advance."""
    try:
        return free_ports(1)[0]
    except ProviderUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def oidc_provider(e2e_port: int) -> Iterator[HarnessProvider]:
    try:
        port = next(p for p in free_ports(2) if p != e2e_port)
        callbacks = [CALLBACK, f"http://127.0.0.1:{e2e_port}/sso/oidc/callback"]
        with running(port, callbacks, ARTIFACTS / "oidc-provider.log", TENANTS) as provider:
            yield provider
    except ProviderUnavailable as exc:
        pytest.skip(f"the test OpenID Provider cannot run: {exc}")


@pytest.fixture
def provider(oidc_provider: HarnessProvider) -> HarnessProvider:
    """The package's provider with its knobs back to normal (its keys stay as they are)."""
    oidc_provider.control("reset")
    return oidc_provider


def oidc_settings(provider: HarnessProvider, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "OIDC_ISSUER": provider.issuer,
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_PROVIDER_NAME": "Test University",
        "OIDC_ROLE_CLAIM": "groups",
        "OIDC_ROLE_MAP": "staff=teacher,student=student,it-admins=admin",
    }
    values.update(overrides)
    return values


@pytest.fixture
def make_sso_api(make_api: Callable[..., Any], provider: HarnessProvider) -> Callable[..., Any]:
    """An app that signs in through the test provider; use as `async with make_sso_api() as api`."""

    @asynccontextmanager
    async def build(**overrides: Any) -> AsyncIterator[Api]:
        async with make_api(**oidc_settings(provider, **overrides)) as api:
            yield api

    return build


@pytest.fixture
async def sso_api(make_sso_api: Callable[..., Any]) -> AsyncIterator[Api]:
    async with make_sso_api() as api:
        yield api
