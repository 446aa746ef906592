"""Projector and live roll after the session ends: what their scripts fetch (the projector's
state, the roll, its event stream, the QR image) is answered 401 in the contract's JSON when
the teacher's session has ended, while a browser's navigation is still sent to sign in; and
both pages carry the "Signed out — sign in again" notice their scripts show."""

from __future__ import annotations

import httpx

from tests.support.api import Api
from tests.support.sign_in_form import page_browser, sign_in

FETCH = {"Accept": "*/*"}
NAVIGATION = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def script_resources(lesson_id: str) -> list[tuple[str, dict[str, str]]]:
    base = f"/teacher/lessons/{lesson_id}"
    return [
        (f"{base}/projector.json", {"Accept": "application/json"}),
        (f"{base}/projector.json", FETCH),
        (f"{base}/roll", FETCH),
        (f"{base}/live", {"Accept": "text/event-stream"}),
        (f"{base}/qr.svg", {"Accept": "image/avif,image/webp,image/svg+xml,image/*,*/*;q=0.8"}),
    ]


async def start_code_lesson(api: Api, headers: dict[str, str]) -> str:
    response = await api.client.post(
        "/teacher/lessons",
        json={"lesson_name": "Physics 101", "duration_minutes": 60, "security": ["code"]},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    lesson_id: str = response.json()["lesson_id"]
    return lesson_id


def assert_signed_out_json(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]["code"] == code
    assert set(response.json()["error"]) >= {"code", "message"}


async def test_projector_and_live_roll_after_the_session_ends_answer_a_fetch_401_json(
    api: Api,
) -> None:
    teacher = await api.add_user("teacher")
    lesson_id = await start_code_lesson(api, await api.login(teacher))
    async with page_browser(api.app) as browser:
        assert (await sign_in(browser, teacher.school_number)).status_code == 303
        projector = await browser.get(f"/teacher/lessons/{lesson_id}/projector")
        assert projector.status_code == 200
        state = await browser.get(f"/teacher/lessons/{lesson_id}/projector.json", headers=FETCH)
        assert state.status_code == 200 and state.json()["code"]
        roll = await browser.get(f"/teacher/lessons/{lesson_id}/roll", headers=FETCH)
        assert roll.status_code == 200 and 'class="counts"' in roll.text

        await api.login(teacher)  # a sign-in elsewhere replaces the page's session
        for path, headers in script_resources(lesson_id):
            assert_signed_out_json(
                await browser.get(path, headers=headers), 401, "not_authenticated"
            )
        # a browser's navigation to the same addresses still goes to sign in
        for path in (
            f"/teacher/lessons/{lesson_id}/projector.json",
            f"/teacher/lessons/{lesson_id}/roll",
        ):
            navigated = await browser.get(path, headers=NAVIGATION)
            assert navigated.status_code == 303
            assert navigated.headers["location"].startswith("/login?next=")
            assert "expired=1" in navigated.headers["location"]

        # signed out on purpose (no session cookie at all): the same
        browser.cookies.clear()
        for path, headers in script_resources(lesson_id):
            assert_signed_out_json(
                await browser.get(path, headers=headers), 401, "not_authenticated"
            )


async def test_projector_and_live_roll_after_the_session_ends_another_role_gets_403_json(
    api: Api,
) -> None:
    teacher = await api.add_user("teacher")
    student = await api.add_user("student")
    lesson_id = await start_code_lesson(api, await api.login(teacher))
    async with page_browser(api.app) as browser:
        await sign_in(browser, student.school_number)
        for path, headers in script_resources(lesson_id):
            assert_signed_out_json(await browser.get(path, headers=headers), 403, "forbidden")
        navigated = await browser.get(f"/teacher/lessons/{lesson_id}/roll", headers=NAVIGATION)
        assert (navigated.status_code, navigated.headers["location"]) == (303, "/")


async def test_projector_and_live_roll_after_the_session_ends_pages_carry_the_notice(
    api: Api,
) -> None:
    teacher = await api.add_user("teacher")
    lesson_id = await start_code_lesson(api, await api.login(teacher))
    async with page_browser(api.app) as browser:
        await sign_in(browser, teacher.school_number)
        for page in (f"/teacher/lessons/{lesson_id}/projector", f"/teacher/lessons/{lesson_id}"):
            english = await browser.get(page, params={"lang": "en"})
            sign_in_again = "/login?next=" + page.replace("/", "%2F")
            assert (
                '<p id="signed-out" class="error signed-out" role="alert" hidden>Signed out — '
                f'<a href="{sign_in_again}">sign in again</a></p>'
            ) in english.text, page
            turkish = await browser.get(page, params={"lang": "tr"})
            assert (
                f'Oturum kapandı — <a href="{sign_in_again}">yeniden giriş yapın</a>'
            ) in turkish.text, page
