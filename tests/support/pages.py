"""The words of the browser tests: the people who use the pages, the sizes of a phone and a
desktop, and what a person does on a page (sign in, start a lesson, check in), with
screenshots of every page saved under test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from playwright.sync_api import BrowserContext, Page, expect

from tests.support.api import PASSWORD
from tests.support.browser import ARTIFACTS

SHOTS = ARTIFACTS / "screenshots"


PHONE = {"width": 360, "height": 740}


DESKTOP = {"width": 1280, "height": 800}


LIVE_WAIT = 5_000  # ms: how soon the teacher's open roll must show a check-in


SETTLED = 1_000  # ms: for a check on a page already shown, which no script changes later


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


# The projector page's size against the window's, and the QR image's box: the view must fit.
PROJECTOR_MEASURE = """() => {
  const page = document.scrollingElement, qr = document.getElementById("qr");
  const box = qr ? qr.getBoundingClientRect() : null;
  const bottoms = Array.from(document.querySelectorAll("main *"))
    .filter((e) => e.getClientRects().length).map((e) => e.getBoundingClientRect().bottom);
  return {
    height: page.scrollHeight, width: page.scrollWidth,
    innerHeight: innerHeight, innerWidth: innerWidth,
    qrHeight: box ? box.height : 0, qrWidth: box ? box.width : 0,
    qrLoaded: qr ? qr.complete && qr.naturalWidth > 0 : false,
    lowest: Math.max.apply(null, bottoms),
  };
}"""
QR_LOADED = (
    "() => { const img = document.getElementById('qr');"
    " return img && img.complete && img.naturalWidth > 0; }"
)


def assert_projector_fits(page: Page, where: str, *, qr: bool) -> None:
    """The projector page fits its window with no scrolling; with `qr`, once the QR image has
    loaded, it is square and at least 60% of the window's height."""
    if qr:
        page.wait_for_function(QR_LOADED)
    sizes = page.evaluate(PROJECTOR_MEASURE)
    assert sizes["height"] <= sizes["innerHeight"], (where, sizes)
    assert sizes["width"] <= sizes["innerWidth"], (where, sizes)
    assert sizes["lowest"] <= sizes["innerHeight"], (where, sizes)
    if qr:
        assert sizes["qrLoaded"], where
        assert sizes["qrHeight"] >= 0.6 * sizes["innerHeight"], (where, sizes)
        assert abs(sizes["qrHeight"] - sizes["qrWidth"]) < 2, (where, sizes)


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
