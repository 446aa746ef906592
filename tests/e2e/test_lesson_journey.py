"""One lesson in a real browser, from start to exports: the teacher signs in and starts it
with a rotating code, the projector shows the code and QR, one student finds the lesson by
name and types the code, another follows the QR link, the teacher's open roll shows both
without a reload, the teacher rejects one with a reason and finishes, a sweep moves the
lesson to SQL, and the history, course page and exports show the result."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import quote

import openpyxl
from playwright.sync_api import expect

from tests.support.browser import Server
from tests.support.pages import (
    DESKTOP,
    LIVE_WAIT,
    PHONE,
    ROLL_HEADER,
    STUDENT_A,
    STUDENT_B,
    TEACHER,
    WATCH_STREAM,
    NewContext,
    shoot,
    sign_in,
    start_lesson,
)

REASON = 'Sınıfta değildi, "koridordan" katıldı'


def rows_by_number(rows: list[list[str]]) -> dict[str, list[str]]:
    return {row[0]: row for row in rows[1:]}


def test_a_lesson_from_start_to_exports(
    attn_server: Server, new_context: NewContext, people: None
) -> None:
    teacher = new_context(viewport=DESKTOP)
    teacher.add_init_script(WATCH_STREAM)
    roll = teacher.new_page()

    # 1. The teacher signs in and starts "Physics 101" with a rotating code; the roll is live.
    roll.goto("/login")
    expect(roll.get_by_role("heading", name="Sign in")).to_be_visible()
    shoot(roll, "login")
    sign_in(roll, TEACHER)
    expect(roll).to_have_url(attn_server.url("/teacher"))
    expect(roll.get_by_role("heading", name="Dashboard")).to_be_visible()
    shoot(roll, "dashboard")
    lesson_id = start_lesson(roll, "Physics 101")
    expect(roll.get_by_role("heading", level=1)).to_have_text("Physics 101")
    expect(roll.locator("main strong").first).to_have_text("active")
    expect(roll.locator("#roll-body")).to_have_attribute("data-live", "yes")
    roll.wait_for_function("() => window.__attnStream && window.__attnStream.ready > 0")
    roll.evaluate("() => { window.__neverReloaded = true; }")

    # 2. The projector, in the teacher's context: the code and a QR image that loads.
    projector = teacher.new_page()
    projector.goto(f"/teacher/lessons/{lesson_id}/projector")
    expect(projector.locator("#code")).to_have_text(re.compile(r"^\d{6}$"))
    code = projector.locator("#code").inner_text()
    qr = projector.locator("img#qr")
    expect(qr).to_be_visible()
    projector.wait_for_function(
        "() => { const img = document.getElementById('qr');"
        " return img.complete && img.naturalWidth > 0; }"
    )
    join_url = attn_server.url(f"/join/{lesson_id}?code={code}")
    expect(qr).to_have_attribute("alt", f"QR: {join_url}")
    expect(projector.locator("#count")).to_have_text("0")
    shoot(projector, "projector")

    # 3. Student A finds the lesson by its names, in any case, and types the code.
    student_a = new_context(viewport=PHONE)
    a = student_a.new_page()
    a.goto("/student")
    expect(a).to_have_url(attn_server.url("/login?next=%2Fstudent"))
    sign_in(a, STUDENT_A)
    expect(a).to_have_url(attn_server.url("/student"))
    for lesson_name, teacher_name in (
        ("PHYSICS 101", "AYŞE YILMAZ"),
        ("physics 101", "ayşe yılmaz"),
    ):
        a.get_by_label("Lesson name").fill(lesson_name)
        a.get_by_label("Teacher's name").fill(teacher_name)
        a.get_by_role("button", name="Find").click()
        expect(a).to_have_url(re.compile(r"/student\?lesson_name="))
        found = a.locator("main .card").filter(has=a.get_by_role("heading", name="Physics 101"))
        expect(found).to_have_count(1)
        expect(found).to_contain_text("Ayşe Yılmaz")
    shoot(a, "student-search")
    found.get_by_role("link", name="Check in").click()
    expect(a).to_have_url(attn_server.url(f"/join/{lesson_id}"))
    expect(a.locator("main .card h2")).to_have_text("Physics 101")
    expect(a.locator("#code")).to_have_value("")
    a.locator("#code").fill(code)
    shoot(a, "join")
    a.locator("main form button[type=submit]").click()
    expect(a.get_by_role("heading", name="Result")).to_be_visible()
    expect(a.locator(".result")).to_contain_text("You are checked in: present.")
    shoot(a, "result")

    # 4. Student B follows the QR link: sign-in first, then the join page with the code in.
    student_b = new_context(viewport=PHONE)
    b = student_b.new_page()
    b.goto(join_url)
    expect(b).to_have_url(
        attn_server.url(f"/login?next={quote(f'/join/{lesson_id}?code={code}', safe='')}")
    )
    sign_in(b, STUDENT_B)
    expect(b).to_have_url(join_url)
    expect(b.locator("#code")).to_have_value(code)
    b.locator("main form button[type=submit]").click()
    expect(b.locator(".result")).to_contain_text("You are checked in: present.")

    # 5. The teacher's roll, open all along and never reloaded, shows both students.
    expect(roll.locator(f'tr[data-student="{STUDENT_A.number}"]')).to_be_visible(timeout=LIVE_WAIT)
    expect(roll.locator(f'tr[data-student="{STUDENT_B.number}"]')).to_be_visible(timeout=LIVE_WAIT)
    expect(roll.locator("#roll-body .counts")).to_contain_text("present: 2")
    assert roll.evaluate("() => window.__neverReloaded === true"), "the roll page was reloaded"
    expect(projector.locator("#count")).to_have_text("2")
    shoot(roll, "lesson-live")

    # 6. The teacher rejects student A with a reason; the row and the audit list show it.
    row_a = roll.locator(f'tr[data-student="{STUDENT_A.number}"]')
    row_a.get_by_label("Reason").fill(REASON)
    row_a.get_by_role("button", name="Reject").click()
    expect(roll).to_have_url(re.compile(rf"/teacher/lessons/{lesson_id}#roll$"))
    row_a = roll.locator(f'tr[data-student="{STUDENT_A.number}"]')
    expect(row_a.locator(".pill")).to_have_text("rejected")
    expect(row_a).to_contain_text(REASON)
    expect(roll.locator(f'tr[data-student="{STUDENT_B.number}"] .pill').first).to_have_text(
        "present"
    )
    changes = roll.locator("ol.audit li").filter(has_text=f"{STUDENT_A.number}:")
    expect(changes).to_have_count(2)  # the check-in, then the rejection (newest first)
    expect(changes.nth(1)).to_contain_text(f"{STUDENT_A.name} {STUDENT_A.number}: — → present")
    change = changes.first
    expect(change).to_contain_text("present → rejected")
    expect(change).to_contain_text("(teacher)")  # the lesson's own teacher, not a number
    expect(change).to_contain_text(REASON)

    # 7. The teacher finishes; a sweep moves the lesson to SQL; history, course and exports.
    projector.close()
    roll.get_by_role("button", name="Finish the lesson").click()
    roll.get_by_role("button", name="Finish now").click()  # it asks first
    expect(roll.locator("#roll-body")).to_have_attribute("data-live", "no")
    expect(roll.locator("main strong").first).to_have_text("finished")
    swept = attn_server.attn("sweep", "--once")
    assert swept.returncode == 0, swept.stderr
    assert re.search(r"sweep: [1-9]\d* lessons persisted", swept.stdout), swept.stdout

    roll.goto("/teacher/history")
    listed = roll.locator("tbody tr").filter(has=roll.get_by_role("link", name="Physics 101"))
    expect(listed).to_have_count(1)
    expect(listed.get_by_role("link")).to_have_attribute("href", f"/teacher/lessons/{lesson_id}")
    # one attended, one rejected: the same counters as the roll's
    expect(listed.locator('td [data-count="attended"]')).to_have_text("attended: 1")
    expect(listed.locator('td [data-count="rejected"]')).to_have_text("rejected: 1")
    shoot(roll, "history")

    roll.get_by_role("link", name="Physics 101").first.click()  # the course, under Courses
    expect(roll).to_have_url(attn_server.url("/teacher/course?name=Physics%20101"))
    expect(roll.get_by_role("heading", level=1)).to_have_text("Physics 101")
    course_a = roll.locator("tbody tr").filter(has_text=STUDENT_A.number)
    course_b = roll.locator("tbody tr").filter(has_text=STUDENT_B.number)
    expect(course_a.locator(".pill")).to_have_text("rejected")
    expect(course_a).to_contain_text("0%")
    expect(course_b.locator(".pill")).to_have_text("present")
    expect(course_b).to_contain_text("100%")
    shoot(roll, "course")

    roll.goto(f"/teacher/lessons/{lesson_id}")  # now read from SQL
    expect(roll.locator("#roll-body")).to_have_attribute("data-live", "no")
    expect(roll.locator("#roll-body tbody tr")).to_have_count(2)
    row_a = roll.locator(f'tr[data-student="{STUDENT_A.number}"]')
    expect(row_a.locator(".pill")).to_have_text("rejected")
    expect(row_a).to_contain_text(REASON)
    expect(roll.locator(f'tr[data-student="{STUDENT_B.number}"] .pill')).to_have_text("present")
    shoot(roll, "lesson-finished")

    exported = teacher.request.get(f"/teacher/lessons/{lesson_id}/export.csv")
    assert exported.status == 200, exported.text()
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.headers["content-disposition"].startswith("attachment;")
    table = list(csv.reader(io.StringIO(exported.body().decode("utf-8-sig"))))
    assert table[0] == ROLL_HEADER
    by_number = rows_by_number(table)
    assert set(by_number) == {STUDENT_A.number, STUDENT_B.number}
    assert by_number[STUDENT_A.number][1:3] == [STUDENT_A.name, "rejected"]
    assert by_number[STUDENT_A.number][4] == REASON
    assert by_number[STUDENT_B.number][1:3] == [STUDENT_B.name, "present"]
    assert by_number[STUDENT_B.number][4] == ""

    exported = teacher.request.get(f"/teacher/lessons/{lesson_id}/export.xlsx")
    assert exported.status == 200, exported.text()
    assert exported.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook = openpyxl.load_workbook(io.BytesIO(exported.body()), read_only=True)
    sheet = workbook.worksheets[0]
    cells = [["" if value is None else str(value) for value in row] for row in sheet.values]
    workbook.close()
    assert sheet.title == "Physics 101"
    assert cells[0] == ROLL_HEADER
    by_number = rows_by_number(cells)
    assert set(by_number) == {STUDENT_A.number, STUDENT_B.number}
    assert by_number[STUDENT_A.number][1:3] == [STUDENT_A.name, "rejected"]
    assert by_number[STUDENT_A.number][4] == REASON
    assert by_number[STUDENT_B.number][1:3] == [STUDENT_B.name, "present"]

    a.goto("/student/history")
    mine = a.locator("tbody tr").filter(has_text="Physics 101")
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text("Ayşe Yılmaz")
    expect(mine.locator(".pill")).to_have_text("rejected")
    expect(a.locator("main ul.rates .rate").first).to_have_text(
        "Physics 101 — Ayşe Yılmaz: 0% of 1 lesson"
    )
    shoot(a, "student-history")
    b.goto("/student/history")
    expect(b.locator("tbody tr .pill")).to_have_text("present")
    expect(b.locator("main ul.rates .rate").first).to_have_text(
        "Physics 101 — Ayşe Yılmaz: 100% of 1 lesson"
    )
