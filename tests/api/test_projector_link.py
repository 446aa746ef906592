"""The projector link: `POST/DELETE /teacher/lessons/{id}/projector-link` and what the link
shows (`/projector/<token>`, its JSON state and QR image) without any session: the live view,
"check-in closed" after the end, refused once revoked, expired or forged; and nothing else
(not the roll, the events, the code's API, another lesson)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from attn.services.projector import CLOSED_SHOWN
from attn.store import keys
from attn.tasks.sweep import sweep_attendances
from tests.support.api import Api, Headers
from tests.support.clock import Clock
from tests.support.sign_in_form import csrf_of, page_browser, sign_in
from tests.support.sweep import live_keys

JSON = {"Accept": "application/json"}

NO_COUNTS = dict.fromkeys(
    ("attended", "present", "late", "pending", "excused", "rejected", "absent"), 0
)


async def code_lesson(api: Api, headers: Headers, name: str = "Fizik 101") -> str:
    response = await api.client.post(
        "/teacher/lessons",
        json={"lesson_name": name, "duration_minutes": 60, "security": ["code"]},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    lesson_id: str = response.json()["lesson_id"]
    return lesson_id


async def new_link(api: Api, headers: Headers, lesson_id: str) -> dict[str, Any]:
    response = await api.client.post(
        f"/teacher/lessons/{lesson_id}/projector-link", headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def path_of(url: str) -> str:
    return urlsplit(url).path


def anonymous(api: Api) -> httpx.AsyncClient:
    """A classroom PC: no cookie, no token, only the link."""
    return page_browser(api.app)


async def test_a_projector_link_shows_its_lesson_without_a_session(
    api: Api, teacher: tuple[Any, Headers]
) -> None:
    user, headers = teacher
    lesson_id = await code_lesson(api, headers)
    link = await new_link(api, headers, lesson_id)
    assert set(link) == {"url", "expires_at"}
    assert link["url"].startswith("http://testserver/projector/")
    assert len(path_of(link["url"]).rsplit("/", 1)[1]) >= 70
    lesson = (await api.client.get(f"/teacher/lessons/{lesson_id}", headers=headers)).json()
    assert link["expires_at"] > lesson["end_time"]
    async with anonymous(api) as pc:
        page = await pc.get(path_of(link["url"]))
        assert page.status_code == 200, page.text[:300]
        assert "Fizik 101" in page.text and user.full_name in page.text
        assert 'id="code"' in page.text and "/static/projector.css" in page.text
        assert "Sign out" not in page.text and 'class="bar"' not in page.text
        assert "set-cookie" not in page.headers
        state = (await pc.get(path_of(link["url"]) + "/projector.json", headers=JSON)).json()
        code = (await api.client.get(f"/teacher/lessons/{lesson_id}/code", headers=headers)).json()
        assert state == {
            "count": 0,
            "counts": NO_COUNTS,
            "active": True,
            "code": code["code"],
            "seconds_left": state["seconds_left"],
        }
        qr = await pc.get(path_of(link["url"]) + "/qr.svg")
        assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")


async def test_the_link_grants_nothing_but_its_lessons_projector_view(
    api: Api, teacher: tuple[Any, Headers]
) -> None:
    _, headers = teacher
    lesson_id = await code_lesson(api, headers)
    _, other_headers = await api.user_headers("teacher")
    other_id = await code_lesson(api, other_headers, "Kimya 1")
    token = path_of((await new_link(api, headers, lesson_id))["url"]).rsplit("/", 1)[1]
    as_bearer = {"Authorization": f"Bearer {token}"}
    for path in (
        f"/teacher/lessons/{lesson_id}/records",
        f"/teacher/lessons/{lesson_id}/events",
        f"/teacher/lessons/{lesson_id}/code",
        f"/teacher/lessons/{lesson_id}/audit",
        "/auth/me",
    ):
        refused = await api.client.get(path, headers=as_bearer)
        assert refused.status_code == 401, (path, refused.text)
    async with anonymous(api) as pc:
        # the pages' own roll and live stream want a teacher's session, not the link
        for path in (f"/teacher/lessons/{lesson_id}/roll", f"/teacher/lessons/{lesson_id}/live"):
            assert (await pc.get(path, headers=JSON)).status_code == 401
        # the token with another lesson's id in it, or changed by one letter: not found
        _, generation, mac = token.split(".")
        for forged in (
            f"{other_id}.{generation}.{mac}",
            f"{lesson_id}.{generation}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}",
            f"{lesson_id}.{int(generation) + 1}.{mac}",
            "not-a-token",
            "x" * 300,
        ):
            page = await pc.get(f"/projector/{forged}")
            assert page.status_code == 404, forged
            state = await pc.get(f"/projector/{forged}/projector.json", headers=JSON)
            assert state.status_code == 404
            assert state.json()["error"]["code"] == "projector_link_not_found"
            assert (await pc.get(f"/projector/{forged}/qr.svg", headers=JSON)).status_code == 404


async def test_a_revoked_link_says_so_and_a_new_link_replaces_the_last(
    api: Api, teacher: tuple[Any, Headers]
) -> None:
    _, headers = teacher
    lesson_id = await code_lesson(api, headers)
    first = path_of((await new_link(api, headers, lesson_id))["url"])
    second = path_of((await new_link(api, headers, lesson_id))["url"])
    assert first != second
    async with anonymous(api) as pc:
        page = await pc.get(first)
        assert page.status_code == 410
        assert "This projector link was revoked." in page.text
        state = await pc.get(first + "/projector.json", headers=JSON)
        assert state.status_code == 410
        assert state.json()["error"]["code"] == "projector_link_revoked"
        assert (await pc.get(second)).status_code == 200

        revoked = await api.client.delete(
            f"/teacher/lessons/{lesson_id}/projector-link", headers=headers
        )
        assert revoked.status_code == 204
        assert (await pc.get(second)).status_code == 410
        assert (await pc.get(second + "/qr.svg", headers=JSON)).status_code == 410
        turkish = await pc.get(second, params={"lang": "tr"})
        assert "Bu projeksiyon bağlantısı iptal edildi." in turkish.text

        third = path_of((await new_link(api, headers, lesson_id))["url"])
        assert third not in (first, second)
        assert (await pc.get(third)).status_code == 200
        assert (await pc.get(second)).status_code == 410


async def test_only_the_lessons_teacher_makes_or_revokes_its_link(
    api: Api, teacher: tuple[Any, Headers], student: tuple[Any, Headers]
) -> None:
    _, headers = teacher
    lesson_id = await code_lesson(api, headers)
    _, other = await api.user_headers("teacher")
    url = f"/teacher/lessons/{lesson_id}/projector-link"
    for method in ("POST", "DELETE"):
        assert (await api.client.request(method, url, headers=other)).status_code == 404
        assert (await api.client.request(method, url, headers=student[1])).status_code == 403
        assert (await api.client.request(method, url)).status_code == 401
        bad = await api.client.request(
            method, "/teacher/lessons/nope/projector-link", headers=headers
        )
        assert bad.status_code == 404 and bad.json()["error"]["code"] == "lesson_not_found"


async def test_after_the_end_the_link_says_closed_and_then_refuses(
    api: Api, teacher: tuple[Any, Headers], clock: Clock
) -> None:
    _, headers = teacher
    lesson_id = await code_lesson(api, headers)
    link = path_of((await new_link(api, headers, lesson_id))["url"])
    finished = await api.client.post(f"/teacher/lessons/{lesson_id}/finish", headers=headers)
    assert finished.status_code == 200
    async with anonymous(api) as pc:
        page = await pc.get(link)
        assert page.status_code == 200
        assert "Check-in closed" in page.text and 'id="code"' not in page.text
        assert "is-closed" in page.text
        state = (await pc.get(link + "/projector.json", headers=JSON)).json()
        assert state == {"count": 0, "counts": NO_COUNTS, "active": False}
        assert (await pc.get(link + "/qr.svg", headers=JSON)).status_code == 409
        # an ended lesson gets no new link
        refused = await api.client.post(
            f"/teacher/lessons/{lesson_id}/projector-link", headers=headers
        )
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "lesson_not_active"

        clock.advance(minutes=60, seconds=CLOSED_SHOWN.total_seconds())
        expired = await pc.get(link)
        assert expired.status_code == 410
        assert "This projector link has expired" in expired.text
        state_after = await pc.get(link + "/projector.json", headers=JSON)
        assert state_after.json()["error"]["code"] == "projector_link_expired"


async def test_the_link_goes_with_the_lessons_live_state(
    api: Api, teacher: tuple[Any, Headers], redis: Any
) -> None:
    _, headers = teacher
    lesson_id = await code_lesson(api, headers)
    link = path_of((await new_link(api, headers, lesson_id))["url"])
    assert await redis.exists(keys.lesson_projector(lesson_id))
    await api.client.post(f"/teacher/lessons/{lesson_id}/finish", headers=headers)
    await sweep_attendances(api.context)
    assert await live_keys(redis, lesson_id) == []
    async with anonymous(api) as pc:
        gone = await pc.get(link + "/projector.json", headers=JSON)
        assert gone.status_code == 410
        assert gone.json()["error"]["code"] == "projector_link_expired"
    # the persisted lesson has no link to revoke, and that is no error
    revoked = await api.client.delete(
        f"/teacher/lessons/{lesson_id}/projector-link", headers=headers
    )
    assert revoked.status_code == 204


async def test_the_link_outlives_the_teachers_session(
    api: Api, teacher: tuple[Any, Headers]
) -> None:
    """A teacher signing in on another device ends the last session, not the projector."""
    user, headers = teacher
    lesson_id = await code_lesson(api, headers)
    link = path_of((await new_link(api, headers, lesson_id))["url"])
    laptop = await api.login(user)
    assert (await api.client.get("/auth/me", headers=headers)).status_code == 401
    assert (await api.client.get("/auth/me", headers=laptop)).status_code == 200
    async with anonymous(api) as pc:
        state = await pc.get(link + "/projector.json", headers=JSON)
        assert state.status_code == 200 and state.json()["active"] is True


async def test_the_lesson_page_copies_revokes_and_renews_the_link(
    api: Api, teacher: tuple[Any, Headers]
) -> None:
    user, headers = teacher
    lesson_id = await code_lesson(api, headers)
    async with page_browser(api.app) as browser:
        assert (await sign_in(browser, user.school_number)).status_code == 303
        page = await browser.get(f"/teacher/lessons/{lesson_id}")
        assert 'id="projector-link"' in page.text and 'id="projector-copy"' in page.text
        shown = page.text.split('id="projector-url" readonly value="', 1)[1].split('"', 1)[0]
        async with anonymous(api) as pc:
            assert (await pc.get(path_of(shown))).status_code == 200
            revoked = await browser.post(
                f"/teacher/lessons/{lesson_id}/projector-link/revoke",
                data={"csrf": csrf_of(page)},
            )
            assert revoked.status_code == 303
            assert revoked.headers["location"].endswith("#projector-link")
            after = await browser.get(f"/teacher/lessons/{lesson_id}")
            assert "The projector link was revoked" in after.text
            assert 'id="projector-url"' not in after.text
            assert (await pc.get(path_of(shown))).status_code == 410
            renewed = await browser.post(
                f"/teacher/lessons/{lesson_id}/projector-link", data={"csrf": csrf_of(after)}
            )
            assert renewed.status_code == 303
            again = await browser.get(f"/teacher/lessons/{lesson_id}")
            new = again.text.split('id="projector-url" readonly value="', 1)[1].split('"', 1)[0]
            assert new != shown
            assert (await pc.get(path_of(new))).status_code == 200
            # the forms want the page's CSRF token: without it, sent to sign in, link kept
            forged = await browser.post(f"/teacher/lessons/{lesson_id}/projector-link/revoke")
            assert forged.status_code == 303
            assert forged.headers["location"].startswith("/login")
            assert (await pc.get(path_of(new))).status_code == 200


async def test_a_lesson_without_a_code_shows_its_count_and_no_qr(
    api: Api, teacher: tuple[Any, Headers]
) -> None:
    _, headers = teacher
    lesson_id = (await api.start_lesson(headers, lesson_name="Tarih 1"))["lesson_id"]
    link = path_of((await new_link(api, headers, lesson_id))["url"])
    async with anonymous(api) as pc:
        page = await pc.get(link)
        assert page.status_code == 200
        assert (
            "Tarih 1" in page.text and 'id="qr"' not in page.text and 'id="code"' not in page.text
        )
        state = (await pc.get(link + "/projector.json", headers=JSON)).json()
        assert state == {"count": 0, "counts": NO_COUNTS, "active": True}
        qr = await pc.get(link + "/qr.svg", headers=JSON)
        assert qr.status_code == 409 and qr.json()["error"]["code"] == "code_not_enabled"
