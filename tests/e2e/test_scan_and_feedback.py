"""A phone (360x740) in a real browser, in English and Turkish: the QR scan opened signed out
counts after signing in past two code windows; 'remember this device' renews an ended session;
a pending verification's result appears without reloading; a lockout says how long to wait;
a closed lesson's join link says so with no form.

These tests run their own `attn serve` (beside the package's, on the same databases, with
their own people) with a code rotating every 5 s, so two windows pass in seconds, a student
locked out after two wrong codes, and the fake verifier answering after 2 s (rejecting one
student).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from tests.support.api import PASSWORD
from tests.support.browser import Server, own_server
from tests.support.database import Database
from tests.support.pages import PHONE, SHOTS, Person

ROTATION = 5
VERIFIER_DELAY = 2.0
RESULT_WAIT = 15_000  # ms: the verifier's delay plus a few polls of the result page

SCAN_TEACHER = Person("T3001", "Ayşe Yılmaz", "teacher")
VERIFY_TEACHER = Person("T3002", "Mehmet Demir", "teacher")
CLOSED_TEACHER = Person("T3003", "Selin Aydın", "teacher")
SCAN_EN = Person("S3001", "Elif Kaya", "student")
SCAN_TR = Person("S3002", "Can Öztürk", "student")
VERIFY_EN = Person("S3003", "Deniz Arslan", "student")
VERIFY_TR = Person("S3004", "Gökçe Şahin", "student")  # the fake verifier rejects her
REMEMBERED = Person("S3005", "Irmak Çelik", "student")
LOCKED = Person("S3006", "Oğuz Koç", "student")
PEOPLE = [
    SCAN_TEACHER,
    VERIFY_TEACHER,
    CLOSED_TEACHER,
    SCAN_EN,
    SCAN_TR,
    VERIFY_EN,
    VERIFY_TR,
    REMEMBERED,
    LOCKED,
]
SECRET = "fake-verifier-secret-e2e"


@dataclass(frozen=True)
class QuickServer:
    server: Server
    clients: list[httpx.Client] = field(default_factory=list)  # closed with the server

    def api(self, person: Person) -> httpx.Client:
        """The API as `person` (a sign-in of their own, replacing their last session)."""
        client = httpx.Client(base_url=self.server.url("/api/v1"))
        self.clients.append(client)
        signed = client.post(
            "/auth/login", json={"school_number": person.number, "password": PASSWORD}
        )
        assert signed.status_code == 200, signed.text
        client.headers["Authorization"] = f"Bearer {signed.json()['access_token']}"
        return client

    def start(self, teacher: Person, name: str, security: list[str]) -> tuple[str, httpx.Client]:
        api = self.api(teacher)
        for earlier in api.get("/teacher/lessons").json():  # left live by an earlier run
            if earlier["status"] == "active":
                api.post(f"/teacher/lessons/{earlier['lesson_id']}/finish")
        started = api.post(
            "/teacher/lessons",
            json={"lesson_name": name, "duration_minutes": 60, "security": security},
        )
        assert started.status_code == 201, started.text
        return str(started.json()["lesson_id"]), api


@pytest.fixture(scope="module")
def quick(
    attn_server: Server,
    database: Database,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[QuickServer]:
    """The quick server, started after the package's (which empties the databases first, and
    must do so before Playwright's loop runs: so this comes before `browser`)."""
    with own_server(
        database,
        redis_url,
        tmp_path_factory.mktemp("attn-quick"),
        name="quick",
        people=PEOPLE,
        settings={"CODE_ROTATION_SECONDS": str(ROTATION), "CODE_MAX_FAILURES": "2"},
        verifier_args=["--delay", str(VERIFIER_DELAY), "--reject", VERIFY_TR.number],
        verifier_secret=SECRET,
    ) as server:
        running = QuickServer(server)
        try:
            yield running
        finally:
            for client in running.clients:
                client.close()


def phone(browser: Browser, quick: QuickServer, language: str) -> BrowserContext:
    context = browser.new_context(
        base_url=quick.server.base_url,
        viewport=ViewportSize(width=PHONE["width"], height=PHONE["height"]),
        locale="tr-TR" if language == "tr" else "en-US",
    )
    context.set_default_timeout(10_000)
    return context


def shot(page: Page, name: str) -> None:
    """The page as the phone shows it (360x740, the whole page)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def sign_in(page: Page, person: Person, *, remember: bool = False) -> None:
    page.locator("#school_number").fill(person.number)
    page.locator("#password").fill(PASSWORD)
    if remember:
        page.locator("#remember").check()
    page.locator("main form button[type=submit]").click()


def fits_the_phone(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_qr_scan_signed_out_checks_in_after_signing_in_two_windows_later(
    quick: QuickServer, browser: Browser
) -> None:
    lesson_id, teacher = quick.start(SCAN_TEACHER, "Fizik 101", ["code"])
    code = teacher.get(f"/teacher/lessons/{lesson_id}/code").json()["code"]
    link = f"/join/{lesson_id}?code={code}"
    phones = {"en": phone(browser, quick, "en"), "tr": phone(browser, quick, "tr")}
    try:
        pages = {language: context.new_page() for language, context in phones.items()}
        scanned = time.monotonic()
        for page in pages.values():
            page.goto(link)  # the QR code, opened signed out
        expect(pages["en"].locator(".joining")).to_have_text(
            "Sign in to check in to Fizik 101 — Ayşe Yılmaz"
        )
        expect(pages["tr"].locator(".joining")).to_have_text(
            "Fizik 101 — Ayşe Yılmaz yoklamasına katılmak için giriş yapın"
        )
        for language, page in pages.items():
            fits_the_phone(page)
            shot(page, f"scan-1-sign-in-{language}")
        # signing in takes longer than two code windows: the scanned code is stale by then
        time.sleep(2 * ROTATION + 1)
        now = teacher.get(f"/teacher/lessons/{lesson_id}/code").json()["code"]
        assert now != code
        for person, page in ((SCAN_EN, pages["en"]), (SCAN_TR, pages["tr"])):
            sign_in(page, person)
            expect(page).to_have_url(quick.server.url(link))
            expect(page.locator("#code")).to_have_value(code)
        for language, page in pages.items():
            shot(page, f"scan-2-join-{language}")
            page.locator("main form button[type=submit]").click()
        expect(pages["en"].locator(".result")).to_have_text("You are checked in: present.")
        expect(pages["tr"].locator(".result")).to_have_text("Yoklamaya katıldınız: var.")
        took = time.monotonic() - scanned
        for language, page in pages.items():
            fits_the_phone(page)
            shot(page, f"scan-3-checked-in-{language}")
        print(f"scan to checked in, signing in {2 * ROTATION + 1} s after the scan: {took:.1f} s")
        roll = teacher.get(f"/teacher/lessons/{lesson_id}/records").json()
        assert {r["student_number"]: r["status"] for r in roll} == {
            SCAN_EN.number: "present",
            SCAN_TR.number: "present",
        }
    finally:
        for context in phones.values():
            context.close()


def test_a_pending_result_arrives_without_reloading(quick: QuickServer, browser: Browser) -> None:
    lesson_id, _ = quick.start(VERIFY_TEACHER, "Kimya 2", ["verification"])
    expected: dict[str, tuple[Person, str, str]] = {
        "en": (VERIFY_EN, "Checked in, waiting for verification.", "You are checked in: present."),
        "tr": (VERIFY_TR, "Katıldınız, doğrulama bekleniyor.", "Kaydınız: reddedildi"),
    }
    contexts = [phone(browser, quick, language) for language in expected]
    try:
        pages = {}
        for (language, (person, waiting, _)), context in zip(
            expected.items(), contexts, strict=True
        ):
            page = context.new_page()
            page.goto(f"/join/{lesson_id}")
            sign_in(page, person)
            page.locator("main form button[type=submit]").click()
            expect(page.locator("#result")).to_have_text(waiting)
            shot(page, f"feedback-1-pending-{language}")
            pages[language] = page
        navigations: list[str] = []
        for page in pages.values():
            page.on("framenavigated", lambda frame: navigations.append(frame.url))
        for language, (_, _, decided) in expected.items():
            expect(pages[language].locator("#result")).to_contain_text(decided, timeout=RESULT_WAIT)
            expect(pages[language].locator("#waiting")).to_have_count(0)
            shot(pages[language], f"feedback-2-decided-{language}")
        assert navigations == []  # the result came in without a reload
        assert pages["en"].locator("#result").get_attribute("aria-live") == "polite"
    finally:
        for context in contexts:
            context.close()


def test_a_remembered_phone_is_signed_in_again_without_a_password(
    quick: QuickServer, browser: Browser
) -> None:
    for language in ("en", "tr"):
        context = phone(browser, quick, language)
        try:
            page = context.new_page()
            page.goto("/login")
            label = {"en": "Remember this device", "tr": "Bu cihazı hatırla"}[language]
            expect(page.get_by_label(label)).not_to_be_checked()
            page.get_by_label(label).check()
            shot(page, f"remember-1-sign-in-{language}")
            sign_in(page, REMEMBERED, remember=True)
            expect(page).to_have_url(quick.server.url("/student"))
            first = _cookie(context, "attn_remember")
            assert first["httpOnly"] and first["sameSite"] == "Lax"
            # the session cookie runs out (as it does after the student TTL)
            context.clear_cookies(name="attn_session")
            page.goto("/student/history")
            expect(page).to_have_url(quick.server.url("/student/history"))
            expect(page.locator("h1")).to_have_text(
                {"en": "My attendance", "tr": "Katılımlarım"}[language]
            )
            assert _cookie(context, "attn_remember")["value"] != first["value"]  # rotated
            shot(page, f"remember-2-renewed-{language}")
            page.get_by_role("button", name={"en": "Sign out", "tr": "Çıkış yap"}[language]).click()
            expect(page).to_have_url(quick.server.url("/login"))
            assert not [c for c in context.cookies() if c["name"] == "attn_remember"]
        finally:
            context.close()


def _cookie(context: BrowserContext, name: str) -> Any:
    found = [c for c in context.cookies() if c["name"] == name]
    assert len(found) == 1, context.cookies()
    return found[0]


def test_a_lockout_says_how_long_and_a_closed_lesson_says_so(
    quick: QuickServer, browser: Browser
) -> None:
    lesson_id, teacher = quick.start(CLOSED_TEACHER, "Biyoloji 3", ["code"])
    for language in ("en", "tr"):
        context = phone(browser, quick, language)
        try:
            page = context.new_page()
            page.goto(f"/join/{lesson_id}")
            sign_in(page, LOCKED)
            for _ in range(3):  # two wrong codes are allowed in this server's window
                page.locator("#code").fill("000000")
                page.locator("main form button[type=submit]").click()
            wait = {
                "en": r"Try again in \d+ seconds\.",
                "tr": r"\d+ saniye sonra yeniden deneyin\.",
            }
            expect(page.get_by_role("alert")).to_contain_text(re.compile(wait[language]))
            fits_the_phone(page)
            shot(page, f"lockout-{language}")
        finally:
            context.close()
    finished = teacher.post(f"/teacher/lessons/{lesson_id}/finish")
    assert finished.status_code == 200, finished.text
    for language in ("en", "tr"):
        context = phone(browser, quick, language)
        try:
            page = context.new_page()
            page.goto(f"/join/{lesson_id}?code=000000")  # the QR, scanned signed out
            title = {"en": "Check-in closed", "tr": "Yoklama kapandı"}[language]
            expect(page.locator("h1")).to_have_text(title)
            expect(page.locator("main h2")).to_have_text("Biyoloji 3")
            expect(page.locator("#code")).to_have_count(0)
            expect(page.locator(f'form[action="/student/lessons/{lesson_id}/join"]')).to_have_count(
                0
            )
            shot(page, f"closed-{language}")
        finally:
            context.close()
