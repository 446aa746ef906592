"""The pages without a browser: sign-in, CSRF, forms that keep their input, languages,
check-in through the forms, exports."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator

import httpx
import openpyxl
import pytest

from attn.tasks.sweep import sweep_attendances
from tests.support.api import PASSWORD, Api
from tests.support.sign_in_form import sign_in_token_of


@pytest.fixture
async def browser(api: Api) -> AsyncIterator[httpx.AsyncClient]:
    """A cookie-keeping client on the pages (not under /api/v1)."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app),
        base_url="http://testserver",
        headers={"Accept": "text/html"},
    ) as client:
        yield client


async def sign_in(client: httpx.AsyncClient, number: str, target: str = "/") -> httpx.Response:
    token = sign_in_token_of(await client.get("/login"))  # the form's CSRF token
    return await client.post(
        "/login",
        data={
            "sign_in_token": token,
            "school_number": number,
            "password": PASSWORD,
            "next": target,
        },
    )


def csrf_of(page: httpx.Response) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


async def test_pages_need_a_session_and_come_back_after_sign_in(
    api: Api, browser: httpx.AsyncClient
) -> None:
    teacher = await api.add_user("teacher")
    page = await browser.get("/teacher")
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fteacher"
    signed = await sign_in(browser, teacher.school_number, "/teacher")
    assert signed.status_code == 303
    assert signed.headers["location"] == "/teacher"
    cookie = signed.headers["set-cookie"]
    assert "attn_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    dashboard = await browser.get("/teacher")
    assert dashboard.status_code == 200
    assert "<h1>Dashboard</h1>" in dashboard.text
    # a student is sent to their own page
    student = await api.add_user("student")
    other = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app), base_url="http://testserver"
    )
    async with other:
        await sign_in(other, student.school_number)
        assert (await other.get("/teacher")).headers["location"] == "/"
        assert (await other.get("/")).headers["location"] == "/student"


async def test_a_wrong_password_keeps_the_school_number_and_says_why(
    api: Api, browser: httpx.AsyncClient
) -> None:
    teacher = await api.add_user("teacher")
    page = await browser.post(
        "/login",
        data={
            "sign_in_token": sign_in_token_of(await browser.get("/login")),
            "school_number": teacher.school_number,
            "password": "wrong",
            "next": "/",
        },
    )
    assert page.status_code == 401
    assert f'value="{teacher.school_number}"' in page.text
    assert "The school number or password is wrong." in page.text


async def test_an_ended_session_goes_back_to_sign_in_with_a_message(
    api: Api, browser: httpx.AsyncClient
) -> None:
    teacher = await api.add_user("teacher")
    await sign_in(browser, teacher.school_number)
    await api.login(teacher)  # a login elsewhere replaces the page's session
    page = await browser.get("/teacher")
    assert page.status_code == 303
    assert "expired=1" in page.headers["location"]
    login = await browser.get(page.headers["location"])
    assert "Your session has ended" in login.text


async def test_forms_without_the_csrf_token_are_refused(
    api: Api, browser: httpx.AsyncClient
) -> None:
    teacher = await api.add_user("teacher")
    await sign_in(browser, teacher.school_number)
    forged = await browser.post(
        "/teacher/start", data={"lesson_name": "Forged", "duration_minutes": "10"}
    )
    assert forged.status_code == 303
    assert forged.headers["location"].startswith("/login")
    assert (await api.client.get("/teacher/lessons", headers=await api.login(teacher))).json() == []


async def test_a_bad_start_form_keeps_its_input_and_shows_the_error(
    api: Api, browser: httpx.AsyncClient
) -> None:
    teacher = await api.add_user("teacher")
    await sign_in(browser, teacher.school_number)
    csrf = csrf_of(await browser.get("/teacher"))
    page = await browser.post(
        "/teacher/start",
        data={
            "csrf": csrf,
            "lesson_name": "Chemistry",
            "duration_minutes": "9999",
            "opt_code": "1",
        },
    )
    assert page.status_code == 422
    assert 'value="Chemistry"' in page.text
    assert 'value="9999"' in page.text
    assert 'name="opt_code" value="1" checked' in page.text
    assert 'role="alert"' in page.text


async def test_languages_follow_the_browser_and_the_switch(
    api: Api, browser: httpx.AsyncClient
) -> None:
    english = await browser.get("/login")
    assert '<html lang="en">' in english.text
    turkish = await browser.get("/login", headers={"Accept-Language": "tr-TR,tr;q=0.9"})
    assert '<html lang="tr">' in turkish.text and "Giriş yap" in turkish.text
    switched = await browser.get("/login?lang=tr")
    assert "attn_lang=tr" in switched.headers["set-cookie"]
    assert "Giriş yap" in (await browser.get("/login")).text  # the cookie keeps it


async def test_a_lesson_from_start_to_exports_through_the_pages(
    api: Api, browser: httpx.AsyncClient
) -> None:
    teacher = await api.add_user("teacher", full_name="Ayşe Yılmaz")
    students = [await api.add_user("student") for _ in range(2)]
    await sign_in(browser, teacher.school_number)
    csrf = csrf_of(await browser.get("/teacher"))
    started = await browser.post(
        "/teacher/start",
        data={
            "csrf": csrf,
            "lesson_name": "Physics 101",
            "duration_minutes": "30",
            "opt_code": "1",
        },
    )
    assert started.status_code == 303
    lesson_url = started.headers["location"]
    lesson_id = lesson_url.rsplit("/", 1)[1]
    state = (await browser.get(f"{lesson_url}/projector.json")).json()
    assert re.fullmatch(r"\d{6}", state["code"]) and state["count"] == 0
    qr = await browser.get(f"{lesson_url}/qr.svg")
    assert qr.headers["content-type"] == "image/svg+xml" and qr.text.startswith("<svg")

    for student, code in zip(students, [state["code"], "000000"], strict=True):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=api.app), base_url="http://testserver"
        ) as phone:
            await sign_in(phone, student.school_number)
            found = await phone.get(
                "/student", params={"lesson_name": "physics 101", "teacher_name": "AYŞE YILMAZ"}
            )
            assert f"/join/{lesson_id}" in found.text
            join_page = await phone.get(f"/join/{lesson_id}?code={code}")
            assert f'value="{code}"' in join_page.text
            assert len(phone.cookies.get("attn_device") or "") >= 16  # the phone's device id
            result = await phone.post(
                f"/student/lessons/{lesson_id}/join",
                data={"csrf": csrf_of(join_page), "code": code},
            )
            if code == "000000":
                assert result.status_code == 403
                assert "The check-in code is wrong" in result.text
                assert 'value="000000"' in result.text  # the form keeps what was typed
            else:
                assert result.status_code == 200
                assert "You are checked in: present." in result.text

    roll = await browser.get(f"{lesson_url}/roll")
    assert students[0].school_number in roll.text and students[1].school_number not in roll.text
    rejected = await browser.post(
        f"{lesson_url}/records/{students[0].school_number}",
        data={"csrf": csrf, "status": "rejected", "reason": "left early"},
    )
    assert rejected.status_code == 303
    no_reason = await browser.post(
        f"{lesson_url}/records/{students[0].school_number}",
        data={"csrf": csrf, "status": "rejected", "reason": ""},
    )
    assert no_reason.status_code == 422 and "A rejection needs a reason." in no_reason.text
    added = await browser.post(
        f"{lesson_url}/add", data={"csrf": csrf, "student_number": students[1].school_number}
    )
    assert added.status_code == 303
    assert (await browser.post(f"{lesson_url}/finish", data={"csrf": csrf})).status_code == 303
    await sweep_attendances(api.context)

    history = await browser.get("/teacher/history")
    assert "Physics 101" in history.text and lesson_id in history.text
    page = await browser.get(lesson_url)
    assert "left early" in page.text and "finished" in page.text
    exported = await browser.get(f"{lesson_url}/export.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = {row[0]: row for row in csv.reader(io.StringIO(exported.content.decode("utf-8-sig")))}
    assert rows[students[0].school_number][2:5:2] == ["rejected", "left early"]
    assert rows[students[1].school_number][2] == "present"
    workbook = openpyxl.load_workbook(
        io.BytesIO((await browser.get(f"{lesson_url}/export.xlsx")).content)
    )
    sheet_rows = {row[0]: row for row in workbook.active.iter_rows(values_only=True)}
    assert sheet_rows[students[0].school_number][2] == "rejected"
    course = await browser.get("/teacher/course", params={"name": "physics  101"})
    assert students[0].full_name in course.text and "100%" in course.text
    course_csv = await browser.get("/teacher/course/export.csv", params={"name": "Physics 101"})
    assert "attendance_percent" in course_csv.content.decode("utf-8-sig")

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app), base_url="http://testserver"
    ) as phone:
        await sign_in(phone, students[1].school_number)
        mine = await phone.get("/student/history")
        assert "Physics 101" in mine.text and "100% <small>of 1 lesson</small>" in mine.text


async def test_unknown_lesson_pages_are_html_404(api: Api, browser: httpx.AsyncClient) -> None:
    teacher = await api.add_user("teacher")
    await sign_in(browser, teacher.school_number)
    page = await browser.get("/teacher/lessons/" + "0" * 32)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "No such lesson." in page.text
