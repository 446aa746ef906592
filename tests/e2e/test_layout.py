"""The pages on a 360 px phone: nothing overflows the page sideways, and every input has a
label."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.support.axe import overflow_problem
from tests.support.browser import Server
from tests.support.pages import LAYOUT_STUDENT, PHONE, Lesson, NewContext, check_in, sign_in

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


def layout_problems(page: Page, name: str) -> list[str]:
    """What is wrong with the page on a 360 px phone: horizontal overflow, unlabelled inputs."""
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    problems: list[str] = []
    overflow = overflow_problem(page, name)
    if overflow is not None:
        problems.append(overflow)
    for html in page.locator("input:not([type=hidden])").evaluate_all(UNLABELLED):
        problems.append(f"{name} ({page.url}): input without a label: {html}")
    if size is not None:
        page.set_viewport_size(size)
    return problems


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
