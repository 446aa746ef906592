"""Login CSRF: another site cannot sign a browser in to an account of its choosing (the
sign-in form carries a token bound to a cookie of this browser), no page form is taken from
another site's page (Sec-Fetch-Site / Origin / Referer), and the join and result pages name
the signed-in student with a way to sign out."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.api import PASSWORD, Api
from tests.support.sign_in_form import csrf_of, page_browser, sign_in, sign_in_token_of

EVIL = "http://evil.example"
REFUSED_CROSS_SITE = "This form was sent from another site&#39;s page, so it was refused."


async def test_login_csrf_a_sign_in_without_this_browsers_form_token_is_refused(
    api: Api,
) -> None:
    attacker = await api.add_user("student")
    async with page_browser(api.app) as victim, page_browser(api.app) as other:
        # the attacker's own page posts the attacker's credentials with no token...
        forged = await victim.post(
            "/login", data={"school_number": attacker.school_number, "password": PASSWORD}
        )
        assert forged.status_code == 403
        assert "attn_session=" not in forged.headers.get("set-cookie", "")
        assert "The sign-in form had expired or was not opened here." in forged.text
        # ...or with a token the attacker got from opening the form in its own browser
        token = sign_in_token_of(await other.get("/login"))
        assert token
        forged = await victim.post(
            "/login",
            data={
                "sign_in_token": token,
                "school_number": attacker.school_number,
                "password": PASSWORD,
            },
        )
        assert forged.status_code == 403
        assert "attn_session" not in victim.cookies
        # the refusal is a fresh form, so the person at the browser signs in from it
        signed = await victim.post(
            "/login",
            data={
                "sign_in_token": sign_in_token_of(forged),
                "school_number": attacker.school_number,
                "password": PASSWORD,
                "next": "/student",
            },
        )
        assert signed.status_code == 303, signed.text
        assert signed.headers["location"] == "/student"


async def test_login_csrf_cross_site_posts_to_every_page_form_are_refused(api: Api) -> None:
    teacher = await api.add_user("teacher")
    student = await api.add_user("student")
    async with page_browser(api.app) as teacher_page, page_browser(api.app) as student_page:
        assert (await sign_in(teacher_page, teacher.school_number)).status_code == 303
        lesson = await api.start_lesson(await api.login(teacher))
        assert (await sign_in(teacher_page, teacher.school_number)).status_code == 303
        assert (await sign_in(student_page, student.school_number)).status_code == 303
        teacher_csrf = csrf_of(await teacher_page.get("/teacher"))
        join_page = await student_page.get(f"/join/{lesson['lesson_id']}")
        student_csrf = csrf_of(join_page)
        sign_in_form = await student_page.get("/login")
        forms: list[tuple[httpx.AsyncClient, str, dict[str, str]]] = [
            (
                student_page,
                "/login",
                {
                    "sign_in_token": sign_in_token_of(sign_in_form),
                    "school_number": student.school_number,
                    "password": PASSWORD,
                },
            ),
            (student_page, f"/student/lessons/{lesson['lesson_id']}/join", {"csrf": student_csrf}),
            (student_page, "/logout", {"csrf": student_csrf}),
            (
                teacher_page,
                f"/teacher/lessons/{lesson['lesson_id']}/finish",
                {"csrf": teacher_csrf},
            ),
            (teacher_page, "/logout", {"csrf": teacher_csrf}),
        ]
        cross_site: list[dict[str, str]] = [
            {"Sec-Fetch-Site": "cross-site", "Origin": EVIL},
            {"Sec-Fetch-Site": "same-site", "Origin": "http://other.testserver"},
            {"Origin": EVIL},
            {"Origin": "null"},
            {"Referer": f"{EVIL}/attendance-trick.html"},
        ]
        for browser, path, form in forms:
            for headers in cross_site:
                refused = await browser.post(path, data=form, headers=headers)
                assert refused.status_code == 403, (path, headers, refused.text[:300])
                assert REFUSED_CROSS_SITE in refused.text, (path, headers)
                assert "set-cookie" not in refused.headers, (path, headers)
        # nothing happened: the student did not join, the lesson is live, both still signed in
        roll = await api.client.get(
            f"/teacher/lessons/{lesson['lesson_id']}/records", headers=await api.login(teacher)
        )
        assert roll.json() == []
        live = await api.client.get(
            f"/teacher/lessons/{lesson['lesson_id']}", headers=await api.login(teacher)
        )
        assert live.json()["status"] == "active"

        # the same forms from this site's own pages, or from a browser that says nothing
        assert (await sign_in(teacher_page, teacher.school_number)).status_code == 303
        teacher_csrf = csrf_of(await teacher_page.get("/teacher"))
        same_site: list[dict[str, str]] = [
            {"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"},
            {"Origin": "http://testserver"},
            {"Referer": f"http://testserver/join/{lesson['lesson_id']}"},
            {},
        ]
        joined = await student_page.post(
            f"/student/lessons/{lesson['lesson_id']}/join",
            data={"csrf": student_csrf},
            headers=same_site[0],
        )
        assert joined.status_code == 200, joined.text[:300]
        for headers in same_site:
            started = await teacher_page.post(
                f"/teacher/lessons/{lesson['lesson_id']}/add",
                data={"csrf": teacher_csrf, "student_number": student.school_number},
                headers=headers,
            )
            # the student has a record already: the form was taken and answered on its merits
            assert started.status_code == 422, (headers, started.text[:300])
            assert "already has a record" in started.text
        for headers in same_site[1:]:
            form = await student_page.get("/login")
            again = await student_page.post(
                "/login",
                data={
                    "sign_in_token": sign_in_token_of(form),
                    "school_number": student.school_number,
                    "password": PASSWORD,
                },
                headers=headers,
            )
            assert again.status_code == 303, (headers, again.text[:300])


async def test_login_csrf_a_public_url_behind_a_proxy_is_this_site(make_api: Any) -> None:
    """Behind a proxy that rewrites Host, the browser's Origin is ATTN_PUBLIC_URL's."""
    async with make_api(PUBLIC_URL="https://attn.school.example") as api:
        student = await api.add_user("student")
        # the browser speaks https to the proxy; its cookies are Secure
        async with page_browser(api.app, base_url="https://attn.school.example") as browser:
            form = await browser.get("/login")
            fields = {
                "sign_in_token": sign_in_token_of(form),
                "school_number": student.school_number,
                "password": PASSWORD,
            }
            signed = await browser.post(
                "/login", data=fields, headers={"Origin": "https://attn.school.example"}
            )
            assert signed.status_code == 303
            refused = await browser.post(
                "/login", data=fields, headers={"Origin": "https://attn.school.example.evil"}
            )
            assert refused.status_code == 403


async def test_login_csrf_the_join_and_result_pages_name_the_signed_in_student(
    api: Api,
) -> None:
    _, teacher_headers = await api.user_headers("teacher")
    student = await api.add_user("student", school_number="S2001", full_name="Ayşe Yılmaz")
    lesson = await api.start_lesson(teacher_headers)
    join_url = f"/join/{lesson['lesson_id']}?code=123456"
    async with page_browser(api.app) as browser:
        assert (await sign_in(browser, student.school_number)).status_code == 303
        join_page = await browser.get(join_url)
        assert join_page.status_code == 200
        assert "Checking in as Ayşe Yılmaz (S2001) — not you?" in join_page.text
        turkish = await browser.get(join_url, params={"lang": "tr"})
        assert "Ayşe Yılmaz (S2001) olarak katılıyorsunuz — siz değil misiniz?" in turkish.text
        assert "Çıkış yap" in turkish.text
        result = await browser.post(
            f"/student/lessons/{lesson['lesson_id']}/join",
            data={"csrf": csrf_of(join_page)},
            params={"lang": "en"},
        )
        assert result.status_code == 200, result.text[:300]
        assert "Checked in as Ayşe Yılmaz (S2001) — not you?" in result.text
        # signing out from the join page leads to sign-in and back to the join page
        signed_out = await browser.post(
            "/logout", data={"csrf": csrf_of(join_page), "next": join_url}
        )
        assert signed_out.status_code == 303
        assert signed_out.headers["location"] == (
            f"/login?next=%2Fjoin%2F{lesson['lesson_id']}%3Fcode%3D123456"
        )
        assert (await browser.get(join_url)).status_code == 303  # the session is gone
        # a sign-out form never leads off this site
        assert (await sign_in(browser, student.school_number)).status_code == 303
        page = await browser.get(join_url)
        for elsewhere in ("//evil.example/", "/\\evil.example/", "https://evil.example/"):
            away = await browser.post("/logout", data={"csrf": csrf_of(page), "next": elsewhere})
            assert away.headers["location"] == "/login", elsewhere
            assert (await sign_in(browser, student.school_number)).status_code == 303
            page = await browser.get(join_url)
