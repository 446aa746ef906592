"""End-to-end, in Debian's Chromium against `attn serve`: the projector view on its own link.

A teacher starts a lesson on laptop A and copies the lesson's projector link; the classroom
PC B opens it with no session. At 1280x720 and 1920x1080, in English and Turkish, the view
fits the screen without scrolling, its QR code takes most of the height, and no app header or
"Sign out" is shown. The teacher signs in again on laptop C: A is signed out (one live session
per user), B keeps updating (its count follows a student's check-in), and F toggles full
screen. After the finish B says "Check-in closed" with the final count. A revoked link says so
on the screen that shows it. Screenshots: test-artifacts/screenshots/projector-*.png.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import Server, add_people
from tests.support.pages import (
    LIVE_WAIT,
    PHONE,
    SHOTS,
    NewContext,
    Person,
    assert_projector_fits,
    check_in,
    sign_in,
    start_lesson,
)

LAPTOP = {"width": 1280, "height": 900}
PROJECTORS = [{"width": 1280, "height": 720}, {"width": 1920, "height": 1080}]
TEACHER = Person("T5001", "Gülşen Çağlayan", "teacher")
REVOKING_TEACHER = Person("T5002", "Oğuz İnce", "teacher")
STUDENT = Person("S5001", "Işıl Öğüt", "student")
LINK = re.compile(r"^http://127\.0\.0\.1:\d+/projector/[0-9a-f]{32}\.\d+\.[A-Za-z0-9_-]{43}$")
LESSON = "Fizik 101 — Elektrik ve Manyetizma Laboratuvarı (Şube 2)"
NOTICE_WAIT = 5_000  # ms: how soon the projector must notice a change (it polls every second)


@pytest.fixture(scope="module")
def projector_people(
    attn_server: Server, people: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    add_people(
        attn_server,
        [TEACHER, REVOKING_TEACHER, STUDENT],
        tmp_path_factory.mktemp("projector-people"),
    )


def shoot_sizes(page: Page, name: str, *, qr: bool) -> None:
    """Check the fit and save a screenshot at each projector size."""
    for size in PROJECTORS:
        page.set_viewport_size(size)  # type: ignore[arg-type]
        label = f"{size['width']}x{size['height']}"
        assert_projector_fits(page, f"{name} {label}", qr=qr)
        page.screenshot(path=SHOTS / f"{name}-{label}.png")


def the_link(laptop: Page) -> str:
    field = laptop.locator("#projector-url")
    expect(field).to_have_value(LINK)
    return field.input_value()


def test_the_projector_link_fits_keeps_updating_and_closes(
    attn_server: Server, new_context: NewContext, projector_people: None
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    # Laptop A: the teacher starts the lesson and copies the projector link.
    context_a = new_context(viewport=LAPTOP)
    context_a.grant_permissions(["clipboard-read", "clipboard-write"])
    laptop_a = context_a.new_page()
    laptop_a.goto("/login")
    sign_in(laptop_a, TEACHER)
    lesson_id = start_lesson(laptop_a, LESSON)
    expect(laptop_a.get_by_role("heading", name="Projector link")).to_be_visible()
    link = the_link(laptop_a)
    laptop_a.get_by_role("button", name="Copy").click()
    expect(laptop_a.get_by_text("Copied.")).to_be_visible()
    assert laptop_a.evaluate("() => navigator.clipboard.readText()") == link
    laptop_a.locator("#projector-link").screenshot(path=SHOTS / "projector-link-box.png")

    # PC B: no session, only the link.
    pc = new_context(viewport=PROJECTORS[0]).new_page()
    pc.goto(link)
    expect(pc.locator("h1")).to_have_text(LESSON)
    expect(pc.locator(".teacher")).to_have_text(TEACHER.name)
    expect(pc.locator("#code")).to_have_text(re.compile(r"^\d{6}$"))
    expect(pc.locator("#count")).to_have_text("0")
    expect(pc.get_by_text("Sign out")).to_have_count(0)
    expect(pc.locator("header")).to_have_count(0)
    expect(pc.get_by_text("Press F for full screen")).to_be_visible()
    shoot_sizes(pc, "projector-en-active", qr=True)
    pc.goto(f"{link}?lang=tr")
    expect(pc.locator(".scan")).to_have_text("QR kodu okutun ya da kodu yazın")
    expect(pc.get_by_text("Tam ekran için F tuşuna basın")).to_be_visible()
    shoot_sizes(pc, "projector-tr-active", qr=True)
    pc.goto(f"{link}?lang=en")
    pc.set_viewport_size(PROJECTORS[0])  # type: ignore[arg-type]

    # The keyboard reaches the full-screen button, and its focus is visible.
    pc.keyboard.press("Tab")
    expect(pc.locator("#fullscreen")).to_be_focused()
    ring = pc.locator("#fullscreen").evaluate(
        "(button) => { const style = getComputedStyle(button);"
        " return [style.outlineStyle, parseFloat(style.outlineWidth)]; }"
    )
    assert ring[0] != "none" and ring[1] >= 3, ring
    box = pc.locator("#fullscreen").bounding_box()
    assert box is not None
    pc.screenshot(
        path=SHOTS / "projector-focus.png",
        clip={"x": box["x"] - 16, "y": box["y"] - 16, "width": 420, "height": box["height"] + 32},
    )

    # Full screen: the F key and the button toggle it.
    pc.locator("body").press("f")
    pc.wait_for_function("() => document.fullscreenElement !== null")
    expect(pc.get_by_role("button", name="Exit full screen")).to_be_visible()
    pc.get_by_role("button", name="Exit full screen").click()
    pc.wait_for_function("() => document.fullscreenElement === null")
    expect(pc.get_by_role("button", name="Full screen", exact=True)).to_be_visible()

    # Laptop C: the teacher signs in again; A's session ends, B's screen does not.
    laptop_c = new_context(viewport=LAPTOP).new_page()
    laptop_c.goto(f"/teacher/lessons/{lesson_id}")
    sign_in(laptop_c, TEACHER)
    expect(laptop_c).to_have_url(attn_server.url(f"/teacher/lessons/{lesson_id}"))
    laptop_a.goto("/teacher")
    expect(laptop_a).to_have_url(re.compile(r"/login\?"))

    # A student checks in with the code on B's screen; B's count follows.
    phone = new_context(viewport=PHONE).new_page()
    phone.goto(f"/join/{lesson_id}")
    sign_in(phone, STUDENT)
    expect(phone).to_have_url(attn_server.url(f"/join/{lesson_id}"))
    check_in(phone, pc.locator("#code").inner_text())
    expect(pc.locator("#count")).to_have_text("1", timeout=NOTICE_WAIT)

    # The signed-in teacher's own projector route shows the same view, and fits too.
    own = laptop_c.context.new_page()
    own.set_viewport_size(PROJECTORS[1])  # type: ignore[arg-type]
    own.goto(f"/teacher/lessons/{lesson_id}/projector")
    expect(own.locator("#count")).to_have_text("1")
    shoot_sizes(own, "projector-teacher-active", qr=True)
    own.close()

    # The finish: B says check-in is closed, with the final count, by itself.
    laptop_c.get_by_role("button", name="Finish the lesson").click()
    laptop_c.get_by_role("button", name="Finish now").click()
    expect(laptop_c.locator("#roll-body")).to_have_attribute("data-live", "no")
    expect(pc.locator("#closed")).to_have_text("Check-in closed", timeout=NOTICE_WAIT)
    expect(pc.locator("#count")).to_have_text("1")
    expect(pc.locator("#code")).to_have_count(0)
    expect(pc.locator("#qr")).to_have_count(0)
    shoot_sizes(pc, "projector-en-closed", qr=False)
    pc.goto(f"{link}?lang=tr")
    expect(pc.locator("#closed")).to_have_text("Yoklama kapandı")
    expect(pc.locator(".count")).to_have_text("1 katılan")
    shoot_sizes(pc, "projector-tr-closed", qr=False)


def test_a_revoked_projector_link_says_so_on_its_screen(
    attn_server: Server, new_context: NewContext, projector_people: None
) -> None:
    laptop = new_context(viewport=LAPTOP).new_page()
    laptop.goto("/login")
    sign_in(laptop, REVOKING_TEACHER)
    start_lesson(laptop, "Kimya 2")
    link = the_link(laptop)
    pc = new_context(viewport=PROJECTORS[0]).new_page()
    pc.goto(link)
    expect(pc.locator("#code")).to_have_text(re.compile(r"^\d{6}$"))

    laptop.get_by_role("button", name="Revoke").click()
    expect(laptop.get_by_text("The projector link was revoked")).to_be_visible()
    expect(pc.locator("#link-revoked")).to_have_text(
        "This projector link was revoked.", timeout=NOTICE_WAIT
    )
    expect(pc.locator("#code")).to_have_count(0)
    expect(pc.locator("#qr")).to_have_count(0)
    expect(pc.locator("#count")).to_be_hidden()
    pc.screenshot(path=SHOTS / "projector-revoked-1280x720.png")
    pc.reload()
    expect(pc.get_by_text("This projector link was revoked.")).to_be_visible()

    laptop.get_by_role("button", name="New projector link").click()
    renewed = the_link(laptop)
    assert renewed != link
    pc.goto(renewed)
    expect(pc.locator("#code")).to_have_text(re.compile(r"^\d{6}$"), timeout=LIVE_WAIT)
    # a made-up link is not found
    wrong = pc.goto(renewed[:-3] + "AAA" if not renewed.endswith("AAA") else renewed[:-3] + "BBB")
    assert wrong is not None and wrong.status == 404
