"""The LTI pages in Chromium, as the people who use them see them, in English and Turkish: a
teacher's linked course after a launch from a real LTI 1.3 platform (before and during its
lesson), the one-time "open in a tab of its own" page, a student's "no lesson is open now",
the launch a browser kept no cookie for, a failed launch, the administrators' platforms page
(a registration URL, a platform added by hand) and the Dynamic Registration's finish page.

The browser itself goes through each launch: ATTN's login initiation, the platform's
authorization form (sent as the platform's page would send it), ATTN's launch and its way in.
Each page passes axe-core, fits a 360 px phone without sideways scrolling, and is saved at
360x740 and 1280x800 under /tmp/shots-lti/ (or ATTN_LTI_SHOTS).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.support.axe import accessibility_problems, contrast, overflow_problem
from tests.support.browser import Server, add_people
from tests.support.lti_platform import INSTRUCTOR, LEARNER, LtiTestPlatform, Member, running
from tests.support.pages import DESKTOP, PHONE, NewContext, Person, sign_in
from tests.support.ports import free_ports

SHOTS = Path(os.environ.get("ATTN_LTI_SHOTS", "/tmp/shots-lti"))
SIZES = [PHONE, DESKTOP]
# each element's text colour and the first background behind it (white when none is drawn)
INK_AND_PAPER = """
els => els.map(el => {
  let paper = "rgb(255, 255, 255)";
  for (let up = el; up; up = up.parentElement) {
    const colour = getComputedStyle(up).backgroundColor;
    if (colour !== "transparent" && colour !== "rgba(0, 0, 0, 0)") { paper = colour; break; }
  }
  return [getComputedStyle(el).color, paper];
})
"""


class Cast:
    """The people and the course of one page language."""

    def __init__(self, lang: str, prefix: str, course: str, names: list[str]) -> None:
        self.lang = lang
        self.course = course
        self.context = f"course-{lang}"
        self.teacher = Person(f"{prefix}01", names[0], "teacher")
        self.student = Person(f"{prefix}02", names[1], "student")
        self.latecomer = Person(f"{prefix}03", names[2], "student")
        self.admin = Person(f"{prefix}04", names[3], "admin")
        self.classmates = [
            Member(f"u-{prefix}{i:02d}", name, f"{prefix}{i:02d}", [LEARNER])
            for i, name in enumerate(names[4:], start=10)
        ]

    def people(self) -> list[Person]:
        return [self.teacher, self.student, self.latecomer, self.admin]

    def members(self) -> list[Member]:
        def member(person: Person, role: str) -> Member:
            return Member(f"u-{person.number}", person.name, person.number, [role])

        return [
            member(self.teacher, INSTRUCTOR),
            member(self.student, LEARNER),
            member(self.latecomer, LEARNER),
            *self.classmates,
            Member(f"u-{self.context}-guest", "Misafir Öğrenci", "", [LEARNER]),
        ]


CASTS = {
    "en": Cast(
        "en",
        "L77",
        "Distributed Systems",
        ["Gülşen Karaağaç", "Oğuzhan Çelik", "Işın Ürün", "Nurten Aksoy", "Emre Şahin", "Ada Lee"],
    ),
    "tr": Cast(
        "tr",
        "L78",
        "Dağıtık Sistemler",
        ["Çağrı Öztürk", "Şule İnce", "Ümit Güler", "Ece Özdağ", "Barış Yıldırım", "Deniz Ak"],
    ),
}


@pytest.fixture(scope="module")
def lti_people(attn_server: Server, tmp_path_factory: pytest.TempPathFactory) -> None:
    people = [person for cast in CASTS.values() for person in cast.people()]
    add_people(attn_server, people, tmp_path_factory.mktemp("lti-people"))


@pytest.fixture
def platform(attn_server: Server) -> Iterator[LtiTestPlatform]:
    """The test platform on a loopback port, registered with the server (and removed after)."""
    with running(free_ports(1)[0]) as server:
        added = attn_server.attn(
            "lti",
            "add-platform",
            "--issuer",
            server.issuer,
            "--client-id",
            server.client_id,
            "--auth-login-url",
            f"{server.url}/auth",
            "--auth-token-url",
            f"{server.url}/token",
            "--keyset-url",
            f"{server.url}/jwks",
            "--deployment-id",
            server.deployment_id,
            "--name",
            "Moodle",
        )
        assert added.returncode == 0, added.stderr
        platform_id = added.stdout.split(":")[0].removeprefix("platform ")
        server.tool_jwks = httpx.get(attn_server.url("/lti/jwks")).json()
        try:
            yield server
        finally:
            removed = attn_server.attn("lti", "remove", platform_id)
            assert removed.returncode == 0, removed.stderr


class Checks:
    """axe-core, a phone's width and screenshots of each page at each size."""

    def __init__(self, axe_js: str, lang: str) -> None:
        self.axe_js = axe_js
        self.lang = lang
        self.problems: list[str] = []
        self.shots: list[Path] = []

    def look(self, page: Page, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        for size in SIZES:
            page.set_viewport_size(size)  # type: ignore[arg-type]
            where = f"{name} ({self.lang}) at {size['width']}x{size['height']}"
            if size == PHONE:
                overflow = overflow_problem(page, where)
                if overflow is not None:
                    self.problems.append(overflow)
            self.problems += accessibility_problems(page, f"lti {where}", self.axe_js)
            shot = SHOTS / f"{name}-{self.lang}-{size['width']}x{size['height']}.png"
            page.screenshot(path=shot, full_page=True)
            self.shots.append(shot)
        page.set_viewport_size(PHONE)  # type: ignore[arg-type]


def start_launch(page: Page, server: Server, platform: LtiTestPlatform, member: Member) -> None:
    """The platform starts a launch of `member`: ATTN's login initiation, in the browser, up
    to the platform's authorization form."""
    hint = f"hint-{member.user_id}"
    cast = next(c for c in CASTS.values() if member in c.members())
    platform.pending[hint] = platform.launch_claims(
        sub=member.user_id,
        name=member.name,
        sourcedid=member.sourcedid,
        roles=member.roles,
        context_id=cast.context,
        title=cast.course,
    )
    params = platform.login_params(hint, server.url("/lti/launch"))
    page.goto(f"/lti/login?{urlencode(params)}")
    expect(page.locator("form input[name=id_token]")).to_have_count(1)


def send_platform_form(page: Page) -> None:
    """The platform's page sends its form to ATTN's launch URL (a platform's own script does)."""
    with page.expect_navigation():
        page.evaluate("() => document.forms[0].submit()")


def launch(page: Page, server: Server, platform: LtiTestPlatform, member: Member) -> None:
    start_launch(page, server, platform, member)
    send_platform_form(page)


def member_of(cast: Cast, person: Person) -> Member:
    return next(m for m in cast.members() if m.sourcedid == person.number)


@pytest.mark.parametrize("lang", ["en", "tr"])
def test_the_lti_pages_pass_axe_and_fit_a_phone(
    attn_server: Server,
    new_context: NewContext,
    lti_people: None,
    platform: LtiTestPlatform,
    axe_js: str,
    lang: str,
) -> None:
    cast = CASTS[lang]
    locale = "tr-TR" if lang == "tr" else "en-GB"
    platform.members[cast.context] = cast.members()
    checks = Checks(axe_js, lang)

    # the teacher's launch: the linked course, its roster synced from the platform
    teacher_context = new_context(viewport=PHONE, locale=locale)
    teacher = teacher_context.new_page()
    launch(teacher, attn_server, platform, member_of(cast, cast.teacher))
    expect(teacher).to_have_url(re.compile(r"/lti/course\?name="))
    expect(teacher.locator("h1")).to_have_text(cast.course)
    expect(teacher.locator("main table")).to_contain_text(cast.classmates[0].name)
    checks.look(teacher, "course")
    # every button of the page can be read: its words stand out from what is behind them
    for colours in teacher.locator("main button").evaluate_all(INK_AND_PAPER):
        assert contrast(*colours) >= 4.5, colours

    # a student's launch, after the teacher's, while no lesson of the course is open
    student = new_context(viewport=PHONE, locale=locale).new_page()
    launch(student, attn_server, platform, member_of(cast, cast.student))
    expect(student).to_have_url(re.compile(r"/lti/student\?"))
    expect(student.locator("h1")).to_have_text(cast.course)
    checks.look(student, "student-no-lesson")

    # sync now: the page says what changed
    teacher.locator("form[action^='/lti/course/sync'] button").click()
    expect(teacher).to_have_url(re.compile(r"synced="))
    checks.look(teacher, "course-synced")

    # grades off, and on again
    teacher.locator("form[action^='/lti/course/grades'] button").click()
    expect(teacher.locator("form[action^='/lti/course/grades'] input[name=on]")).to_have_value("1")
    checks.look(teacher, "course-grades-off")
    teacher.locator("form[action^='/lti/course/grades'] button").click()
    expect(teacher.locator("form[action^='/lti/course/grades'] input[name=on]")).to_have_value("0")

    # the course's lesson started from its page; the page then leads to it
    teacher.locator("form[action='/teacher/start'] button[type=submit]").click()
    expect(teacher).to_have_url(re.compile(r"/teacher/lessons/[0-9a-f-]+$"))
    lesson_url = teacher.url
    teacher.goto(f"/lti/course?{urlencode({'name': cast.course})}")
    expect(teacher.locator("main a[href^='/teacher/lessons/']").first).to_be_visible()
    checks.look(teacher, "course-live")

    # the projector in a tab of its own: the one-time link's page
    teacher.locator("form[action='/lti/new-tab'] input[value$='/projector']").locator(
        "xpath=.."
    ).locator("button").click()
    expect(teacher).to_have_url(attn_server.url("/lti/new-tab"))
    link = teacher.locator("main a[href^='/lti/tab?ticket=']")
    expect(link).to_have_attribute("target", "_blank")
    checks.look(teacher, "new-tab-link")
    with teacher_context.expect_page() as opened:
        link.click()
    tab = opened.value
    expect(tab).to_have_url(re.compile(r"/projector$"))
    tab.close()

    # a launch whose state cookie the browser did not keep: a tab of its own is offered
    latecomer_context = new_context(viewport=PHONE, locale=locale)
    latecomer = latecomer_context.new_page()
    start_launch(latecomer, attn_server, platform, member_of(cast, cast.latecomer))
    latecomer_context.clear_cookies()
    send_platform_form(latecomer)
    expect(latecomer.locator("main a[target=_blank][href^='/lti/login?']")).to_be_visible()
    checks.look(latecomer, "launch-without-cookies")

    # a launch that fails (its ticket used or unknown)
    latecomer.goto("/lti/enter?ticket=nope")
    expect(latecomer.locator("[role=alert]")).to_be_visible()
    checks.look(latecomer, "launch-failed")

    # the lesson finished, so the other language's run and the other tests see none open
    teacher.goto(lesson_url)
    teacher.locator("form[method=get][action$='/finish'] button").click()
    teacher.locator("#finish-confirm form[method=post] button[type=submit]").click()
    expect(teacher.locator("#roll-body")).to_have_attribute("data-live", "no")

    # the administrators' platforms page
    admin = new_context(viewport=PHONE, locale=locale).new_page()
    admin.goto(f"/login?lang={lang}")
    sign_in(admin, cast.admin)
    expect(admin).not_to_have_url(re.compile(r"/login"))
    admin.goto("/admin/lti")
    expect(admin.locator("main")).to_contain_text(platform.issuer)
    checks.look(admin, "admin-platforms")

    # a platform added by hand, then removed
    issuer = f"https://canvas-{lang}.example"
    admin.locator("#name").fill("Canvas")
    admin.locator("#issuer").fill(issuer)
    admin.locator("#client_id").fill("10000000000001")
    admin.locator("#auth_login_url").fill(f"{issuer}/api/lti/authorize_redirect")
    admin.locator("#auth_token_url").fill(f"{issuer}/login/oauth2/token")
    admin.locator("#keyset_url").fill(f"{issuer}/api/lti/security/jwks")
    admin.locator("#deployment_ids").fill("1:abc")
    admin.locator("form[action='/admin/lti/platforms'] button[type=submit]").click()
    expect(admin.locator("main")).to_contain_text(issuer)
    checks.look(admin, "admin-platform-added")
    admin.locator(f"main li:has-text('{issuer}') form button").click()
    expect(admin.locator("main")).not_to_contain_text(issuer)

    # a refused platform: the form again, with what was wrong
    admin.locator("#issuer").fill("not a url")
    admin.locator("#client_id").fill("x")
    admin.locator("#auth_login_url").fill("no")
    admin.locator("#auth_token_url").fill("no")
    admin.locator("#keyset_url").fill("no")
    admin.locator("#deployment_ids").fill("1")
    admin.locator("form[action='/admin/lti/platforms'] button[type=submit]").click()
    expect(admin.locator("main [role=alert]")).to_be_visible()
    checks.look(admin, "admin-platform-refused")

    # a Dynamic Registration URL, which the platform then opens
    admin.goto("/admin/lti")
    admin.locator("form[action='/admin/lti/registration-url'] button").click()
    shown = admin.locator("main code", has_text="/lti/register?key=")
    expect(shown).to_be_visible()
    checks.look(admin, "admin-registration-url")
    registration_url = shown.inner_text().strip()
    registration = f"{platform.url}/.well-known/openid-configuration"
    admin.goto(
        registration_url
        + "&"
        + urlencode({"openid_configuration": registration, "registration_token": "reg-token"})
    )
    expect(admin.locator("h1")).to_be_visible()
    assert platform.registrations, "the platform got no registration"
    expect(admin.locator("main p")).to_contain_text("Moodle")  # its product's name, not its code
    checks.look(admin, "registration-finished")

    # the registered platform removed again from the admin page
    admin.goto("/admin/lti")
    admin.locator("main li:has-text('registered-client') form button").click()
    expect(admin.locator("main")).not_to_contain_text("registered-client")

    assert not checks.problems, "\n".join(checks.problems)
