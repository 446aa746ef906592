"""Logins, sessions by role TTL, logout, replacement, rate limiting."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import pytest

from tests.support.api import PASSWORD, Api


async def test_login_returns_token_role_ttl_and_user(api: Api) -> None:
    teacher = await api.add_user("teacher", full_name="Ayşe Yılmaz")
    response = await api.client.post(
        "/auth/login", json={"school_number": teacher.school_number, "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["user"] == {
        "school_number": teacher.school_number,
        "full_name": "Ayşe Yılmaz",
        "role": "teacher",
    }
    me = await api.client.get(
        "/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["user"] == body["user"]
    expires = datetime.fromisoformat(me.json()["session_expires_at"])
    assert expires.utcoffset() is not None

    student = await api.add_user("student")
    response = await api.client.post(
        "/auth/login", json={"school_number": student.school_number, "password": PASSWORD}
    )
    assert response.json()["expires_in"] == 600


@pytest.mark.parametrize("who", ["unknown", "wrong_password"])
async def test_bad_credentials_look_the_same(api: Api, who: str) -> None:
    user = await api.add_user("student")
    number = "NOBODY1" if who == "unknown" else user.school_number
    password = PASSWORD if who == "unknown" else "wrong"
    response = await api.client.post(
        "/auth/login", json={"school_number": number, "password": password}
    )
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": "invalid_credentials",
            "message": "The school number or password is wrong.",
        }
    }


async def test_repeated_failures_are_rate_limited(make_api: Any) -> None:
    async with make_api(LOGIN_MAX_FAILURES=3) as api:
        user = await api.add_user("student")
        for _ in range(3):
            response = await api.client.post(
                "/auth/login", json={"school_number": user.school_number, "password": "nope"}
            )
            assert response.status_code == 401
        # now even the right password is refused until the window passes
        response = await api.client.post(
            "/auth/login", json={"school_number": user.school_number, "password": PASSWORD}
        )
        assert response.status_code == 429
        assert response.json()["error"]["code"] == "too_many_attempts"
        assert int(response.headers["Retry-After"]) > 0
        # other accounts are not affected
        other = await api.add_user("student")
        await api.login(other)


@pytest.mark.slow  # waits out real Redis TTLs
async def test_sessions_expire_by_role_ttl(make_api: Any) -> None:
    async with make_api(STUDENT_SESSION_TTL_SECONDS=1, TEACHER_SESSION_TTL_SECONDS=3) as api:
        _, student_headers = await api.user_headers("student")
        _, teacher_headers = await api.user_headers("teacher")
        assert (await api.client.get("/auth/me", headers=student_headers)).status_code == 200
        await asyncio.sleep(1.3)
        response = await api.client.get("/auth/me", headers=student_headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"
        assert (await api.client.get("/auth/me", headers=teacher_headers)).status_code == 200
        await asyncio.sleep(2)
        assert (await api.client.get("/auth/me", headers=teacher_headers)).status_code == 401


async def test_logout_kills_the_token_at_once(api: Api) -> None:
    _, headers = await api.user_headers("teacher")
    response = await api.client.post("/auth/logout", headers=headers)
    assert response.status_code == 204
    assert (await api.client.get("/auth/me", headers=headers)).status_code == 401
    assert (await api.client.post("/auth/logout", headers=headers)).status_code == 401
    response = await api.client.get("/teacher/lessons", headers=headers)
    assert response.status_code == 401


async def test_second_login_replaces_the_first(api: Api) -> None:
    user = await api.add_user("student")
    first = await api.login(user)
    second = await api.login(user)
    assert (await api.client.get("/auth/me", headers=first)).status_code == 401
    assert (await api.client.get("/auth/me", headers=second)).status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Bearer ",
        "Basic abc",
        "Bearer nodot",
        "Bearer S1.",
        "Bearer {x}.abc",
        "Bearer T1.forged-secret",
    ],
)
async def test_bad_tokens_are_401(api: Api, authorization: str | None) -> None:
    await api.add_user("teacher", school_number="T1")
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await api.client.get("/auth/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_token_of_another_user_with_a_forged_prefix_is_refused(api: Api) -> None:
    alice = await api.add_user("student")
    bob = await api.add_user("student")
    alice_token = (await api.login(alice))["Authorization"].split(" ", 1)[1]
    await api.login(bob)
    secret = alice_token.rsplit(".", 1)[1]
    forged = {"Authorization": f"Bearer {bob.school_number}.{secret}"}
    assert (await api.client.get("/auth/me", headers=forged)).status_code == 401
