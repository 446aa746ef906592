"""The roll page's actions without a browser: accept keeps late, the row's menu sets a status
(absent among them), "add a student" takes a name, finishing asks first, and the change list
and the not-yet list are fragments the live page re-fetches, in English and Turkish."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from attn.models import AttendanceRecordRedis, LessonStatus, NewAccount, RecordStatus
from attn.web import teacher as teacher_pages
from tests.support.api import Api, Headers
from tests.support.clock import Clock
from tests.support.corrections import join, start
from tests.support.sign_in_form import csrf_of, page_browser, sign_in


@dataclass
class Scene:
    api: Api
    browser: httpx.AsyncClient
    teacher_headers: Headers
    lesson_id: str
    students: list[tuple[NewAccount, Headers]]

    @property
    def url(self) -> str:
        return f"/teacher/lessons/{self.lesson_id}"

    async def records(self) -> dict[str, AttendanceRecordRedis]:
        """The live roll as stored (the page's sign-in ended the API session)."""
        stored = await self.api.context.redis_client.get_attendance_records(self.lesson_id)
        return {record.student_number: record for record in stored}

    async def active(self) -> bool:
        lesson = await self.api.context.redis_client.get_lesson(self.lesson_id)
        return lesson is not None and lesson.status is LessonStatus.ACTIVE


@pytest.fixture
async def scene(api: Api, clock: Clock) -> AsyncIterator[Scene]:
    """Fizik 101 with a roster of four, late after 5 minutes; Elif joined on time and Can
    ten minutes late; the teacher's page browser signed in."""
    teacher, teacher_headers = await api.user_headers("teacher")
    elif_ = await api.user_headers("student", full_name="Elif Kaya")
    can = await api.user_headers("student", full_name="Can Öztürk")
    roster = (
        "school_number,full_name\n"
        f"{elif_[0].school_number},Elif Kaya\n{can[0].school_number},Can Öztürk\n"
        "R9,Şule Ağır\nR8,Ali Veli\n"
    )
    put = await api.client.put(
        "/teacher/rosters/Fizik 101",
        content=roster.encode(),
        headers={**teacher_headers, "Content-Type": "text/csv"},
    )
    assert put.status_code == 200, put.text
    lesson = await start(api, teacher_headers, "Fizik 101", late_after_minutes=5)
    assert (await join(api, elif_[1], lesson["lesson_id"])).json()["status"] == "present"
    clock.advance(minutes=10)
    assert (await join(api, can[1], lesson["lesson_id"])).json()["status"] == "late"
    async with page_browser(api.app) as browser:
        assert (await sign_in(browser, teacher.school_number)).status_code == 303
        yield Scene(api, browser, teacher_headers, lesson["lesson_id"], [elif_, can])


async def test_accept_keeps_late_and_the_menu_marks_absent(scene: Scene) -> None:
    page = await scene.browser.get(scene.url)
    assert page.status_code == 200
    csrf = csrf_of(page)
    elif_, can = (user.school_number for user, _ in scene.students)
    row = re.search(rf'<tr data-student="{can}">.*?</tr>', page.text, re.S)
    assert row and 'value="accept"' in row.group(0)  # offered on a late record
    row = re.search(rf'<tr data-student="{elif_}">.*?</tr>', page.text, re.S)
    assert row and 'value="accept"' not in row.group(0)  # a present one has nothing to accept

    accepted = await scene.browser.post(
        f"{scene.url}/records/{can}", data={"csrf": csrf, "status": "accept"}
    )
    assert accepted.status_code == 303
    records = await scene.records()
    assert records[can].status is RecordStatus.LATE and records[can].changed_by is not None

    absent = await scene.browser.post(
        f"{scene.url}/records/{elif_}",
        data={"csrf": csrf, "status": "apply", "choice": "absent", "reason": ""},
    )
    assert absent.status_code == 303
    records = await scene.records()
    assert records[elif_].status is RecordStatus.ABSENT
    refused = await scene.browser.post(
        f"{scene.url}/records/{elif_}",
        data={"csrf": csrf, "status": "apply", "choice": "pending"},
    )
    assert refused.status_code == 422 and 'role="alert"' in refused.text


async def test_a_student_is_added_by_name_and_named_in_the_confirmation(scene: Scene) -> None:
    page = await scene.browser.get(scene.url)
    assert '<option value="Şule Ağır (R9)">' in page.text  # the roster's suggestions
    added = await scene.browser.post(
        f"{scene.url}/add", data={"csrf": csrf_of(page), "student_number": "sule agir"}
    )
    assert added.status_code == 303
    assert added.headers["location"] == f"{scene.url}?added=R9#roll"
    confirmed = await scene.browser.get(f"{scene.url}?added=R9")
    assert "Added Şule Ağır (R9): present." in confirmed.text
    records = await scene.records()
    assert records["R9"].student_full_name == "Şule Ağır"
    unknown = await scene.browser.post(
        f"{scene.url}/add", data={"csrf": csrf_of(page), "student_number": "Nobody Here"}
    )
    assert unknown.status_code == 422 and 'value="Nobody Here"' in unknown.text


async def test_finishing_asks_first_with_the_counts(scene: Scene) -> None:
    page = await scene.browser.get(scene.url)
    assert f'<form method="get" action="{scene.url}/finish">' in page.text
    question = await scene.browser.get(f"{scene.url}/finish")
    assert question.status_code == 200
    assert "Finish Fizik 101 now?" in question.text
    assert "2 attended, 2 not yet." in question.text
    assert f'href="{scene.url}"' in question.text  # cancel
    assert await scene.active()  # asking finished nothing
    done = await scene.browser.post(f"{scene.url}/finish", data={"csrf": csrf_of(question)})
    assert done.status_code == 303
    assert not await scene.active()


async def test_the_fragments_list_who_is_missing_and_every_change_translated(
    scene: Scene,
) -> None:
    elif_, can = (user.school_number for user, _ in scene.students)
    roll = await scene.browser.get(f"{scene.url}/roll")
    assert roll.status_code == 200
    assert "Not yet: 2" in roll.text
    names = re.search(r'<ul class="names">(.*?)</ul>', roll.text, re.S)
    assert names and "Ali Veli" in names.group(1) and "Şule Ağır" in names.group(1)
    assert "Elif Kaya" not in names.group(1)

    page = await scene.browser.get(scene.url)
    await scene.browser.post(
        f"{scene.url}/records/{can}",
        data={"csrf": csrf_of(page), "status": "rejected", "reason": "left early"},
    )
    changes = await scene.browser.get(f"{scene.url}/changes")
    assert changes.status_code == 200
    lines = re.findall(r"<li>(.*?)</li>", changes.text, re.S)
    assert len(lines) == 3
    assert "Can Öztürk" in lines[0] and "late → rejected" in lines[0] and "(teacher" in lines[0]
    assert "Can Öztürk" in lines[1] and "— → late (student)" in lines[1]
    assert "Elif Kaya" in lines[2] and "— → present (student)" in lines[2]

    turkish = await scene.browser.get(f"{scene.url}/changes?lang=tr")
    lines = re.findall(r"<li>(.*?)</li>", turkish.text, re.S)
    assert "geç → reddedildi (öğretmen" in lines[0]
    assert "— → var (öğrenci)" in lines[2]
    roll = await scene.browser.get(f"{scene.url}/roll?lang=tr")
    assert "Henüz katılmayan: 2" in roll.text
    assert f"{elif_}" in roll.text


async def test_a_long_change_list_shows_its_latest_and_all_on_request(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(teacher_pages, "CHANGES_SHOWN", 1)
    changes = await scene.browser.get(f"{scene.url}/changes")
    assert len(re.findall(r"<li>", changes.text)) == 1
    assert "Can Öztürk" in changes.text  # the newest
    assert "The latest 1 of 2 changes." in changes.text
    assert f'href="{scene.url}?changes=all#audit-h"' in changes.text
    page = await scene.browser.get(f"{scene.url}?changes=all")
    listed = re.search(r'<div id="changes-body" data-all="yes">(.*?)</div>', page.text, re.S)
    assert listed and len(re.findall(r"<li>", listed.group(1))) == 2
    every = await scene.browser.get(f"{scene.url}/changes?changes=all")
    assert len(re.findall(r"<li>", every.text)) == 2 and "The latest" not in every.text
