"""The teacher's live roll in a real browser: a check-in made before its stream connected
still shows up once the stream is there."""

from __future__ import annotations

import re

from playwright.sync_api import Route, expect

from tests.support.browser import Server
from tests.support.pages import (
    LIVE_WAIT,
    PHONE,
    STREAM_STUDENT,
    WATCH_STREAM,
    Lesson,
    NewContext,
    check_in,
    sign_in,
)


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
