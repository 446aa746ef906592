"""Signing in and sessions in a real browser: a wrong password keeps the school number, a
session that ended elsewhere or whose cookie ran out sends to sign-in with the notice, and
signing in again on the join form leads back to a page that can check in."""

from __future__ import annotations

import re

from playwright.sync_api import BrowserContext, expect

from tests.support.api import PASSWORD
from tests.support.browser import Server
from tests.support.pages import (
    ENDED_STUDENT,
    EXPIRED_NOTICE,
    EXPIRED_STUDENT,
    JOIN_EXPIRY_STUDENT,
    PHONE,
    SETTLED,
    WRONG_PASSWORD_STUDENT,
    Lesson,
    NewContext,
    check_in,
    sign_in,
)


def _end_session_elsewhere(context: BrowserContext) -> None:
    """Log the context's session out through the API, as another tab or device would."""
    token = next(c["value"] for c in context.cookies() if c["name"] == "attn_session")
    ended = context.request.post(
        "/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}
    )
    assert ended.status == 204, ended.text()


def test_a_wrong_password_keeps_the_school_number_and_shows_the_error(
    attn_server: Server, new_context: NewContext, people: None
) -> None:
    page = new_context(viewport=PHONE).new_page()
    page.goto("/student/history")
    expect(page).to_have_url(attn_server.url("/login?next=%2Fstudent%2Fhistory"))
    with page.expect_response(lambda r: r.request.method == "POST") as answered:
        sign_in(page, WRONG_PASSWORD_STUDENT, password="not the password")
    assert answered.value.status == 401
    expect(page.get_by_role("alert")).to_have_text("The school number or password is wrong.")
    expect(page.locator("#school_number")).to_have_value(WRONG_PASSWORD_STUDENT.number)
    expect(page.locator("#password")).to_have_value("")
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(attn_server.url("/student/history"))  # still where it was going


def test_a_session_ended_elsewhere_sends_to_sign_in_with_the_notice(
    attn_server: Server, new_context: NewContext, people: None
) -> None:
    context = new_context(viewport=PHONE)
    page = context.new_page()
    page.goto("/login")
    sign_in(page, ENDED_STUDENT)
    expect(page).to_have_url(attn_server.url("/student"))
    _end_session_elsewhere(context)
    page.goto("/student/history")
    expect(page).to_have_url(attn_server.url("/login?next=%2Fstudent%2Fhistory&expired=1"))
    expect(page.get_by_role("status")).to_have_text(EXPIRED_NOTICE)
    sign_in(page, ENDED_STUDENT)
    expect(page).to_have_url(attn_server.url("/student/history"))


def test_a_session_whose_cookie_ran_out_sends_to_sign_in_with_the_notice(
    attn_server: Server, new_context: NewContext, people: None
) -> None:
    """The session cookie lives exactly as long as the session (max-age = the role's TTL),
    so when a session times out the browser drops the cookie: deleting it is that moment."""
    context = new_context(viewport=PHONE)
    page = context.new_page()
    page.goto("/login")
    sign_in(page, EXPIRED_STUDENT)
    expect(page).to_have_url(attn_server.url("/student"))
    context.clear_cookies(name="attn_session")
    page.goto("/student/history")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fstudent%2Fhistory"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text(EXPIRED_NOTICE, timeout=SETTLED)


def test_signing_in_again_after_the_session_ended_on_the_join_form_returns_to_it(
    attn_server: Server, new_context: NewContext, chemistry: Lesson
) -> None:
    """A student's session (10 minutes) may end while the join page is open; sending the form
    then asks to sign in again, and signing in must lead back to a page that can check in."""
    context = new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"/join/{chemistry.lesson_id}")
    sign_in(page, JOIN_EXPIRY_STUDENT)
    expect(page).to_have_url(attn_server.url(f"/join/{chemistry.lesson_id}"))
    page.locator("#code").fill(chemistry.code())
    _end_session_elsewhere(context)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/login\?.*expired=1"))
    expect(page.get_by_role("status")).to_have_text(EXPIRED_NOTICE)
    with page.expect_response(lambda r: r.request.method == "GET" and "/login" not in r.url) as led:
        sign_in(page, JOIN_EXPIRY_STUDENT)
    landed = led.value
    assert landed.status == 200, f"after signing in: {landed.status} at {landed.url}"
    check_in(page, chemistry.code())
