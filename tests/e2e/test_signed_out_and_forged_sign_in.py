"""End-to-end, in Debian's Chromium against `attn serve`: the projector and the live roll when
the teacher's session ends while they are open, and a forged sign-in sent from another
site's page.

Screenshots go to test-artifacts/screenshots/ (the projector at 1280x720, the roll at 360x740).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from tests.support.api import PASSWORD
from tests.support.browser import ARTIFACTS, Server, add_people

SHOTS = ARTIFACTS / "screenshots"
PROJECTOR = {"width": 1280, "height": 720}
PHONE = {"width": 360, "height": 740}
NOTICE_WAIT = 5_000  # ms: how soon an open page must notice its session ended
LESSON_URL = re.compile(r"/teacher/lessons/([0-9a-f]{32})$")
EVIL = "http://evil.test"
SIGNED_OUT = "Signed out — sign in again"

expect.set_options(timeout=10_000)

NewContext = Callable[..., BrowserContext]

# Counts the live roll's `ready` events, so the test waits until the stream is subscribed.
WATCH_STREAM = """
(() => {
  const Native = window.EventSource;
  if (!Native) return;
  window.__attnReady = 0;
  const Watched = function (url, options) {
    const source = new Native(url, options);
    source.addEventListener("ready", () => { window.__attnReady += 1; });
    return source;
  };
  Watched.prototype = Native.prototype;
  Watched.CLOSED = Native.CLOSED;
  window.EventSource = Watched;
})();
"""


@dataclass(frozen=True)
class Person:
    number: str
    name: str
    role: str


TEACHER = Person("T4001", "Ayşe Yılmaz", "teacher")
STUDENT = Person("S4001", "Elif Kaya", "student")
ATTACKER = Person("S4002", "Can Öztürk", "student")
VICTIM = Person("S4003", "Zeynep Arslan", "student")


@pytest.fixture(scope="module")
def people(attn_server: Server, tmp_path_factory: pytest.TempPathFactory) -> None:
    add_people(attn_server, [TEACHER, STUDENT, ATTACKER, VICTIM], tmp_path_factory.mktemp("people"))


def sign_in(page: Page, person: Person) -> None:
    page.locator("#school_number").fill(person.number)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()


def api_login(server: Server, person: Person) -> dict[str, str]:
    response = httpx.post(
        server.url("/api/v1/auth/login"),
        json={"school_number": person.number, "password": PASSWORD},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_projector_and_live_roll_after_the_session_ends_say_signed_out(
    attn_server: Server, new_context: NewContext, people: None
) -> None:
    context = new_context()
    context.add_init_script(WATCH_STREAM)
    roll = context.new_page()
    roll.set_viewport_size(PHONE)
    roll.goto("/login?next=%2Fteacher")
    sign_in(roll, TEACHER)
    expect(roll).to_have_url(attn_server.url("/teacher"))
    roll.get_by_label("Lesson name").fill("Optics 1")
    roll.get_by_label("Rotating code and QR").check()
    roll.get_by_role("button", name="Start", exact=True).click()
    expect(roll).to_have_url(LESSON_URL)
    found = LESSON_URL.search(roll.url)
    assert found is not None
    lesson_id = found.group(1)
    roll.wait_for_function("() => window.__attnReady >= 1")

    projector = context.new_page()
    projector.set_viewport_size(PROJECTOR)
    projector.goto(f"/teacher/lessons/{lesson_id}/projector")
    expect(projector.locator("#code")).to_have_text(re.compile(r"^\d{6}$"))
    expect(projector.locator("#signed-out")).to_be_hidden()
    expect(roll.locator("#signed-out")).to_be_hidden()

    # the teacher signs in elsewhere: this browser's session is replaced
    teacher = api_login(attn_server, TEACHER)

    expect(projector.locator("#signed-out")).to_be_visible(timeout=NOTICE_WAIT)
    expect(projector.locator("#signed-out")).to_have_text(SIGNED_OUT)
    here = f"/teacher/lessons/{lesson_id}/projector"
    expect(projector.get_by_role("link", name="sign in again")).to_have_attribute(
        "href", f"/login?next={quote(here, safe='')}"
    )
    # the dead code and its QR are off the screen
    expect(projector.locator("#code")).to_have_count(0)
    expect(projector.locator("#qr")).to_have_count(0)
    expect(projector.get_by_text("seconds left")).to_have_count(0)
    SHOTS.mkdir(parents=True, exist_ok=True)
    projector.screenshot(path=SHOTS / "signed-out-projector-1280x720.png")

    # a student checks in: the open roll hears of it, and finds its session gone
    student = api_login(attn_server, STUDENT)
    code = httpx.get(
        attn_server.url(f"/api/v1/teacher/lessons/{lesson_id}/code"), headers=teacher, timeout=10
    ).json()["code"]
    joined = httpx.post(
        attn_server.url(f"/api/v1/student/lessons/{lesson_id}/attendance"),
        json={"code": code},
        headers=student,
        timeout=10,
    )
    assert joined.status_code == 201, joined.text
    expect(roll.locator("#signed-out")).to_be_visible(timeout=NOTICE_WAIT)
    expect(roll.locator("#signed-out")).to_have_text(SIGNED_OUT)
    expect(roll.get_by_role("link", name="sign in again")).to_have_attribute(
        "href", f"/login?next={quote(f'/teacher/lessons/{lesson_id}', safe='')}"
    )
    # the sign-in page was not pasted into the roll
    expect(roll.locator("#roll-body input[type=password]")).to_have_count(0)
    expect(roll.locator("#roll-body .counts")).to_have_count(1)
    roll.screenshot(path=SHOTS / "signed-out-roll-360x740.png")

    # the link signs in again and leads back to a working projector
    projector.get_by_role("link", name="sign in again").click()
    sign_in(projector, TEACHER)
    expect(projector).to_have_url(attn_server.url(here))
    expect(projector.locator("#code")).to_have_text(re.compile(r"^\d{6}$"))
    expect(projector.locator("#signed-out")).to_be_hidden()


def test_login_csrf_a_forged_sign_in_from_another_site_signs_nobody_in(
    attn_server: Server, new_context: NewContext, people: None
) -> None:
    """Another site's page posts the attacker's own credentials (and a sign-in token the
    attacker got by opening the form itself) to /login in the victim's browser."""
    with httpx.Client(base_url=attn_server.base_url, timeout=10) as attacker_browser:
        form = attacker_browser.get("/login")
        token = re.search(r'name="sign_in_token" value="([^"]*)"', form.text)
    forged = f"""<!doctype html><html><body>
<form id="f" method="post" action="{attn_server.url("/login")}">
  <input name="sign_in_token" value="{token.group(1) if token else ""}">
  <input name="school_number" value="{ATTACKER.number}">
  <input name="password" value="{PASSWORD}">
  <input name="next" value="/student">
</form>
<script>document.getElementById("f").submit();</script>
</body></html>"""

    def serve_forged_page(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html", body=forged)

    context = new_context(viewport=PHONE)
    context.route(f"{EVIL}/**", serve_forged_page)
    page = context.new_page()
    with page.expect_response(lambda r: r.request.method == "POST") as answered:
        page.goto(f"{EVIL}/free-lunch.html")
    assert answered.value.status == 403
    expect(page.get_by_role("alert")).to_contain_text(
        "This form was sent from another site's page, so it was refused."
    )
    assert not [c for c in context.cookies() if c["name"] == "attn_session"]

    # the victim then scans the room's QR code: ATTN asks them to sign in as themselves
    page.goto("/student")
    expect(page).to_have_url(attn_server.url("/login?next=%2Fstudent"))
    sign_in(page, VICTIM)
    expect(page).to_have_url(attn_server.url("/student"))
    expect(page.get_by_role("button", name=re.compile(VICTIM.name))).to_be_visible()
