"""The key steps with the keyboard alone, and a focus ring that can be seen: the teacher starts
a lesson from the dashboard's form at a laptop, the student signs in and checks in on a phone,
the teacher rejects the student from the live roll with a reason (both kept while another
check-in updates it), and the projector view at 1280x720 shows where the focus is. Every control is
reached with Tab and used with Enter or Space; no click."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.support.api import PASSWORD
from tests.support.axe import contrast, focus_ring
from tests.support.browser import Server, add_people
from tests.support.page_tour import (
    KEYBOARD_LATECOMER,
    KEYBOARD_STUDENT,
    KEYBOARD_TEACHER,
    LAPTOP,
    PHONE,
    PROJECTOR,
    TOUR_SHOTS,
)
from tests.support.pages import (
    LESSON_URL,
    LIVE_WAIT,
    WATCH_STREAM,
    Lesson,
    NewContext,
    check_in,
    sign_in,
)

REASON = "Seen in the corridor"
MAX_TABS = 40  # more than any page here has controls before the one looked for
MIN_RING = 2  # px: the thinnest outline that counts as a visible focus ring
RING_CONTRAST = 3.0  # WCAG 2.1 1.4.11: a focus ring against what it is drawn on


def ring_problem(where: str, ring: dict[str, Any]) -> str | None:
    """Why the focus ring of the focused element cannot be seen, or None when it can."""
    if ring["outlineStyle"] == "none" or ring["outlineWidth"] < MIN_RING:
        return f"{where}: no visible focus ring on {ring}"
    ratio = contrast(ring["outlineColor"], ring["behind"])
    if ratio < RING_CONTRAST:
        return f"{where}: focus ring contrast {ratio:.2f} < {RING_CONTRAST} on {ring}"
    return None


@pytest.fixture(scope="module")
def keyboard_people(attn_server: Server, tmp_path_factory: pytest.TempPathFactory) -> None:
    add_people(
        attn_server,
        [KEYBOARD_TEACHER, KEYBOARD_STUDENT, KEYBOARD_LATECOMER],
        tmp_path_factory.mktemp("keys"),
    )


class Keyboard:
    """Tabbing through a page; each focus stop is checked for a visible focus ring."""

    def __init__(self, page: Page, where: str) -> None:
        self.page = page
        self.where = where
        self.unseen: list[str] = []

    def tab_to(self, selector: str) -> None:
        """Press Tab until the element `selector` has the focus (fail if it is never reached)."""
        target = self.page.locator(selector)
        expect(target).to_have_count(1)
        for _ in range(MAX_TABS):
            self.page.keyboard.press("Tab")
            ring = focus_ring(self.page)
            if ring is not None:
                problem = ring_problem(self.where, ring)
                if not ring["focusVisible"]:
                    problem = f"{self.where}: Tab's focus is not :focus-visible on {ring}"
                if problem is not None:
                    self.unseen.append(problem)
            if target.evaluate("el => el === document.activeElement"):
                return
        raise AssertionError(f"{self.where}: {selector} not reached in {MAX_TABS} tabs")

    def type_into(self, selector: str, text: str) -> None:
        self.tab_to(selector)
        self.page.keyboard.type(text)


def test_the_key_steps_work_with_the_keyboard_alone_and_focus_is_visible(
    attn_server: Server, new_context: NewContext, keyboard_people: None
) -> None:
    unseen: list[str] = []

    # The teacher signs in and starts a lesson with a rotating code, at a laptop.
    teacher_context = new_context(viewport=LAPTOP)
    teacher_context.add_init_script(WATCH_STREAM)
    teacher = teacher_context.new_page()
    teacher.goto("/login")
    keys = Keyboard(teacher, "teacher sign-in")
    keys.type_into("#school_number", KEYBOARD_TEACHER.number)
    keys.type_into("#password", PASSWORD)
    keys.tab_to("main form button[type=submit]")
    teacher.keyboard.press("Enter")
    expect(teacher).to_have_url(attn_server.url("/teacher"))
    unseen += keys.unseen

    keys = Keyboard(teacher, "dashboard")
    keys.type_into("#lesson_name", "Keyboard 1")
    keys.tab_to("input[name=opt_code]")
    teacher.keyboard.press("Space")
    expect(teacher.locator("input[name=opt_code]")).to_be_checked()
    keys.tab_to("main form button[type=submit]")
    teacher.keyboard.press("Enter")
    expect(teacher).to_have_url(LESSON_URL)
    found = LESSON_URL.search(teacher.url)
    assert found is not None
    lesson = Lesson(found.group(1), teacher.context)
    unseen += keys.unseen

    # The student signs in and checks in on a phone: search, the lesson's link, the code.
    student = new_context(viewport=PHONE).new_page()
    student.goto("/login?next=%2Fstudent")
    keys = Keyboard(student, "student sign-in")
    keys.type_into("#school_number", KEYBOARD_STUDENT.number)
    keys.type_into("#password", PASSWORD)
    student.keyboard.press("Enter")
    expect(student).to_have_url(attn_server.url("/student"))
    unseen += keys.unseen

    keys = Keyboard(student, "check-in")
    keys.type_into("#lesson_name", "Keyboard 1")
    keys.type_into("#teacher_name", KEYBOARD_TEACHER.name)
    keys.tab_to("main form button[type=submit]")
    student.keyboard.press("Enter")
    expect(student.locator("main .card h2")).to_have_text("Keyboard 1")
    keys.tab_to("main .card a.button")
    student.keyboard.press("Enter")
    expect(student).to_have_url(attn_server.url(f"/join/{lesson.lesson_id}"))
    keys.type_into("#code", lesson.code())
    keys.tab_to("main form.card button[type=submit]")
    student.keyboard.press("Enter")
    expect(student.locator(".result")).to_contain_text("You are checked in: present.")
    unseen += keys.unseen

    # The teacher rejects the student from the live roll with a reason; a check-in arriving
    # meanwhile (the roll is swapped in anew) keeps both the typed reason and the focus.
    teacher.goto(f"/teacher/lessons/{lesson.lesson_id}")
    teacher.wait_for_function("() => window.__attnStream && window.__attnStream.ready > 0")
    row = f'[data-student="{KEYBOARD_STUDENT.number}"]'
    reject = f"{row} button[value=rejected]"
    expect(teacher.locator(row)).to_be_visible()
    keys = Keyboard(teacher, "roll")
    keys.type_into(f"#reason-{KEYBOARD_STUDENT.number}", REASON)
    keys.tab_to(reject)
    latecomer = new_context(viewport=PHONE).new_page()
    latecomer.goto(f"/join/{lesson.lesson_id}")
    sign_in(latecomer, KEYBOARD_LATECOMER)
    check_in(latecomer, lesson.code())
    expect(teacher.locator(f'[data-student="{KEYBOARD_LATECOMER.number}"]')).to_be_visible(
        timeout=LIVE_WAIT
    )
    assert teacher.locator(reject).evaluate("el => el === document.activeElement"), (
        f"the roll's update moved the focus to {focus_ring(teacher)}"
    )
    expect(teacher.locator(f"#reason-{KEYBOARD_STUDENT.number}")).to_have_value(REASON)
    teacher.keyboard.press("Enter")
    expect(teacher).to_have_url(re.compile(rf"/teacher/lessons/{lesson.lesson_id}"))
    expect(teacher.locator(row)).to_contain_text("rejected")
    expect(teacher.locator(row)).to_contain_text(REASON)
    unseen += keys.unseen

    # The projector at 1280x720, and a phone: every focus stop shows its ring.
    projector = teacher.context.new_page()
    projector.set_viewport_size(PROJECTOR)
    projector.goto(f"/teacher/lessons/{lesson.lesson_id}/projector")
    expect(projector.locator("#code")).to_have_text(re.compile(r"^\d{6}$"))
    for page, where in ((projector, "projector 1280x720"), (student, "phone 360x740")):
        stops = 0
        for _ in range(6):
            page.keyboard.press("Tab")
            ring = focus_ring(page)
            if ring is None:
                continue
            stops += 1
            problem = ring_problem(where, ring)
            if problem is not None:
                unseen.append(problem)
        assert stops > 0, f"{where}: Tab reached no control"
        TOUR_SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=TOUR_SHOTS / f"focus-{where.replace(' ', '-')}.png")
    assert not unseen, "\n".join(unseen)
