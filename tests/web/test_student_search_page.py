"""The /student page without a browser: the looser search's refusals and its bound, and the
room field of the start form."""

from __future__ import annotations

from datetime import timedelta

import pytest

from attn.services.student_service import SEARCH_RESULTS
from tests.support.api import Api
from tests.support.lessons import make_lesson
from tests.support.sign_in_form import csrf_of, page_browser, sign_in


@pytest.mark.parametrize("typed", ["—?!", "fi\x00z", "fiz\u202e"])
async def test_a_search_without_a_word_or_with_a_control_character_says_so(
    api: Api, typed: str
) -> None:
    student = await api.add_user("student")
    async with page_browser(api.app) as phone:
        await sign_in(phone, student.school_number)
        page = await phone.get("/student", params={"lesson_name": typed})
        assert page.status_code == 422
        assert "Type letters or digits of the lesson&#39;s name." in page.text
        turkish = await phone.get("/student", params={"lesson_name": typed, "lang": "tr"})
        assert "Ders adının harflerini ya da rakamlarını yazın." in turkish.text


async def test_past_the_bound_the_page_asks_to_refine(api: Api) -> None:
    ctx = api.context
    now = ctx.now()
    for n in range(SEARCH_RESULTS + 1):
        lesson = make_lesson(f"Seminer {n}", f"Hoca {n}")
        await ctx.redis_client.save_lesson(
            lesson.model_copy(update={"start_time": now, "end_time": now + timedelta(hours=1)})
        )
    student = await api.add_user("student")
    async with page_browser(api.app) as phone:
        await sign_in(phone, student.school_number)
        page = await phone.get("/student", params={"lesson_name": "semi"})
        assert page.status_code == 200
        assert page.text.count('class="card found-lesson"') == SEARCH_RESULTS
        assert "More lessons may match than are shown" in page.text
        narrow = await phone.get(
            "/student", params={"lesson_name": "semi", "teacher_name": "hoca 7"}
        )
        assert narrow.text.count('class="card found-lesson"') == 1
        assert "More lessons may match" not in narrow.text


async def test_the_start_form_keeps_the_room(api: Api) -> None:
    teacher = await api.add_user("teacher")
    async with page_browser(api.app) as laptop:
        await sign_in(laptop, teacher.school_number)
        dashboard = await laptop.get("/teacher")
        form = {"csrf": csrf_of(dashboard), "lesson_name": "Fizik 101", "duration_minutes": "60"}
        refused = await laptop.post("/teacher/start", data={**form, "room": "r" * 101})
        assert refused.status_code == 422
        assert 'value="' + "r" * 101 + '"' in refused.text  # what was typed stays in the form
        started = await laptop.post("/teacher/start", data={**form, "room": "  B-204  "})
        assert started.status_code == 303, started.text
        lesson_id = started.headers["location"].rsplit("/", 1)[1]
        roll = await laptop.get(f"/teacher/lessons/{lesson_id}")
        assert "Room B-204 · Started" in roll.text  # the lesson page names its room
    lesson = await api.context.redis_client.get_lesson(lesson_id)
    assert lesson is not None and lesson.room == "B-204"
    student = await api.add_user("student")
    async with page_browser(api.app) as phone:
        await sign_in(phone, student.school_number)
        join = await phone.get(f"/join/{lesson_id}")
        assert '<span class="nowrap">Room B-204</span>' in join.text  # and so does the join page
