"""Remember this device: refresh tokens trade for sessions without the password."""

from __future__ import annotations

from typing import Any

import pytest
import redis.asyncio as aioredis

from tests.support.api import PASSWORD, Api
from tests.support.redis_cluster import all_keys

PHONE = "phone-0123456789abcdef"
LAPTOP = "laptop-0123456789abcdef"


async def remembered_login(api: Api, number: str, device: str) -> dict[str, Any]:
    response = await api.client.post(
        "/auth/login",
        json={
            "school_number": number,
            "password": PASSWORD,
            "remember_device": True,
            "device_id": device,
        },
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def refresh(api: Api, token: str, device: str) -> Any:
    return await api.client.post(
        "/auth/refresh", json={"refresh_token": token, "device_id": device}
    )


async def test_refresh_opens_a_new_session_without_the_password(
    api: Api, redis: aioredis.Redis
) -> None:
    student = await api.add_user("student")
    login = await remembered_login(api, student.school_number, PHONE)
    assert login["refresh_expires_in"] == 30 * 24 * 3600
    token = login["refresh_token"]
    secret = token.rsplit(".", 1)[1]
    assert len(secret) >= 43  # 256 bits, URL-safe base64
    # only a digest is stored
    stored = [await redis.get(name) for name in await all_keys(redis, "attn:refresh:*")]
    assert stored and all(secret not in value for value in stored)

    response = await refresh(api, token, PHONE)
    assert response.status_code == 200
    body = response.json()
    assert body["expires_in"] == 600
    assert body["user"]["school_number"] == student.school_number
    new_headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert (await api.client.get("/auth/me", headers=new_headers)).status_code == 200
    # one live session per user: the refreshed session replaced the first
    old_headers = {"Authorization": f"Bearer {login['access_token']}"}
    assert (await api.client.get("/auth/me", headers=old_headers)).status_code == 401
    # the refresh token keeps working until logout or expiry
    assert (await refresh(api, token, PHONE)).status_code == 200


@pytest.mark.parametrize(
    ("mangle", "device"),
    [
        (lambda token: token, LAPTOP),  # another device
        (lambda token: token[:-2] + "xx", PHONE),  # wrong secret
        (lambda token: "S999999." + token.rsplit(".", 1)[1], PHONE),  # someone else's number
        (lambda token: "garbage", PHONE),
        (lambda token: "{x}." + token.rsplit(".", 1)[1], PHONE),
    ],
)
async def test_a_refresh_token_works_only_as_issued(api: Api, mangle: Any, device: str) -> None:
    student = await api.add_user("student")
    login = await remembered_login(api, student.school_number, PHONE)
    response = await refresh(api, mangle(login["refresh_token"]), device)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_refresh_token"


async def test_logout_revokes_the_device_but_another_login_does_not(api: Api) -> None:
    student = await api.add_user("student")
    phone = await remembered_login(api, student.school_number, PHONE)
    laptop = await remembered_login(api, student.school_number, LAPTOP)
    # a password login on the laptop did not revoke the phone's refresh token
    phone_session = await refresh(api, phone["refresh_token"], PHONE)
    assert phone_session.status_code == 200
    headers = {"Authorization": f"Bearer {phone_session.json()['access_token']}"}
    assert (await api.client.post("/auth/logout", headers=headers)).status_code == 204
    assert (await refresh(api, phone["refresh_token"], PHONE)).status_code == 401
    assert (await refresh(api, laptop["refresh_token"], LAPTOP)).status_code == 200


async def test_remembering_needs_a_device_id(api: Api) -> None:
    student = await api.add_user("student")
    response = await api.client.post(
        "/auth/login",
        json={
            "school_number": student.school_number,
            "password": PASSWORD,
            "remember_device": True,
        },
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    # the header works as well as the body field
    response = await api.client.post(
        "/auth/login",
        json={
            "school_number": student.school_number,
            "password": PASSWORD,
            "remember_device": True,
        },
        headers={"X-ATTN-Device": PHONE},
    )
    assert response.status_code == 200
    assert (await refresh(api, response.json()["refresh_token"], PHONE)).status_code == 200
    # a plain login returns no refresh token
    plain = await api.client.post(
        "/auth/login", json={"school_number": student.school_number, "password": PASSWORD}
    )
    assert plain.json()["refresh_token"] is None


async def test_refresh_tokens_expire(make_api: Any, redis: aioredis.Redis) -> None:
    async with make_api(REFRESH_TTL_DAYS=1) as api:
        student = await api.add_user("student")
        login = await remembered_login(api, student.school_number, PHONE)
        assert login["refresh_expires_in"] == 86400
        names = await all_keys(redis, "attn:refresh:*")
        assert len(names) == 1
        assert 86000 < await redis.ttl(names[0]) <= 86400
        await redis.delete(names[0])  # what the TTL does after a day
        assert (await refresh(api, login["refresh_token"], PHONE)).status_code == 401
