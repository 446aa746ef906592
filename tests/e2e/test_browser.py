"""End-to-end: the pages in a real browser (Debian's Chromium) against `attn serve`.

One lesson is followed from start to exports: the teacher signs in and starts it with a
rotating code, the projector shows the code and QR, one student finds the lesson by name and
types the code, another follows the QR link, the teacher's open roll shows both without a
reload, the teacher rejects one with a reason and finishes, a sweep moves the lesson to SQL,
and the history, course page and exports show the result. Other tests cover sign-in errors,
ended sessions, the Turkish texts, phone-width layout and form labels, the live roll when its
stream connects late, and exports of a lesson whose name has a slash.

Screenshots of every page at phone and desktop size go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import quote

import openpyxl
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import ARTIFACTS, Server

SHOTS = ARTIFACTS / "screenshots"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
LIVE_WAIT = 5_000  # ms: how soon the teacher's open roll must show a check-in
SETTLED = 1_000  # ms: for a check on a page already shown, which no script changes later

expect.set_options(timeout=10_000)

NewContext = Callable[..., BrowserContext]


@dataclass(frozen=True)
class Person:
    number: str
    name: str
    role: str


TEACHER = Person("T1001", "Ayşe Yılmaz", "teacher")
STUDENT_A = Person("S2001", "Elif Kaya", "student")
STUDENT_B = Person("S2002", "Can Öztürk", "student")
# The other tests' people: every test has its own sessions (a new sign-in ends the last one).
LAB_TEACHER = Person("T1002", "Mehmet Demir", "teacher")
LAYOUT_STUDENT = Person("S2003", "Zeynep Arslan", "student")
STREAM_STUDENT = Person("S2004", "Burak Şahin", "student")
JOIN_EXPIRY_STUDENT = Person("S2005", "Deniz Aydın", "student")
LANGUAGE_STUDENT = Person("S2006", "İrem Çelik", "student")
WRONG_PASSWORD_STUDENT = Person("S2007", "Kerem Doğan", "student")
ENDED_STUDENT = Person("S2008", "Selin Koç", "student")
EXPIRED_STUDENT = Person("S2009", "Emre Güneş", "student")
TURKISH_STUDENT = Person("S2010", "Ece Yıldız", "student")
EXPORT_TEACHER = Person("T1003", "Hakan Öz", "teacher")
OTHERS = [
    STUDENT_A,
    STUDENT_B,
    LAB_TEACHER,
    LAYOUT_STUDENT,
    STREAM_STUDENT,
    JOIN_EXPIRY_STUDENT,
    LANGUAGE_STUDENT,
    WRONG_PASSWORD_STUDENT,
    ENDED_STUDENT,
    EXPIRED_STUDENT,
    TURKISH_STUDENT,
    EXPORT_TEACHER,
]

REASON = 'Sınıfta değildi, "koridordan" katıldı'
LESSON_URL = re.compile(r"/teacher/lessons/([0-9a-f]{32})$")
ROLL_HEADER = [
    "student_number",
    "student_full_name",
    "status",
    "attendance_time",
    "reason",
    "flags",
]
EXPIRED_NOTICE = "Your session has ended. Please sign in again."

# Counts the live roll's stream events, so the test can wait until the stream is subscribed
# (the `ready` event) instead of sleeping. It only listens; roll.js is unchanged.
WATCH_STREAM = """
(() => {
  const Native = window.EventSource;
  if (!Native) return;
  window.__attnStream = { ready: 0, records: 0, errors: 0 };
  const Watched = function (url, options) {
    const source = new Native(url, options);
    source.addEventListener("ready", () => { window.__attnStream.ready += 1; });
    source.addEventListener("record", () => { window.__attnStream.records += 1; });
    source.addEventListener("error", () => { window.__attnStream.errors += 1; });
    return source;
  };
  Watched.prototype = Native.prototype;
  window.EventSource = Watched;
})();
"""

# What overflows the page horizontally: the outermost elements that end past the viewport.
OVERFLOW = """
() => {
  const width = document.documentElement.clientWidth;
  const culprits = [];
  const clipped = el => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== "visible") return true;
    }
    return false;
  };
  for (const el of document.body.querySelectorAll("*")) {
    if (clipped(el)) continue;
    const box = el.getBoundingClientRect();
    const parent = el.parentElement && el.parentElement.getBoundingClientRect();
    if (box.width > 0 && box.right > width + 0.5 && (!parent || parent.right <= width + 0.5)) {
      const classes = typeof el.className === "string" ? el.className.trim() : "";
      const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
        (classes ? "." + classes.replace(/\\s+/g, ".") : "");
      culprits.push(name + " ends at " + Math.round(box.right) + "px");
    }
  }
  return { scrollWidth: document.documentElement.scrollWidth, culprits: culprits.slice(0, 5) };
}
"""

# Each input's accessible label: a <label> (wrapping or for=) with text, or aria-label(ledby).
UNLABELLED = """
inputs => inputs.filter(el => {
  const labelled = Array.from(el.labels || []).some(label => label.textContent.trim());
  const aria = (el.getAttribute("aria-label") || "").trim();
  const by = (el.getAttribute("aria-labelledby") || "").split(/\\s+/).filter(Boolean)
    .some(id => document.getElementById(id) && document.getElementById(id).textContent.trim());
  return !(labelled || aria || by);
}).map(el => el.outerHTML)
"""


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def people(attn_server: Server, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The accounts, made with the CLI: the main teacher with `attn users add`, everyone else
    with one `attn users import`."""
    added = attn_server.attn(
        "users",
        "add",
        "--school-number",
        TEACHER.number,
        "--full-name",
        TEACHER.name,
        "--role",
        TEACHER.role,
        "--password-stdin",
        stdin=f"{PASSWORD}\n",
    )
    assert added.returncode == 0, added.stderr
    listing = tmp_path_factory.mktemp("people") / "people.csv"
    with listing.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["school_number", "full_name", "role", "password"])
        writer.writerows([p.number, p.name, p.role, PASSWORD] for p in OTHERS)
    imported = attn_server.attn("users", "import", str(listing))
    assert imported.returncode == 0, imported.stderr


@dataclass(frozen=True)
class Lesson:
    lesson_id: str
    teacher: BrowserContext  # the signed-in teacher's context

    def code(self) -> str:
        """The code the projector shows now."""
        response = self.teacher.request.get(f"/teacher/lessons/{self.lesson_id}/projector.json")
        assert response.ok, response.text()
        code: str = response.json()["code"]
        return code


@pytest.fixture(scope="module")
def chemistry(browser: Browser, attn_server: Server, people: None) -> Iterator[Lesson]:
    """A live lesson with a rotating code that the smaller tests check in to."""
    context = browser.new_context(base_url=attn_server.base_url, viewport=PHONE)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto("/login")
        sign_in(page, LAB_TEACHER)
        expect(page).to_have_url(attn_server.url("/teacher"))
        yield Lesson(start_lesson(page, "Chemistry 2"), context)
    finally:
        context.close()


# --- helpers ---------------------------------------------------------------------------------


def sign_in(page: Page, person: Person, password: str = PASSWORD) -> None:
    """Fill in and send the sign-in form the page shows."""
    page.locator("#school_number").fill(person.number)
    page.locator("#password").fill(password)
    page.locator("main form button[type=submit]").click()


def start_lesson(page: Page, name: str) -> str:
    """Start a lesson with a rotating code from the dashboard; its id."""
    page.get_by_label("Lesson name").fill(name)
    page.get_by_label("Rotating code and QR").check()
    page.get_by_role("button", name="Start", exact=True).click()
    expect(page).to_have_url(LESSON_URL)
    found = LESSON_URL.search(page.url)
    assert found is not None
    return found.group(1)


def check_in(page: Page, code: str) -> None:
    """On the join page: type the code, send, and see the result page say present."""
    page.locator("#code").fill(code)
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".result")).to_contain_text("You are checked in: present.")


def shoot(page: Page, name: str) -> None:
    """Full-page screenshots at phone and desktop size; the page's own size is restored."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(viewport)
        page.screenshot(path=SHOTS / f"{name}-{label}.png", full_page=True)
    if size is not None:
        page.set_viewport_size(size)


def layout_problems(page: Page, name: str) -> list[str]:
    """What is wrong with the page on a 360 px phone: horizontal overflow, unlabelled inputs."""
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    problems: list[str] = []
    measured = page.evaluate(OVERFLOW)
    if measured["scrollWidth"] > PHONE["width"]:
        problems.append(
            f"{name} ({page.url}): scrollWidth {measured['scrollWidth']} > 360; "
            f"overflowing: {', '.join(measured['culprits']) or 'unknown'}"
        )
    for html in page.locator("input:not([type=hidden])").evaluate_all(UNLABELLED):
        problems.append(f"{name} ({page.url}): input without a label: {html}")
    if size is not None:
        page.set_viewport_size(size)
    return problems


def rows_by_number(rows: list[list[str]]) -> dict[str, list[str]]:
    return {row[0]: row for row in rows[1:]}


# --- the lesson, from start to exports -------------------------------------------------------


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
    change = roll.locator("ol.audit li").filter(has_text=f"{STUDENT_A.number}:")
    expect(change).to_have_count(1)
    expect(change).to_contain_text("present → rejected")
    expect(change).to_contain_text(TEACHER.number)
    expect(change).to_contain_text(REASON)

    # 7. The teacher finishes; a sweep moves the lesson to SQL; history, course and exports.
    projector.close()
    roll.get_by_role("button", name="Finish the lesson").click()
    expect(roll.locator("#roll-body")).to_have_attribute("data-live", "no")
    expect(roll.locator("main strong").first).to_have_text("finished")
    swept = attn_server.attn("sweep", "--once")
    assert swept.returncode == 0, swept.stderr
    assert re.search(r"sweep: [1-9]\d* lessons persisted", swept.stdout), swept.stdout

    roll.goto("/teacher/history")
    listed = roll.locator("tbody tr").filter(has=roll.get_by_role("link", name="Physics 101"))
    expect(listed).to_have_count(1)
    expect(listed.get_by_role("link")).to_have_attribute("href", f"/teacher/lessons/{lesson_id}")
    expect(listed.locator("td").last).to_have_text("2")
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
    expect(a.locator("main ul li").first).to_have_text("Physics 101 — Ayşe Yılmaz: 0/1 (0%)")
    shoot(a, "student-history")
    b.goto("/student/history")
    expect(b.locator("tbody tr .pill")).to_have_text("present")
    expect(b.locator("main ul li").first).to_have_text("Physics 101: 1/1 (100%)")


# --- the live roll -----------------------------------------------------------------------------


def test_the_live_roll_shows_check_ins_made_before_its_stream_connected(
    attn_server: Server, new_context: NewContext, chemistry: Lesson
) -> None:
    """The roll is rendered, then its stream subscribes: a check-in in between (or while the
    stream reconnects) must still show up once the stream is there."""
    held: list[Route] = []
    roll = chemistry.teacher.new_page()
    try:
        roll.add_init_script(WATCH_STREAM)
        roll.route(re.compile(r"/live$"), lambda route: held.append(route))
        with roll.expect_request(re.compile(r"/live$")):
            roll.goto(f"/teacher/lessons/{chemistry.lesson_id}")
        expect(roll.locator(f'tr[data-student="{STREAM_STUDENT.number}"]')).to_have_count(0)

        student = new_context(viewport=PHONE).new_page()
        student.goto(f"/join/{chemistry.lesson_id}")
        sign_in(student, STREAM_STUDENT)
        expect(student).to_have_url(attn_server.url(f"/join/{chemistry.lesson_id}"))
        check_in(student, chemistry.code())

        assert len(held) == 1
        held[0].continue_()  # the stream connects now, after the check-in
        roll.wait_for_function("() => window.__attnStream.ready > 0")
        expect(roll.locator(f'tr[data-student="{STREAM_STUDENT.number}"]')).to_be_visible(
            timeout=LIVE_WAIT
        )
    finally:
        roll.close()


# --- layout and labels -------------------------------------------------------------------------


def test_pages_fit_a_360px_phone_and_every_input_has_a_label(
    attn_server: Server, new_context: NewContext, chemistry: Lesson
) -> None:
    problems: list[str] = []
    student = new_context(viewport=PHONE).new_page()
    student.goto("/student?lesson_name=Chemistry+2&teacher_name=Mehmet+Demir")
    expect(student.get_by_role("heading", name="Sign in")).to_be_visible()
    problems += layout_problems(student, "login")
    sign_in(student, LAYOUT_STUDENT)
    expect(student).to_have_url(
        attn_server.url("/student?lesson_name=Chemistry+2&teacher_name=Mehmet+Demir")
    )
    expect(student.locator("main .card h2")).to_have_text("Chemistry 2")
    problems += layout_problems(student, "student search")
    student.locator("main .card a.button").click()
    expect(student).to_have_url(attn_server.url(f"/join/{chemistry.lesson_id}"))
    problems += layout_problems(student, "join")
    check_in(student, chemistry.code())
    problems += layout_problems(student, "result")

    teacher = chemistry.teacher.new_page()
    try:
        teacher.goto("/teacher")
        expect(teacher.get_by_role("heading", name="Dashboard")).to_be_visible()
        problems += layout_problems(teacher, "dashboard")
        teacher.goto(f"/teacher/lessons/{chemistry.lesson_id}")
        expect(teacher.locator(f'tr[data-student="{LAYOUT_STUDENT.number}"]')).to_be_visible()
        problems += layout_problems(teacher, "lesson")
        teacher.goto(f"/teacher/lessons/{chemistry.lesson_id}/projector")
        expect(teacher.locator("#code")).to_have_text(re.compile(r"^\d{6}$"))
        problems += layout_problems(teacher, "projector")
    finally:
        teacher.close()
    assert not problems, "\n".join(problems)


# --- sign-in and sessions ----------------------------------------------------------------------


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


def _end_session_elsewhere(context: BrowserContext) -> None:
    """Log the context's session out through the API, as another tab or device would."""
    token = next(c["value"] for c in context.cookies() if c["name"] == "attn_session")
    ended = context.request.post(
        "/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}
    )
    assert ended.status == 204, ended.text()


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


# --- languages ---------------------------------------------------------------------------------


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


# --- exports -----------------------------------------------------------------------------------


def test_the_export_and_course_links_work_for_a_lesson_name_with_a_slash(
    attn_server: Server, new_context: NewContext, people: None
) -> None:
    """ "Physics 1/2" is a valid lesson name: the lesson page's export links must download, and
    the history page's link to the course must open the course page."""
    context = new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto("/login")
    sign_in(page, EXPORT_TEACHER)
    expect(page).to_have_url(attn_server.url("/teacher"))
    lesson_id = start_lesson(page, "Physics 1/2")
    problems: list[str] = []
    for kind in ("csv", "xlsx"):
        link = page.get_by_role("link", name=f"Export {kind.upper()}")
        expect(link).to_have_attribute("href", f"/teacher/lessons/{lesson_id}/export.{kind}")
        exported = context.request.get(f"/teacher/lessons/{lesson_id}/export.{kind}")
        if exported.status != 200:
            problems.append(f"export.{kind}: {exported.status} {exported.text()[:120]}")
        elif kind == "xlsx":
            workbook = openpyxl.load_workbook(io.BytesIO(exported.body()), read_only=True)
            header = list(next(workbook.worksheets[0].values))
            workbook.close()
            if header != ROLL_HEADER:
                problems.append(f"export.xlsx: header {header}")
    page.goto("/teacher/history")
    course_link = page.locator("main ul a").filter(has_text="Physics 1/2")
    expect(course_link).to_have_count(1)
    href = course_link.get_attribute("href")
    with page.expect_response(lambda r: "/teacher/course?" in r.url) as opened:
        course_link.click()
    if opened.value.status != 200:
        problems.append(f"course link {href}: {opened.value.status} at {opened.value.url}")
    else:
        expect(page.get_by_role("heading", level=1)).to_have_text("Physics 1/2")
    assert not problems, "\n".join(problems)
