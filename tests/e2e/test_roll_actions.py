"""The roll's actions and the course roster in a real browser, as a teacher at a laptop
(1280x900) and on a phone (360x740), in English and Turkish: a roster uploaded through its
preview (every bad line shown first), the not-yet list and the change list following a
check-in live, a student added by a name typed without Turkish letters, a student marked
absent with the keyboard, and a finish that asks first. Screenshots under
test-artifacts/screenshots/roll-*.png."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from tests.support.api import PASSWORD
from tests.support.browser import ARTIFACTS, Server
from tests.support.pages import (
    LIVE_WAIT,
    PHONE,
    WATCH_STREAM,
    NewContext,
    Person,
    check_in,
    sign_in,
    start_lesson,
)

SHOTS = ARTIFACTS / "screenshots"
TEACHER_SIZE = {"width": 1280, "height": 900}

ROLL_TEACHER = Person("T1901", "Nur Aksoy", "teacher")
ON_TIME = Person("S1901", "Elif Kaya", "student")
ALSO_HERE = Person("S1902", "Can Öztürk", "student")
COURSE = "Fizik 101"

BAD_ROSTER = (
    "school_number,full_name\n"
    f"{ON_TIME.number},{ON_TIME.name}\n"
    "R 19,Ali Veli\n"
    f"{ON_TIME.number},{ON_TIME.name}\n"
    "R1903,\n"
)
ROSTER = (
    "school_number,full_name\n"
    f"{ON_TIME.number},{ON_TIME.name}\n"
    f"{ALSO_HERE.number},{ALSO_HERE.name}\n"
    "R1903,Şule Ağır\n"
    "R1904,Ali Veli\n"
    "R1905,Deniz Yıldırım\n"
)

# The page scrolls sideways when its content is wider than the viewport.
PAGE_WIDTH = "() => document.documentElement.scrollWidth"


@pytest.fixture(scope="module")
def roll_people(attn_server: Server, tmp_path_factory: pytest.TempPathFactory) -> None:
    listing: Path = tmp_path_factory.mktemp("roll-people") / "people.csv"
    listing.write_text(
        "school_number,full_name,role,password\n"
        + "".join(
            f"{p.number},{p.name},{p.role},{PASSWORD}\n" for p in (ROLL_TEACHER, ON_TIME, ALSO_HERE)
        ),
        encoding="utf-8",
    )
    imported = attn_server.attn("users", "import", str(listing))
    assert imported.returncode == 0, imported.stderr


def shoot(page: Page, name: str, *sizes: dict[str, int]) -> None:
    """Full-page screenshots at the given sizes; the page's own size is restored."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for viewport in sizes:
        page.set_viewport_size(viewport)  # type: ignore[arg-type]
        page.screenshot(path=SHOTS / f"{name}-{viewport['width']}.png", full_page=True)
    if size is not None:
        page.set_viewport_size(size)


def fits_the_phone(page: Page) -> None:
    size = page.viewport_size
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    assert page.evaluate(PAGE_WIDTH) <= PHONE["width"], "the page scrolls sideways at 360 px"
    if size is not None:
        page.set_viewport_size(size)


@pytest.fixture
def teacher_page(attn_server: Server, new_context: NewContext, roll_people: None) -> Page:
    page = new_context(viewport=TEACHER_SIZE).new_page()
    page.goto("/login?next=/teacher&lang=en")
    sign_in(page, ROLL_TEACHER)
    expect(page).to_have_url(attn_server.url("/teacher"))
    return page


def test_a_roster_is_previewed_saved_and_used_by_the_live_roll(
    attn_server: Server, new_context: NewContext, teacher_page: Page
) -> None:
    page = teacher_page
    # 1. The roster: from the dashboard; a bad paste shows every bad line, nothing saved.
    page.get_by_role("link", name="Rosters").click()
    expect(page).to_have_url(attn_server.url("/teacher/rosters"))
    page.get_by_label("Course (the lesson name)").fill(COURSE)
    page.get_by_label("…or paste the CSV").fill(BAD_ROSTER)
    page.get_by_role("button", name="Preview the changes").click()
    problems = page.locator(".problems tbody tr")
    expect(problems).to_have_count(3)
    expect(problems.nth(0)).to_contain_text('"R 19" is not a school number')
    expect(problems.nth(1)).to_contain_text("appears twice (first on line 2)")
    expect(problems.nth(2)).to_contain_text("The full name is empty.")
    expect(page.get_by_role("button", name="Save this roster")).to_have_count(0)
    shoot(page, "roll-roster-errors", TEACHER_SIZE, PHONE)
    fits_the_phone(page)

    # fixed in the form the preview keeps: the preview lists who is added, then it is saved
    page.get_by_label("…or paste the CSV").fill(ROSTER)
    page.get_by_role("button", name="Preview the changes").click()
    expect(page.locator("#added-h")).to_have_text("Added: 5")
    expect(page.locator(".names.added")).to_contain_text("Şule Ağır")
    shoot(page, "roll-roster-preview", TEACHER_SIZE, PHONE)
    page.get_by_role("button", name="Save this roster").click()
    expect(page.locator(".notice")).to_have_text("The roster is saved: 5 students.")
    expect(page.locator(".roster-table tbody tr")).to_have_count(5)
    # one student off the roster
    page.get_by_role("button", name="Remove Deniz Yıldırım").click()
    expect(page.locator(".notice")).to_have_text("R1905 is off the roster.")
    expect(page.locator(".roster-table tbody tr")).to_have_count(4)
    shoot(page, "roll-roster", TEACHER_SIZE, PHONE)
    fits_the_phone(page)
    # the same pages in Turkish
    page.goto(f"/teacher/rosters/{quote(COURSE)}?lang=tr")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{COURSE} ders listesi")
    shoot(page, "roll-roster-tr", TEACHER_SIZE, PHONE)
    page.get_by_label("…ya da CSV'yi yapıştırın").fill(BAD_ROSTER)
    page.get_by_role("button", name="Değişiklikleri önizle").click()
    expect(page.locator(".problems h2")).to_have_text(
        "3 sorun var: düzeltip yeniden önizleyin. Hiçbir şey kaydedilmedi."
    )
    expect(problems.nth(0)).to_contain_text('"R 19" geçerli bir okul numarası değil')
    expect(problems.nth(1)).to_contain_text("iki kez geçiyor")
    shoot(page, "roll-roster-errors-tr", TEACHER_SIZE, PHONE)
    fits_the_phone(page)
    page.goto("/teacher/rosters?lang=en")

    # 2. A lesson of the course: the roll shows who has not checked in yet.
    page.goto("/teacher")
    lesson_id = start_lesson(page, COURSE)
    page.add_init_script(WATCH_STREAM)
    page.goto(f"/teacher/lessons/{lesson_id}")
    page.wait_for_function("() => window.__attnStream && window.__attnStream.ready > 0")
    page.evaluate("() => { window.__neverReloaded = true; }")
    not_yet = page.locator("#not-yet")
    expect(not_yet.locator("summary")).to_have_text("Not yet: 4")
    not_yet.locator("summary").click()
    expect(not_yet.locator("li")).to_have_count(4)

    # 3. A student checks in on a phone: the roll, the not-yet list and the changes follow.
    code = page.request.get(f"/teacher/lessons/{lesson_id}/projector.json").json()["code"]
    phone = new_context(viewport=PHONE).new_page()
    phone.goto(f"/join/{lesson_id}")
    sign_in(phone, ON_TIME)
    expect(phone).to_have_url(attn_server.url(f"/join/{lesson_id}"))
    check_in(phone, code)
    expect(page.locator(f'tr[data-student="{ON_TIME.number}"]')).to_be_visible(timeout=LIVE_WAIT)
    expect(not_yet.locator("summary")).to_have_text("Not yet: 3", timeout=LIVE_WAIT)
    expect(not_yet).to_have_attribute("open", "")  # left open as the teacher opened it
    first_change = page.locator("#changes-body li").first
    expect(first_change).to_contain_text(f"{ON_TIME.name}", timeout=LIVE_WAIT)
    expect(first_change).to_contain_text("— → present (student)")
    assert page.evaluate("() => window.__neverReloaded === true"), "the roll page was reloaded"

    # 4. "Add a student": a name typed on an English keyboard finds Şule Ağır on the roster.
    add = page.get_by_label("Name or school number")
    expect(page.locator("#roster-students option")).to_have_count(4)
    add.fill("sule agir")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".notice")).to_have_text("Added Şule Ağır (R1903): present.")
    expect(page.locator('tr[data-student="R1903"]')).to_be_visible()

    # 5. The row's menu, by keyboard: Elif is marked absent.
    menu = page.locator(f"#choice-{ON_TIME.number}")
    menu.focus()
    menu.select_option("absent")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.textContent.trim()")
    assert focused == "Apply", focused
    page.keyboard.press("Enter")
    row = page.locator(f'tr[data-student="{ON_TIME.number}"]')
    expect(row.locator(".pill.absent")).to_have_text("absent")
    expect(page.locator("#changes-body li").first).to_contain_text(
        f"{ON_TIME.name} {ON_TIME.number}: present → absent (teacher)"
    )
    page.locator("#not-yet summary").click()
    shoot(page, "roll-live-en", TEACHER_SIZE, PHONE)
    fits_the_phone(page)
    page.goto(f"/teacher/lessons/{lesson_id}?lang=tr")
    expect(page.locator("#not-yet summary")).to_have_text("Henüz katılmayan: 2")
    expect(page.locator("#changes-body li").first).to_contain_text(
        "var → yok (öğretmen", timeout=LIVE_WAIT
    )
    page.locator("#not-yet summary").click()
    shoot(page, "roll-live-tr", TEACHER_SIZE, PHONE)
    fits_the_phone(page)

    # 6. Finishing asks first, with the counts; cancel keeps the lesson, then finish.
    page.goto(f"/teacher/lessons/{lesson_id}?lang=en")
    page.get_by_role("button", name="Finish the lesson").click()
    confirm = page.locator("#finish-confirm")
    expect(confirm.get_by_role("heading")).to_have_text(f"Finish {COURSE} now?")
    expect(confirm).to_contain_text("1 attended, 2 not yet.")
    shoot(page, "roll-finish-question", TEACHER_SIZE, PHONE)
    confirm.get_by_role("link", name="Cancel").click()
    expect(page.locator("main strong").first).to_have_text("active")
    page.get_by_role("button", name="Finish the lesson").click()
    page.get_by_role("button", name="Finish now").click()
    expect(page.locator("main strong").first).to_have_text("finished")
    expect(page.locator("#roll-body")).to_have_attribute("data-live", "no")
    assert re.search(r"/teacher/lessons/[0-9a-f]{32}$", page.url), page.url
