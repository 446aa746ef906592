"""Admins loop: an administrator who signs in lands on a page of their own (`/admin`) that
says what they can do, in English and Turkish, instead of bouncing between `/` and
`/student`."""

from __future__ import annotations

from tests.support.api import Api
from tests.support.sign_in_form import page_browser, sign_in


async def test_admins_loop_an_admin_lands_on_the_admin_page(api: Api) -> None:
    admin = await api.add_user("admin")
    async with page_browser(api.app) as browser:
        browser.max_redirects = 5
        browser.follow_redirects = True
        landed = await sign_in(browser, admin.school_number)
        assert landed.status_code == 200, landed.text[:300]
        assert landed.url.path == "/admin"
        assert "<h1>Administration</h1>" in landed.text
        assert "attn users add" in landed.text and "--password-stdin" in landed.text
        assert "attn users import people.csv" in landed.text
        assert 'action="/logout"' in landed.text and "Sign out" in landed.text
        # the other roles' pages send an admin home, and home is the admin page
        for page in ("/", "/teacher", "/student", "/student/history"):
            response = await browser.get(page)
            assert (response.status_code, response.url.path) == (200, "/admin"), page
        turkish = await browser.get("/admin", params={"lang": "tr"})
        assert "<h1>Yönetim</h1>" in turkish.text
        assert "Yönetim sayfaları henüz hazır değil." in turkish.text
        assert "Çıkış yap" in turkish.text
        # signing out works from there
        browser.follow_redirects = False
        csrf = turkish.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        signed_out = await browser.post("/logout", data={"csrf": csrf})
        assert signed_out.headers["location"] == "/login"
        assert (await browser.get("/admin")).status_code == 303


async def test_admins_loop_the_admin_page_is_an_admins_only(api: Api) -> None:
    student = await api.add_user("student")
    async with page_browser(api.app) as browser:
        await sign_in(browser, student.school_number)
        response = await browser.get("/admin")
        assert (response.status_code, response.headers["location"]) == (303, "/")
