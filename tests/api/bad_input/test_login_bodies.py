"""Bad bodies of `POST /auth/login`: refused with the exact status and code, nothing written to
Redis, and the account neither locked out nor unable to log in afterwards."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis.asyncio as aioredis

from tests.support.accounts import add_accounts
from tests.support.api import PASSWORD, Api
from tests.support.refusals import JSON, MALFORMED_JSON, assert_error, snapshot

LOGIN_NUMBER = "S9000001"


def login_body(**fields: Any) -> bytes:
    body = {"school_number": LOGIN_NUMBER, "password": PASSWORD}
    body.update(fields)
    return json.dumps({k: v for k, v in body.items() if v is not ...}).encode()


LOGIN_REFUSALS: dict[str, tuple[bytes, int, str]] = {
    **{f"malformed-{k}": (v, 422, "validation_error") for k, v in MALFORMED_JSON.items()},
    "array": (b"[]", 422, "validation_error"),
    "string": (b'"S9000001"', 422, "validation_error"),
    "null": (b"null", 422, "validation_error"),
    "number": (b"1", 422, "validation_error"),
    "missing-both": (b"{}", 422, "validation_error"),
    "missing-number": (login_body(school_number=...), 422, "validation_error"),
    "missing-password": (login_body(password=...), 422, "validation_error"),
    "number-int": (login_body(school_number=9000001), 422, "validation_error"),
    "number-null": (login_body(school_number=None), 422, "validation_error"),
    "number-list": (login_body(school_number=[LOGIN_NUMBER]), 422, "validation_error"),
    "password-int": (login_body(password=123456), 422, "validation_error"),
    "password-bool": (login_body(password=True), 422, "validation_error"),
    "password-object": (login_body(password={"p": PASSWORD}), 422, "validation_error"),
    # Correct credentials do not excuse an unknown field: no session is opened.
    "unknown-field": (login_body(role="admin"), 422, "validation_error"),
    "empty-number": (login_body(school_number=""), 422, "validation_error"),
    "empty-password": (login_body(password=""), 422, "validation_error"),
    "10k-number": (login_body(school_number="S" * 10_000), 422, "validation_error"),
    "10k-password": (login_body(password="p" * 10_000), 422, "validation_error"),
    # Well-formed requests naming nobody: the same 401 as for a wrong password, and no
    # failure counter is kept for a school number that cannot exist.
    "blank-number": (login_body(school_number="   "), 401, "invalid_credentials"),
    "nul-number": (login_body(school_number="S9000001\x00"), 422, "validation_error"),
    "esc-number": (login_body(school_number="\x1b[2J"), 422, "validation_error"),
    "rtl-override-number": (login_body(school_number="\u202e1000009S"), 422, "validation_error"),
    "braces-number": (login_body(school_number="{u:S9000001}"), 401, "invalid_credentials"),
    # A lone surrogate is not text: it can be neither hashed nor stored.
    "lone-surrogate-password": (
        b'{"school_number": "S9000001", "password": "\\ud800"}',
        422,
        "validation_error",
    ),
    "lone-surrogate-number": (
        b'{"school_number": "S900\\udfff", "password": "x"}',
        422,
        "validation_error",
    ),
}


@pytest.mark.parametrize(
    ("body", "status", "code"), LOGIN_REFUSALS.values(), ids=LOGIN_REFUSALS.keys()
)
async def test_login_refuses_bad_body(
    api: Api, redis: aioredis.Redis, body: bytes, status: int, code: str
) -> None:
    [user] = await add_accounts(api, ("student", "Ada Byron"))
    body = body.replace(LOGIN_NUMBER.encode(), user.school_number.encode())
    before = await snapshot(redis)
    assert before == {}

    response = await api.client.post("/auth/login", content=body, headers=JSON)

    assert_error(response, status, code)
    assert await snapshot(redis) == {}, "a refused login wrote to Redis"
    await api.login(user)  # not locked out, and logging in still works
