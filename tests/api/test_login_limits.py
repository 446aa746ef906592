"""Login limits under attack: an attempt is counted before its password hash is checked, so a
burst checks no more hashes than the limit; failures are counted per account and client
address, so a flood from one address does not lock the owner out elsewhere or on a
remembered device, while an account-wide ceiling stops a guesser spread over many addresses;
the sign-in page and the API share the rule."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import redis.asyncio as aioredis

from attn.db.engine import create_engine, session_factory
from attn.services.passwords import PasswordHasher
from tests.support.api import PASSWORD, Api
from tests.support.sign_in_form import page_browser, sign_in

OWNER = "127.0.0.1"
ATTACKER = "127.0.0.2"
DEVICE = "owner-phone-0123456789"


class CountingHasher(PasswordHasher):
    """The real argon2id hasher, counting the password hashes it checks."""

    def __init__(self, threads: int) -> None:
        super().__init__(threads)
        self.checked = 0
        self._lock = threading.Lock()

    def _verify_sync(self, password_hash: str, password: str) -> bool:
        with self._lock:
            self.checked += 1
        return super()._verify_sync(password_hash, password)


def count_hashes(api: Api) -> CountingHasher:
    """Put a counting hasher on the running app's service context."""
    hasher = CountingHasher(api.context.settings.PASSWORD_HASH_THREADS)
    api.app.state.context = dataclasses.replace(api.context, hasher=hasher)
    return hasher


@asynccontextmanager
async def client_from(api: Api, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """An API client of the same app whose connection comes from `address`."""
    transport = httpx.ASGITransport(app=api.app, client=(address, 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver/api/v1") as c:
        yield c


async def log_in(client: httpx.AsyncClient, number: str, password: str, **extra: Any) -> Any:
    return await client.post(
        "/auth/login", json={"school_number": number, "password": password, **extra}
    )


def assert_too_many(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "too_many_attempts"
    assert 1 <= int(response.headers["Retry-After"]) <= 300


async def test_login_rate_limit_race_a_burst_checks_at_most_max_failures_hashes(
    api: Api,
) -> None:
    user = await api.add_user("student")
    hasher = count_hashes(api)
    burst = await asyncio.gather(
        *(log_in(api.client, user.school_number, f"guess-{n}") for n in range(100))
    )
    assert hasher.checked <= api.context.settings.LOGIN_MAX_FAILURES == 10
    assert Counter(response.status_code for response in burst) == {401: 10, 429: 90}
    for response in burst:
        if response.status_code == 429:
            assert_too_many(response)
    # the right password, after the burst, is refused without a hash being checked
    assert_too_many(await log_in(api.client, user.school_number, PASSWORD))
    assert hasher.checked == 10


async def test_login_lockout_from_one_address_spares_the_owner_elsewhere_and_remembered_devices(
    api: Api,
) -> None:
    user = await api.add_user("student")
    remembered = await log_in(
        api.client, user.school_number, PASSWORD, remember_device=True, device_id=DEVICE
    )
    assert remembered.status_code == 200
    async with client_from(api, ATTACKER) as attacker:
        for n in range(10):
            assert (await log_in(attacker, user.school_number, f"guess-{n}")).status_code == 401
        assert_too_many(await log_in(attacker, user.school_number, "guess-10"))
        assert_too_many(await log_in(attacker, user.school_number, PASSWORD))
        # the owner, from another address, signs in with the password
        async with client_from(api, OWNER) as owner:
            signed_in = await log_in(owner, user.school_number, PASSWORD)
            assert signed_in.status_code == 200, signed_in.text
            # and a remembered device keeps working wherever it is
            refreshed = await owner.post(
                "/auth/refresh",
                json={"refresh_token": remembered.json()["refresh_token"], "device_id": DEVICE},
            )
            assert refreshed.status_code == 200, refreshed.text
        # the owner's success does not open the attacker's address again
        assert_too_many(await log_in(attacker, user.school_number, "guess-11"))


async def test_login_lockout_account_ceiling_stops_a_guesser_over_many_addresses(
    make_api: Any,
) -> None:
    async with make_api(LOGIN_MAX_FAILURES=3, LOGIN_ACCOUNT_MAX_FAILURES=7) as api:
        user = await api.add_user("student")
        remembered = await log_in(
            api.client, user.school_number, PASSWORD, remember_device=True, device_id=DEVICE
        )
        hasher = count_hashes(api)
        for address in ("127.0.0.2", "127.0.0.3"):
            async with client_from(api, address) as guesser:
                for n in range(3):
                    response = await log_in(guesser, user.school_number, f"guess-{n}")
                    assert response.status_code == 401, (address, n, response.text)
                assert_too_many(await log_in(guesser, user.school_number, "guess-3"))
        async with client_from(api, "127.0.0.4") as guesser:
            assert (await log_in(guesser, user.school_number, "guess-6")).status_code == 401
            # the seventh failure reached the account's ceiling: every address is refused now
            assert_too_many(await log_in(guesser, user.school_number, "guess-7"))
        assert hasher.checked == 7
        async with client_from(api, OWNER) as owner:
            assert_too_many(await log_in(owner, user.school_number, PASSWORD))
            refreshed = await owner.post(
                "/auth/refresh",
                json={"refresh_token": remembered.json()["refresh_token"], "device_id": DEVICE},
            )
            assert refreshed.status_code == 200, refreshed.text
        # another account is untouched
        other = await api.add_user("student")
        await api.login(other)


async def test_login_lockout_counts_an_ipv6_network_as_one_address(make_api: Any) -> None:
    """A client picks any address of its /64 freely, so the /64 is what is counted."""
    async with make_api(LOGIN_MAX_FAILURES=3) as api:
        user = await api.add_user("student")
        for n in range(3):
            async with client_from(api, f"2001:db8:0:1::{n + 1}") as guesser:
                assert (await log_in(guesser, user.school_number, f"guess-{n}")).status_code == 401
        async with client_from(api, "2001:db8:0:1::99") as guesser:
            assert_too_many(await log_in(guesser, user.school_number, PASSWORD))
        async with client_from(api, "2001:db8:0:2::1") as elsewhere:
            assert (await log_in(elsewhere, user.school_number, PASSWORD)).status_code == 200


async def test_login_lockout_rule_is_shared_by_the_sign_in_page(
    api: Api, redis: aioredis.Redis
) -> None:
    user = await api.add_user("student")
    async with client_from(api, ATTACKER) as attacker:
        for n in range(10):
            assert (await log_in(attacker, user.school_number, f"guess-{n}")).status_code == 401
    # the page, from the flooding address, is refused like the API
    async with page_browser(api.app, ATTACKER) as page:
        refused = await sign_in(page, user.school_number, target="/student")
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        # how long to wait, in words: the window's 300 s
        assert "Too many attempts. Try again in 5 minutes." in refused.text
        assert "attn_session=" not in refused.headers.get("set-cookie", "")
    # and signs the owner in from another address
    async with page_browser(api.app, OWNER) as page:
        signed = await sign_in(page, user.school_number, target="/student")
        assert signed.status_code == 303, signed.text
        assert signed.headers["location"] == "/student"
    # wrong passwords sent through the page count for the API too
    other = await api.add_user("student")
    async with page_browser(api.app, ATTACKER) as page:
        for n in range(10):
            wrong = await sign_in(page, other.school_number, password=f"guess-{n}")
            assert wrong.status_code == 401
    async with client_from(api, ATTACKER) as attacker:
        assert_too_many(await log_in(attacker, other.school_number, PASSWORD))
    async with client_from(api, OWNER) as owner:
        assert (await log_in(owner, other.school_number, PASSWORD)).status_code == 200


async def test_login_limits_a_store_failure_is_not_held_against_the_account(
    api: Api, tmp_path: Any
) -> None:
    """A login whose password could not be judged (the database did not answer) is 503 and
    leaves no failure counted, so an outage does not lock accounts out."""
    user = await api.add_user("student")
    working = api.context
    broken = create_engine(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/attn.sqlite3")
    api.app.state.context = dataclasses.replace(working, db=session_factory(broken))
    try:
        for _ in range(12):
            response = await log_in(api.client, user.school_number, PASSWORD)
            assert response.status_code == 503, response.text
            assert response.json()["error"]["code"] == "service_unavailable"
    finally:
        api.app.state.context = working
        await broken.dispose()
    # the whole allowance of wrong passwords is still there
    for n in range(10):
        assert (await log_in(api.client, user.school_number, f"guess-{n}")).status_code == 401
    assert_too_many(await log_in(api.client, user.school_number, PASSWORD))
