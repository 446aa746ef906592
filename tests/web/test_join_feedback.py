"""Feedback that arrives by itself: a pending result page's record (the twin its script polls),
lockouts that say how long to wait, in words and in both languages, the join link of a lesson
that has closed, and a lesson without the code option showing no code field."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from attn.services import verification_service
from attn.tasks.sweep import sweep_attendances
from tests.support.api import PASSWORD, Api
from tests.support.check_in import started, wrong_code
from tests.support.clock import Clock
from tests.support.corrections import SECRET, VERIFIER_URL, answer, verifications
from tests.support.sign_in_form import csrf_of, page_browser, sign_in, sign_in_token_of


async def test_a_pending_result_is_fetched_until_the_verifier_answers(
    make_api: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def delivered(ctx: Any, **kwargs: Any) -> bool:
        return True  # the external verifier took the request; the test answers for it

    monkeypatch.setattr(verification_service, "request_verification", delivered)
    async with make_api(VERIFIER_URL=VERIFIER_URL, VERIFIER_SECRET=SECRET) as api:
        _, teacher = await api.user_headers("teacher")
        student, other = await api.add_user("student"), await api.add_user("student")
        lesson_id = (await started(api, teacher, security=["verification"]))["lesson_id"]
        async with page_browser(api.app) as phone, page_browser(api.app) as nosy:
            await sign_in(phone, student.school_number)
            page = await phone.get(f"/join/{lesson_id}")
            result = await phone.post(
                f"/student/lessons/{lesson_id}/join", data={"csrf": csrf_of(page)}
            )
            assert "Checked in, waiting for verification." in result.text
            assert f'data-poll="/join/{lesson_id}/record"' in result.text
            assert 'aria-live="polite"' in result.text
            assert '<script src="/static/joined.js" defer></script>' in result.text
            fetch = {"Accept": "application/json"}
            waiting = await phone.get(f"/join/{lesson_id}/record", headers=fetch)
            assert waiting.json() == {
                "status": "pending",
                "pending": True,
                "text": "Checked in, waiting for verification.",
            }
            # one's own record only; a signed-out fetch is told so in JSON
            await sign_in(nosy, other.school_number)
            theirs = await nosy.get(f"/join/{lesson_id}/record", headers=fetch)
            assert theirs.status_code == 404
            assert theirs.json()["error"]["code"] == "record_not_found"
            async with page_browser(api.app) as stranger:
                gone = await stranger.get(f"/join/{lesson_id}/record", headers=fetch)
                assert gone.status_code == 401

            (verification_id, _, _) = (
                await verifications(api.context.redis_client.redis, lesson_id)
            )[student.school_number]
            answered = await answer(api, verification_id, {"result": "verified"})
            assert answered.status_code == 200, answered.text
            decided = await phone.get(f"/join/{lesson_id}/record", headers=fetch)
            assert decided.json() == {
                "status": "present",
                "pending": False,
                "text": "You are checked in: present.",
            }
            turkish = await phone.get(
                f"/join/{lesson_id}/record", headers={**fetch, "Accept-Language": "tr"}
            )
            assert turkish.json()["text"] == "Yoklamaya katıldınız: var."


WAIT = re.compile(r"Try again in (\d+) seconds?\.")


async def test_a_code_lockout_says_how_long_to_wait(
    make_api: Callable[..., Any], clock: Clock
) -> None:
    async with make_api(CODE_MAX_FAILURES=2, CODE_FAILURE_WINDOW_SECONDS=45) as api:
        _, teacher = await api.user_headers("teacher")
        student = await api.add_user("student")
        lesson_id = (await started(api, teacher, security=["code"]))["lesson_id"]
        async with page_browser(api.app) as phone:
            await sign_in(phone, student.school_number)
            page = await phone.get(f"/join/{lesson_id}")
            for _ in range(2):
                refused = await phone.post(
                    f"/student/lessons/{lesson_id}/join",
                    data={"csrf": csrf_of(page), "code": wrong_code(api, lesson_id, clock)},
                )
                assert refused.status_code == 403
            locked = await phone.post(
                f"/student/lessons/{lesson_id}/join",
                data={"csrf": csrf_of(page), "code": wrong_code(api, lesson_id, clock)},
            )
            assert locked.status_code == 429
            found = WAIT.search(locked.text)
            assert found is not None, locked.text
            assert 1 <= int(found.group(1)) <= 45
            assert found.group(1) == locked.headers["Retry-After"]
            assert "Too many attempts." in locked.text
            phone.cookies.set("attn_lang", "tr")
            again = await phone.post(
                f"/student/lessons/{lesson_id}/join",
                data={"csrf": csrf_of(page), "code": wrong_code(api, lesson_id, clock)},
            )
            assert again.status_code == 429
            assert re.search(r"\d+ saniye sonra yeniden deneyin\.", again.text), again.text


async def test_a_login_lockout_says_how_long_to_wait(make_api: Callable[..., Any]) -> None:
    async with make_api(LOGIN_MAX_FAILURES=2, LOGIN_FAILURE_WINDOW_SECONDS=300) as api:
        student = await api.add_user("student")
        async with page_browser(api.app) as phone:
            for password in ("wrong-1", "wrong-2", PASSWORD):
                form = await phone.get("/login")
                sent = await phone.post(
                    "/login",
                    data={
                        "sign_in_token": sign_in_token_of(form),
                        "school_number": student.school_number,
                        "password": password,
                    },
                )
            assert sent.status_code == 429
            assert "Too many attempts. Try again in 5 minutes." in sent.text, sent.text
            assert int(sent.headers["Retry-After"]) > 240


async def test_the_join_link_of_a_closed_lesson_says_so_at_once(api: Api, clock: Clock) -> None:
    teacher, headers = await api.user_headers("teacher", full_name="Ayşe Yılmaz")
    student = await api.add_user("student")
    finished = await started(api, headers, lesson_name="Fizik 101", security=["code"])
    lesson_id = finished["lesson_id"]
    async with page_browser(api.app) as phone:
        # before: open, the sign-in page names it
        form = await phone.get("/login", params={"next": f"/join/{lesson_id}?code=123456"})
        assert "Sign in to check in to Fizik 101 — Ayşe Yılmaz" in form.text
        await sign_in(phone, student.school_number)
        ended = await api.client.post(f"/teacher/lessons/{lesson_id}/finish", headers=headers)
        assert ended.status_code == 200, ended.text
        for state in ("finished live", "persisted"):
            page = await phone.get(f"/join/{lesson_id}", params={"code": "123456"})
            assert page.status_code == 200, state
            assert "<h1>Check-in closed</h1>" in page.text, state
            assert "Fizik 101" in page.text and "Ayşe Yılmaz" in page.text
            assert f'action="/student/lessons/{lesson_id}/join"' not in page.text
            assert 'id="code"' not in page.text
            assert "attn_scan" not in page.headers.get("set-cookie", "")
            turkish = await phone.get(f"/join/{lesson_id}", params={"lang": "tr"})
            assert "<h1>Yoklama kapandı</h1>" in turkish.text
            phone.cookies.delete("attn_lang")
            summary = await sweep_attendances(api.context)
            assert summary.persisted == (1 if state == "finished live" else 0)
        # signed out, the link says it is closed at once (no sign-in for nothing); the sign-in
        # page names no closed lesson, nor a made-up one
        async with page_browser(api.app) as other:
            closed = await other.get(f"/join/{lesson_id}", params={"code": "123456"})
            assert closed.status_code == 200
            assert "<h1>Check-in closed</h1>" in closed.text and "Fizik 101" in closed.text
            unknown = await other.get("/join/" + "ab" * 16)
            assert unknown.status_code == 303 and unknown.headers["location"].startswith("/login")
            form = await other.get("/login", params={"next": f"/join/{lesson_id}"})
            assert "Sign in to check in to" not in form.text
            form = await other.get("/login", params={"next": "/join/" + "ab" * 16})
            assert "Sign in to check in to" not in form.text
    del teacher


async def test_a_lesson_past_its_end_is_closed_and_one_without_a_code_has_no_code_field(
    api: Api, clock: Clock
) -> None:
    _, headers = await api.user_headers("teacher")
    student = await api.add_user("student")
    lesson_id = (await started(api, headers, lesson_name="Open door"))["lesson_id"]
    async with page_browser(api.app) as phone:
        await sign_in(phone, student.school_number)
        page = await phone.get(f"/join/{lesson_id}")
        assert f'action="/student/lessons/{lesson_id}/join"' in page.text
        assert 'id="code"' not in page.text and 'name="code"' not in page.text
        clock.advance(minutes=61)  # nobody finished it, its end has passed
        closed = await phone.get(f"/join/{lesson_id}")
        assert "<h1>Check-in closed</h1>" in closed.text and "Open door" in closed.text
        assert f'action="/student/lessons/{lesson_id}/join"' not in closed.text
