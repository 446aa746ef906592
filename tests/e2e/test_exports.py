"""Exports in a real browser: the export and course links work for a lesson whose name has a
slash."""

from __future__ import annotations

import io

import openpyxl
from playwright.sync_api import expect

from tests.support.browser import Server
from tests.support.pages import (
    DESKTOP,
    EXPORT_TEACHER,
    ROLL_HEADER,
    NewContext,
    sign_in,
    start_lesson,
)


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
