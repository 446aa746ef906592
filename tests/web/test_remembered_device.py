"""'Remember this device' on the pages: a long-lived HttpOnly cookie holds the device's refresh
token; a page opened after the session ended renews it silently and rotates the token (the old
one signs nobody in); without the box the sign-in page comes as before; signing out kills it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from tests.support.api import PASSWORD, Api
from tests.support.sign_in_form import csrf_of, page_browser, sign_in_token_of

REMEMBER = "attn_remember"
TTL = 5  # the student session's seconds in these tests


def cookie(browser: httpx.AsyncClient, name: str) -> str | None:
    return next((c.value for c in browser.cookies.jar if c.name == name), None)


async def sign_in_remembered(
    browser: httpx.AsyncClient, number: str, *, remember: bool = True
) -> httpx.Response:
    form = await browser.get("/login")
    assert 'name="remember"' in form.text and "Remember this device" in form.text
    data = {"sign_in_token": sign_in_token_of(form), "school_number": number, "password": PASSWORD}
    if remember:
        data["remember"] = "1"
    signed = await browser.post("/login", data=data)
    assert signed.status_code == 303, signed.text[:500]
    return signed


def replayed(api: Api, browser: httpx.AsyncClient, token: str) -> httpx.AsyncClient:
    """Another browser carrying a copy of `browser`'s device id and the given refresh token."""
    copy = page_browser(api.app)
    copy.cookies.set("attn_device", cookie(browser, "attn_device") or "")
    copy.cookies.set(REMEMBER, token)
    return copy


async def test_an_ended_session_is_renewed_from_the_remembered_device_and_rotated(
    make_api: Callable[..., Any],
) -> None:
    async with make_api(STUDENT_SESSION_TTL_SECONDS=TTL) as api:
        kept, forgot = await api.add_user("student"), await api.add_user("student")
        async with page_browser(api.app) as phone, page_browser(api.app) as other:
            signed = await sign_in_remembered(phone, kept.school_number)
            set_cookie = ", ".join(signed.headers.get_list("set-cookie"))
            assert f"{REMEMBER}=" in set_cookie and "Max-Age=2592000" in set_cookie
            first = cookie(phone, REMEMBER)
            assert first is not None and first.startswith(f"{kept.school_number}.")
            await sign_in_remembered(other, forgot.school_number, remember=False)
            assert cookie(other, REMEMBER) is None

            await asyncio.sleep(TTL + 1.5)  # both sessions end in Redis, their cookies too
            phone.cookies.jar.clear_expired_cookies()
            assert cookie(phone, "attn_session") is None

            renewed = await phone.get("/student")
            assert renewed.status_code == 303 and renewed.headers["location"] == "/student"
            page = await phone.get("/student")
            assert page.status_code == 200 and kept.full_name in page.text
            second = cookie(phone, REMEMBER)
            assert second is not None and second != first  # rotated on use

            # without the box: the sign-in page, saying the session ended
            away = await other.get("/student")
            assert away.status_code == 303
            assert away.headers["location"] == "/login?next=%2Fstudent&expired=1"

            # the old token, replayed from a copied cookie, signs nobody in and is cleared
            async with replayed(api, phone, first) as thief:
                refused = await thief.get("/student")
                assert refused.status_code == 303
                assert refused.headers["location"].startswith("/login?")
                assert f'{REMEMBER}=""' in refused.headers["set-cookie"]
            # ... and the phone's own, rotated one still works
            assert (await phone.get("/student/history")).status_code == 200


async def test_signing_out_kills_the_remembered_device(
    make_api: Callable[..., Any],
) -> None:
    async with make_api(STUDENT_SESSION_TTL_SECONDS=TTL) as api:
        student = await api.add_user("student")
        async with page_browser(api.app) as phone:
            await sign_in_remembered(phone, student.school_number)
            token = cookie(phone, REMEMBER)
            assert token is not None
            page = await phone.get("/student")
            out = await phone.post("/logout", data={"csrf": csrf_of(page)})
            assert out.status_code == 303 and out.headers["location"] == "/login"
            assert cookie(phone, REMEMBER) is None
            async with replayed(api, phone, token) as copy:
                assert (await copy.get("/student")).headers["location"].startswith("/login?")
            device = cookie(phone, "attn_device")
            assert device is not None
            refreshed = await api.client.post(
                "/auth/refresh", json={"refresh_token": token, "device_id": device}
            )
            assert refreshed.status_code == 401

            # signed in again, the session ends, then "Sign out" on the page left open:
            # there is no session to check the form against, and the device is forgotten
            await sign_in_remembered(phone, student.school_number)
            token = cookie(phone, REMEMBER)
            assert token is not None
            page = await phone.get("/student")
            await asyncio.sleep(TTL + 1.5)
            out = await phone.post("/logout", data={"csrf": csrf_of(page)})
            assert out.headers["location"] == "/login"
            assert cookie(phone, REMEMBER) is None
            refreshed = await api.client.post(
                "/auth/refresh", json={"refresh_token": token, "device_id": device}
            )
            assert refreshed.status_code == 401


async def test_a_teacher_may_be_remembered_and_the_api_keeps_its_token(api: Api) -> None:
    teacher = await api.add_user("teacher")
    async with page_browser(api.app) as laptop:
        signed = await sign_in_remembered(laptop, teacher.school_number)
        assert signed.headers["location"] == "/"
        token, device = cookie(laptop, REMEMBER), cookie(laptop, "attn_device")
        assert token is not None and device is not None
        # the API's refresh does not rotate (documented): the token works twice there
        for _ in range(2):
            answer = await api.client.post(
                "/auth/refresh", json={"refresh_token": token, "device_id": device}
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["refresh_token"] is None
        # the laptop's session was replaced by those refreshes: its next page renews itself
        laptop.cookies.delete("attn_session")
        renewed = await laptop.get("/teacher")
        assert renewed.status_code == 303 and renewed.headers["location"] == "/teacher"
        assert (await laptop.get("/teacher")).status_code == 200
        assert cookie(laptop, REMEMBER) != token
