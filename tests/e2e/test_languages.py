"""Languages in a real browser: `?lang=tr` switches to Turkish and the choice sticks, the
Turkish pages leave nothing in English, and switching keeps the code of a join link."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.support.browser import Server
from tests.support.pages import (
    LANGUAGE_STUDENT,
    PHONE,
    SETTLED,
    TURKISH_STUDENT,
    WRONG_PASSWORD_STUDENT,
    Lesson,
    NewContext,
    shoot,
    sign_in,
)


def test_lang_tr_switches_the_texts_to_turkish_and_the_choice_sticks(
    attn_server: Server, new_context: NewContext, people: None
) -> None:
    context = new_context(viewport=PHONE)
    page = context.new_page()
    page.goto("/login?lang=tr")
    expect(page.locator("html")).to_have_attribute("lang", "tr")
    expect(page.get_by_role("heading", name="Giriş yap")).to_be_visible()
    expect(page.get_by_label("Okul numarası")).to_be_visible()
    expect(page.get_by_label("Şifre")).to_be_visible()
    expect(page.locator("main form button[type=submit]")).to_have_text("Giriş yap")
    assert {c["name"]: c["value"] for c in context.cookies()}.get("attn_lang") == "tr"

    page.goto("/login")  # no ?lang= any more: the cookie keeps Turkish
    expect(page.get_by_role("heading", name="Giriş yap")).to_be_visible()
    sign_in(page, TURKISH_STUDENT)
    expect(page).to_have_url(attn_server.url("/student"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Yoklamaya katıl")
    expect(page.get_by_role("button", name="Bul")).to_be_visible()
    page.get_by_role("link", name="Katılımlarım").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Katılımlarım")
    shoot(page, "student-history-tr")

    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My attendance")
    page.goto("/student")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check in")
    assert {c["name"]: c["value"] for c in context.cookies()}.get("attn_lang") == "en"


def test_turkish_pages_leave_nothing_in_english(
    attn_server: Server, new_context: NewContext, people: None
) -> None:
    page = new_context(viewport=PHONE).new_page()
    page.goto("/login?lang=tr")
    expect(page.get_by_role("heading", name="Giriş yap")).to_be_visible()
    sign_in(page, WRONG_PASSWORD_STUDENT, password="yanlış şifre")
    expect(page.get_by_role("alert")).to_be_visible()
    english = {
        "the skip link": (page.locator("a.skip").inner_text(), "Skip to content"),
        "the navigation's label": (page.locator("nav").get_attribute("aria-label"), "Main"),
        "the sign-in error": (
            page.get_by_role("alert").inner_text(),
            "The school number or password is wrong.",
        ),
    }
    left = [f"{what}: {shown!r}" for what, (shown, text) in english.items() if shown == text]
    assert not left, "English on the Turkish sign-in page: " + "; ".join(left)


def test_switching_the_language_keeps_the_code_of_the_join_link(
    attn_server: Server, new_context: NewContext, chemistry: Lesson
) -> None:
    """A student who arrives from the QR code and switches to Turkish keeps the code."""
    code = chemistry.code()
    page = new_context(viewport=PHONE).new_page()
    page.goto(f"/join/{chemistry.lesson_id}?code={code}")
    sign_in(page, LANGUAGE_STUDENT)
    expect(page.locator("#code")).to_have_value(code)
    page.get_by_role("link", name="Türkçe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Yoklamaya katıl")
    expect(page.locator("#code")).to_have_value(code, timeout=SETTLED)
