"""The course page in a browser: a term of lessons as a table that names each lesson, with
each lesson's attended count and rate, the course average, the rate chart and the rule; the
page does not scroll sideways on a phone (the table scrolls in its own box), in English and
Turkish; and the student's own page shows the same rate. Screenshots at 1280x900 and 360x740
under test-artifacts/screenshots/."""

from __future__ import annotations

import asyncio
import csv
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, ViewportSize, expect

from tests.support.api import PASSWORD
from tests.support.browser import Server
from tests.support.numbers import persist_term
from tests.support.pages import SHOTS, NewContext, Person, sign_in

STATS_TEACHER = Person("T1090", "Nurcan Ersoy", "teacher")
STATS_STUDENT = Person("S2090", "Oğuz Kılıç", "student")
COURSE = "Fizik 101"
TEACHER_SIZE: ViewportSize = {"width": 1280, "height": 900}
PHONE_SIZE: ViewportSize = {"width": 360, "height": 740}
NAMES = {
    "S2090": STATS_STUDENT.name,
    "S2091": "Ayşegül Çınar",
    "S2092": "Ömer Faruk Şimşek",
    "S2093": "İlayda Güler",
    "S2094": "Barış Öztürk",
    "S2095": "Gizem Yücel",
}
# eight weekly lessons; S2095 joined the roster in week 4, so weeks 1-3 are none of hers
TERM = [
    "present late present present absent present",
    "present present absent present present present",
    "late present excused present present present",
    "present present present absent present present",
    "present absent present present late present",
    "excused present present present present absent",
    "present present present late present present",
    "present late absent present present present",
]


def _lessons() -> list[tuple[datetime, dict[str, str]]]:
    start = datetime(2026, 9, 15, 9, 0, tzinfo=UTC)
    lessons = []
    for week, line in enumerate(TERM):
        statuses = dict(zip(NAMES, line.split(), strict=True))
        if week < 3:
            del statuses["S2095"]
        lessons.append((start + timedelta(weeks=week), statuses))
    return lessons


def _no_sideways_scroll(page: Page) -> None:
    page.wait_for_function("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_the_course_page_reads_well_at_both_sizes(
    attn_server: Server, new_context: NewContext, people: None, tmp_path: Path
) -> None:
    listing = tmp_path / "stats-people.csv"
    with listing.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["school_number", "full_name", "role", "password"])
        for person in (STATS_TEACHER, STATS_STUDENT):
            writer.writerow([person.number, person.name, person.role, PASSWORD])
    imported = attn_server.attn("users", "import", str(listing))
    assert imported.returncode == 0, imported.stderr
    # in a thread of its own: the browser's driver runs an event loop in this one
    with ThreadPoolExecutor(1) as worker:
        worker.submit(
            asyncio.run,
            persist_term(
                attn_server.database.async_url,
                teacher=(STATS_TEACHER.number, STATS_TEACHER.name),
                course=COURSE,
                students=NAMES,
                lessons=_lessons(),
            ),
        ).result()

    SHOTS.mkdir(parents=True, exist_ok=True)
    context = new_context(viewport=TEACHER_SIZE)
    page = context.new_page()
    page.goto("/login")
    sign_in(page, STATS_TEACHER)
    expect(page).to_have_url(attn_server.url("/teacher"))
    page.goto(f"/teacher/course?name={COURSE}&lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text(COURSE)
    table = page.locator("table.course")
    expect(table.locator("thead th.lesson")).to_have_count(8)
    expect(table.locator("thead th.lesson").first).to_have_text("2026-09-15 09:00 UTC")
    expect(page.locator("svg.chart circle")).to_have_count(8)
    expect(page.locator("svg.chart title").first).to_have_text("Attendance rate by lesson")
    # S2095: 5 lessons expected (from week 4), one absent
    expect(page.locator('tr[data-student="S2095"] td.rate')).to_contain_text("80%")
    expect(page.locator("td.average")).to_contain_text("Course average:")
    expect(page.locator("p.rule")).to_have_text(
        "Rate = (present \u00d71 + late \u00d71) \u00f7 lessons expected; "
        "excused lessons are not counted."
    )
    page.screenshot(path=SHOTS / "course-statistics-1280x900.png", full_page=True)

    page.set_viewport_size(PHONE_SIZE)
    page.reload()
    page.screenshot(path=SHOTS / "course-statistics-360x740.png", full_page=True)
    _no_sideways_scroll(page)
    page.goto(f"/teacher/course?name={COURSE}&lang=tr")
    expect(page.locator("p.rule")).to_contain_text("Oran = (var \u00d71 + geç \u00d71)")
    expect(page.locator('tr[data-student="S2095"] td.rate')).to_contain_text("%80")
    _no_sideways_scroll(page)
    page.screenshot(path=SHOTS / "course-statistics-tr-360x740.png", full_page=True)

    phone = new_context(viewport=PHONE_SIZE).new_page()
    phone.goto("/login?lang=en")
    sign_in(phone, STATS_STUDENT)
    phone.goto("/student/history")
    # S2090's term: 6 present, 1 late, 1 excused (left out) = 7 of 7
    expect(phone.locator("ul.rates .rate")).to_contain_text("100%")
    expect(phone.locator("ul.rates .rate")).to_contain_text("of 7 lessons")
    _no_sideways_scroll(phone)
    phone.screenshot(path=SHOTS / "course-statistics-student-360x740.png", full_page=True)
