"""A student finds a lesson in seconds, on a 360x740 phone: the lesson of their course that is
on now is one tap away, and any other is found by typing the start of its name in ASCII
("kuan", teacher "ayse"), the results telling same-named lessons apart by teacher and room.
In English and in Turkish, with screenshots."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.support.api import PASSWORD
from tests.support.browser import Server, add_people
from tests.support.pages import PHONE, SHOTS, NewContext, Person, sign_in

TEACHER_SIZE = {"width": 1280, "height": 900}

# This test's own people, so that no other test's sessions or lessons are in its way.
ROSTER_TEACHER = Person("T1101", "Ayşe Yılmaz", "teacher")
NAMESAKE_COURSE_TEACHER = Person("T1102", "Ali Vural", "teacher")
ROSTER_STUDENT = Person("S2101", "Deniz Kılıç", "student")
SEARCHING_STUDENT = Person("S2102", "Oğuz Tan", "student")
PEOPLE = [ROSTER_TEACHER, NAMESAKE_COURSE_TEACHER, ROSTER_STUDENT, SEARCHING_STUDENT]


@pytest.fixture(scope="module")
def find_people(attn_server: Server, tmp_path_factory: pytest.TempPathFactory) -> None:
    add_people(attn_server, PEOPLE, tmp_path_factory.mktemp("find-people"))


def upload_roster(context: BrowserContext, teacher: Person, course: str, student: Person) -> None:
    """Through the API (the roster pages are not this test's): sign in, put the roster."""
    login = context.request.post(
        "/api/v1/auth/login", data={"school_number": teacher.number, "password": PASSWORD}
    )
    assert login.ok, login.text()
    token = login.json()["access_token"]
    put = context.request.put(
        f"/api/v1/teacher/rosters/{course}",
        data=f"school_number,full_name\r\n{student.number},{student.name}\r\n",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
    )
    assert put.ok, put.text()


def start(page: Page, name: str, room: str, shot: str = "") -> None:
    """From the dashboard: a lesson with a room and no security option."""
    page.goto("/teacher")
    page.get_by_label("Lesson name").fill(name)
    page.get_by_label("Room or section").fill(room)
    if shot:
        screenshot(page, shot)
    page.get_by_role("button", name="Start", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def screenshot(page: Page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


def fits_the_phone(page: Page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a 360 px phone"


def test_a_student_finds_the_lesson_by_roster_tap_and_by_ascii_search(
    attn_server: Server, new_context: NewContext, find_people: None
) -> None:
    # Two teachers start a "Kuantum 301" each; the first has the student on its roster.
    first = new_context(viewport=TEACHER_SIZE)
    upload_roster(first, ROSTER_TEACHER, "Kuantum 301", ROSTER_STUDENT)
    first_page = first.new_page()
    first_page.goto("/login")
    sign_in(first_page, ROSTER_TEACHER)
    start(first_page, "Kuantum 301", "A-101")
    page_of_namesake = new_context(viewport=TEACHER_SIZE).new_page()
    page_of_namesake.goto("/login")
    sign_in(page_of_namesake, NAMESAKE_COURSE_TEACHER)
    start(page_of_namesake, "Kuantum 301", "B-204, Şube 2", shot="find-start-form-1280x900")

    # 1. On the roster: "Now: Kuantum 301 — Ayşe Yılmaz", one tap, checked in.
    rostered = new_context(viewport=PHONE).new_page()
    rostered.goto("/login")
    sign_in(rostered, ROSTER_STUDENT)
    expect(rostered).to_have_url(attn_server.url("/student"))
    now = rostered.locator(".now-lesson")
    expect(now).to_have_count(1)
    expect(now).to_contain_text("Now: Kuantum 301 — Ayşe Yılmaz · A-101")
    fits_the_phone(rostered)
    screenshot(rostered, "find-now-en-360x740")
    rostered.goto("/student?lang=tr")
    expect(now).to_contain_text("Şimdi: Kuantum 301 — Ayşe Yılmaz · A-101")
    expect(now.get_by_role("link", name="Katıl")).to_be_visible()
    fits_the_phone(rostered)
    screenshot(rostered, "find-now-tr-360x740")
    rostered.goto("/student?lang=en")
    now.get_by_role("link", name="Check in").click()
    expect(rostered.locator("main .card h2")).to_have_text("Kuantum 301")
    expect(rostered.locator("#code")).to_have_count(0)  # no code asked: the lesson has none
    rostered.locator("main form button[type=submit]").click()
    expect(rostered.locator(".result")).to_contain_text("You are checked in: present.")

    # 2. Not on any roster: no "Now"; "kuan" finds both, told apart by teacher and room.
    searching = new_context(viewport=PHONE).new_page()
    searching.goto("/login")
    sign_in(searching, SEARCHING_STUDENT)
    expect(searching).to_have_url(attn_server.url("/student"))
    expect(searching.locator(".now-lesson")).to_have_count(0)
    searching.get_by_label("Lesson name").fill("kuan")
    searching.get_by_role("button", name="Find").click()
    cards = searching.locator(".found-lesson")
    expect(cards).to_have_count(2)
    expect(cards.filter(has_text="Ayşe Yılmaz")).to_contain_text("Room A-101")
    expect(cards.filter(has_text="Ali Vural")).to_contain_text("Room B-204, Şube 2")
    fits_the_phone(searching)
    screenshot(searching, "find-search-two-en-360x740")

    # ... and typed in ASCII, the teacher's first name narrows it to Ayşe Yılmaz's lesson.
    searching.get_by_label("Teacher's name").fill("ayse")
    searching.get_by_role("button", name="Find").click()
    expect(searching).to_have_url(attn_server.url("/student?lesson_name=kuan&teacher_name=ayse"))
    expect(cards).to_have_count(1)
    expect(cards.get_by_role("heading", name="Kuantum 301")).to_be_visible()
    expect(cards).to_contain_text("Ayşe Yılmaz")
    fits_the_phone(searching)
    screenshot(searching, "find-search-ayse-en-360x740")
    searching.goto("/student?lesson_name=kuan&teacher_name=ayse&lang=tr")
    expect(cards).to_have_count(1)
    expect(cards).to_contain_text("Derslik A-101")
    expect(searching.get_by_label("Öğretmen adı")).to_have_value("ayse")
    fits_the_phone(searching)
    screenshot(searching, "find-search-ayse-tr-360x740")
    searching.goto("/student?lesson_name=kimyasal&lang=tr")
    expect(searching.get_by_role("status")).to_have_text(
        "Eşleşen aktif ders yok. Yazımı kontrol edin ya da adın daha azını yazın."
    )
    searching.goto("/student?lesson_name=kuan&teacher_name=ayse&lang=en")
    cards.get_by_role("link", name="Check in").click()
    searching.locator("main form button[type=submit]").click()
    expect(searching.locator(".result")).to_contain_text("You are checked in: present.")

    # The first teacher's roll has both students.
    first_page.reload()
    for student in (ROSTER_STUDENT, SEARCHING_STUDENT):
        expect(first_page.locator(f'tr[data-student="{student.number}"]')).to_be_visible()
