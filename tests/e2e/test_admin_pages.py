"""The README's administration demo in a browser, on a phone (360x740) and a desktop
(1280x800): the administrator signs in, finds a student by a name typed without its Turkish
letters, gives them a one-time password (shown once; the student signs in with it, the old
password no longer works), and deactivates a teacher, whose open page is signed out at once
and whose sign-in is refused. Every page passes axe-core and fits the phone without sideways
scrolling; screenshots go to test-artifacts/screenshots/admin/ (or $ATTN_ADMIN_SHOTS)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.support.api import PASSWORD
from tests.support.axe import accessibility_problems, overflow_problem
from tests.support.browser import Server, add_people
from tests.support.pages import DESKTOP, PHONE, SHOTS, NewContext, Person, sign_in

ADMIN = Person("A8801", "Sevgi Yöneten", "admin")
# one student and one teacher for each size: the demo changes them for good
STUDENTS = {
    360: Person("S8801", "Şükrü Ağaçlı", "student"),
    1280: Person("S8802", "Çiğdem Işık", "student"),
}
TEACHERS = {
    360: Person("T8801", "Oğuz Kılıç", "teacher"),
    1280: Person("T8802", "Gülşen Ünlü", "teacher"),
}
# what to type for each student: the name without its Turkish letters
TYPED = {360: "sukru agac", 1280: "cigdem isi"}
SIZES = {360: ViewportSize(**PHONE), 1280: ViewportSize(**DESKTOP)}  # type: ignore[typeddict-item]
ADMIN_SHOTS = Path(os.environ.get("ATTN_ADMIN_SHOTS", str(SHOTS / "admin")))


@pytest.fixture(scope="module")
def admin_people(attn_server: Server, tmp_path_factory: pytest.TempPathFactory) -> None:
    people = [ADMIN, *STUDENTS.values(), *TEACHERS.values()]
    add_people(attn_server, people, tmp_path_factory.mktemp("admin-people"))


def signed_in(
    new_context: NewContext, person: Person, size: ViewportSize, password: str = PASSWORD
) -> Page:
    page = new_context(viewport=size).new_page()
    page.goto("/login")
    sign_in(page, person, password)
    expect(page).not_to_have_url(re.compile(r"/login"))
    return page


@pytest.mark.parametrize("width", [360, 1280])
def test_the_admin_demo_finds_a_student_resets_their_password_and_deactivates_a_teacher(
    attn_server: Server, new_context: NewContext, admin_people: None, axe_js: str, width: int
) -> None:
    size, student, teacher = SIZES[width], STUDENTS[width], TEACHERS[width]
    problems: list[str] = []
    ADMIN_SHOTS.mkdir(parents=True, exist_ok=True)

    def looked_at(page: Page, name: str) -> None:
        where = f"{name} at {width}px"
        if width == 360:
            problems.extend(filter(None, [overflow_problem(page, where)]))
        problems.extend(accessibility_problems(page, where, axe_js))
        page.screenshot(path=ADMIN_SHOTS / f"{name}-{width}.png", full_page=True)

    teacher_page = signed_in(new_context, teacher, size)
    student_page = signed_in(new_context, student, size)
    admin = signed_in(new_context, ADMIN, size)
    expect(admin).to_have_url(attn_server.url("/admin"))
    expect(admin.get_by_role("heading", level=1)).to_have_text("Users")
    looked_at(admin, "users")

    # find the student by their name typed without its Turkish letters
    admin.get_by_label("School number or name").fill(TYPED[width])
    admin.get_by_role("button", name="Search").click()
    found = admin.locator("tr[data-user]")
    expect(found).to_have_count(1)
    expect(found.first).to_have_attribute("data-user", student.number)
    looked_at(admin, "search")
    found.get_by_role("link", name=student.name).click()
    expect(admin.get_by_role("heading", level=1)).to_have_text(student.name)
    looked_at(admin, "student")

    # a one-time password, shown once on the answer page
    admin.get_by_role("button", name="Make a one-time password").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("One-time password")
    one_time = admin.locator("#one-time-password").inner_text().strip()
    assert re.fullmatch(r"[A-Za-z0-9]{12}", one_time), one_time
    assert one_time not in admin.url
    looked_at(admin, "one-time-password")
    admin.get_by_role("link", name="Done").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text(student.name)
    assert one_time not in admin.content()
    expect(admin.locator("table.changes")).to_contain_text("password set")

    # the student's open page is signed out; the old password fails, the new one works
    student_page.reload()
    expect(student_page).to_have_url(re.compile(r"/login"))
    sign_in(student_page, student)
    expect(student_page.get_by_role("alert")).to_be_visible()
    sign_in(student_page, student, one_time)
    expect(student_page).to_have_url(attn_server.url("/student"))

    # find the teacher among the teachers and deactivate them
    admin.get_by_role("link", name="Users", exact=True).click()
    admin.get_by_label("School number or name").fill(teacher.number)
    admin.get_by_label("Role").select_option("teacher")
    admin.get_by_role("button", name="Search").click()
    admin.get_by_role("link", name=teacher.name).click()
    expect(admin.locator("#active-h")).to_have_text("Deactivate")
    expect(admin.locator("section:has(#active-h)")).to_contain_text(
        "signs " + teacher.name + " out everywhere at once"
    )
    looked_at(admin, "teacher")
    admin.get_by_role("button", name="Deactivate and sign out everywhere").click()
    expect(admin.get_by_role("status")).to_have_text(
        "Deactivated: they were signed out everywhere."
    )
    expect(admin.get_by_role("button", name="Reactivate")).to_be_visible()
    looked_at(admin, "deactivated")

    teacher_page.reload()
    expect(teacher_page).to_have_url(re.compile(r"/login"))
    sign_in(teacher_page, teacher)
    expect(teacher_page.get_by_role("alert")).to_be_visible()
    expect(teacher_page).to_have_url(re.compile(r"/login"))

    # the audit says it in words
    admin.get_by_role("link", name="Audit", exact=True).click()
    rows = admin.locator("table.changes tbody tr")
    expect(rows.first).to_contain_text("active: yes → no")
    expect(rows.first).to_contain_text(teacher.number)
    looked_at(admin, "audit")
    assert not problems, "\n".join(problems)
