"""A QR scan counts at its moment: the join link opened while its code was valid earns that
browser a signed scan ticket, so a student who signs in first is still checked in after the
code has rotated; a forwarded link, a forged, expired or other lesson's ticket earns nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx

from attn.services import codes, scan
from tests.support.api import Api
from tests.support.check_in import now_code, started, wrong_code
from tests.support.clock import Clock
from tests.support.sign_in_form import csrf_of, page_browser, sign_in

TICKET = "attn_scan"


def ticket_of(browser: httpx.AsyncClient) -> httpx.Cookies:
    return httpx.Cookies({c.name: c.value or "" for c in browser.cookies.jar if c.name == TICKET})


def replace_ticket(browser: httpx.AsyncClient, value: str) -> None:
    """Change the ticket this browser keeps (as someone editing their cookies would)."""
    for cookie in browser.cookies.jar:
        if cookie.name == TICKET:
            cookie.value = value


async def submit(browser: httpx.AsyncClient, lesson_id: str, code: str) -> httpx.Response:
    page = await browser.get(f"/join/{lesson_id}", params={"code": code})
    assert page.status_code == 200, page.text[:500]
    return await browser.post(
        f"/student/lessons/{lesson_id}/join", data={"csrf": csrf_of(page), "code": code}
    )


@asynccontextmanager
async def scanned_signed_out(
    api: Api, lesson_id: str, code: str
) -> AsyncIterator[httpx.AsyncClient]:
    """A phone that opened the join link signed out: sent to sign in, holding the ticket."""
    async with page_browser(api.app) as browser:
        yield await _scan(api, browser, lesson_id, code)


async def _scan(
    api: Api, browser: httpx.AsyncClient, lesson_id: str, code: str
) -> httpx.AsyncClient:
    opened = await browser.get(f"/join/{lesson_id}", params={"code": code})
    assert opened.status_code == 303
    assert opened.headers["location"].startswith("/login?next=%2Fjoin%2F")
    set_cookie = opened.headers["set-cookie"]
    assert f"{TICKET}=" in set_cookie and "HttpOnly" in set_cookie, set_cookie
    assert f"Path=/student/lessons/{lesson_id}/join" in set_cookie, set_cookie
    assert (
        f"Max-Age={api.context.settings.SCAN_GRACE_SECONDS}" in set_cookie
        and "SameSite=lax" in set_cookie
    ), set_cookie
    return browser


async def test_a_scan_signed_out_counts_after_sign_in_past_two_code_windows(
    api: Api, clock: Clock
) -> None:
    _, teacher = await api.user_headers("teacher")
    student = await api.add_user("student")
    lesson = await started(api, teacher, lesson_name="Fizik 101", security=["code"])
    lesson_id = lesson["lesson_id"]
    code = now_code(api, lesson_id, clock)
    async with scanned_signed_out(api, lesson_id, code) as phone:
        link = f"/join/{lesson_id}?code={code}"
        form = await phone.get("/login", params={"next": link})
        assert "Sign in to check in to Fizik 101 — " in form.text, form.text
        clock.advance(seconds=40)  # signing in took more than two windows of 15 s
        assert now_code(api, lesson_id, clock) != code
        signed = await sign_in(phone, student.school_number, target=link)
        assert signed.headers["location"] == link
        page = await phone.get(link)
        assert f'value="{code}"' in page.text  # the code filled in
        joined = await phone.post(
            f"/student/lessons/{lesson_id}/join", data={"csrf": csrf_of(page), "code": code}
        )
        assert joined.status_code == 200, joined.text
        assert "You are checked in: present." in joined.text
        # the ticket is spent: the phone no longer holds it
        assert f'{TICKET}=""' in joined.headers["set-cookie"] or not ticket_of(phone)


async def test_a_forwarded_link_without_the_ticket_is_refused_as_before(
    api: Api, clock: Clock
) -> None:
    _, teacher = await api.user_headers("teacher")
    scanner, friend = await api.add_user("student"), await api.add_user("student")
    lesson_id = (await started(api, teacher, security=["code"]))["lesson_id"]
    code = now_code(api, lesson_id, clock)
    async with scanned_signed_out(api, lesson_id, code), page_browser(api.app) as other:
        clock.advance(seconds=40)
        await sign_in(other, friend.school_number)
        opened = await other.get(f"/join/{lesson_id}", params={"code": code})
        assert TICKET not in opened.headers.get("set-cookie", "")  # a stale code earns nothing
        refused = await submit(other, lesson_id, code)
        assert refused.status_code == 403
        assert "The check-in code is wrong or has expired" in refused.text
    del scanner


async def test_forged_expired_and_other_lessons_tickets_are_refused(
    make_api: Callable[..., Any], clock: Clock
) -> None:
    async with make_api(SCAN_GRACE_SECONDS=60) as api:
        _, teacher = await api.user_headers("teacher")
        lesson_id = (await started(api, teacher, security=["code"]))["lesson_id"]
        _, colleague = await api.user_headers("teacher")
        other_id = (await started(api, colleague, lesson_name="Other", security=["code"]))[
            "lesson_id"
        ]
        code = now_code(api, lesson_id, clock)
        secret = api.context.secret_key
        rotation = api.context.settings.CODE_ROTATION_SECONDS

        # forged: the seal changed by one character
        student = await api.add_user("student")
        async with scanned_signed_out(api, lesson_id, code) as phone:
            ticket = ticket_of(phone)[TICKET]
            flipped = ticket[:-1] + ("A" if ticket[-1] != "A" else "B")
            replace_ticket(phone, flipped)
            await sign_in(phone, student.school_number)
            clock.advance(seconds=40)
            assert (await submit(phone, lesson_id, code)).status_code == 403
            # the real ticket still works for this code, but not for another code
            replace_ticket(phone, ticket)
            assert (
                await submit(phone, lesson_id, wrong_code(api, lesson_id, clock))
            ).status_code == 403
            clock.advance(seconds=21)  # 61 s after the scan: past the grace
            assert (await submit(phone, lesson_id, code)).status_code == 403

        # another lesson's ticket, carried to this lesson's form
        student = await api.add_user("student")
        other_code = now_code(api, other_id, clock)
        other_ticket = scan.issue_ticket(
            secret, lesson_id=other_id, code=other_code, now=clock(), rotation_seconds=rotation
        )
        assert other_ticket is not None
        async with scanned_signed_out(api, lesson_id, now_code(api, lesson_id, clock)) as phone:
            replace_ticket(phone, other_ticket)
            await sign_in(phone, student.school_number)
            clock.advance(seconds=40)
            assert (await submit(phone, lesson_id, other_code)).status_code == 403


async def test_a_ticket_is_made_only_for_a_code_valid_at_the_scan(api: Api, clock: Clock) -> None:
    secret = api.context.secret_key
    lesson_id = "0" * 32
    rotation = 15
    right = scan.issue_ticket(
        secret,
        lesson_id=lesson_id,
        code=scan_code(secret, lesson_id, clock, rotation),
        now=clock(),
        rotation_seconds=rotation,
    )
    assert right is not None
    assert (
        scan.issue_ticket(
            secret, lesson_id=lesson_id, code="000000x", now=clock(), rotation_seconds=rotation
        )
        is None
    )
    stale = scan_code(secret, lesson_id, clock, rotation, windows_ago=2)
    assert (
        scan.issue_ticket(secret, lesson_id=lesson_id, code=stale, now=clock(), rotation_seconds=15)
        is None
    )
    # a ticket sealed with another server's key is no ticket here
    assert not scan.admits(
        b"another-key" * 4,
        right,
        lesson_id=lesson_id,
        code=right.split(".")[2],
        now=clock(),
        grace_seconds=120,
        rotation_seconds=rotation,
    )
    assert scan.admits(
        secret,
        right,
        lesson_id=lesson_id,
        code=right.split(".")[2],
        now=clock(),
        grace_seconds=120,
        rotation_seconds=rotation,
    )


def scan_code(
    secret: bytes, lesson_id: str, clock: Clock, rotation: int, windows_ago: int = 0
) -> str:
    window = int(clock().timestamp()) // rotation - windows_ago
    return codes.code_for_window(codes.lesson_secret(secret, lesson_id), window)
