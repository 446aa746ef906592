"""Every LTI page in Turkish: the launch's pages (a failure, a tab of its own), the linked
course's page and its forms, a student's "no lesson now", and the platforms' admin page."""

from __future__ import annotations

import re

import httpx

from tests.lti.conftest import browser
from tests.lti.test_lti import _login, enrol, launch, student_claims, teacher_claims
from tests.support.api import Api
from tests.support.lti_platform import LtiTestPlatform
from tests.support.sign_in_form import csrf_of, sign_in
from tests.web.test_turkish_everywhere import DATA, Visit, page_routes

NAMES = [
    *DATA,
    "Ada Teacher",
    "Student 0",
    "Student 1",
    "Distributed Systems",
    "Test Moodle",
    "Attendance",
]


def turkish(client: httpx.AsyncClient) -> httpx.AsyncClient:
    client.headers["Accept-Language"] = "tr-TR,tr;q=0.9"
    return client


async def test_the_lti_pages_in_turkish(lti_api: Api, platform: LtiTestPlatform) -> None:
    enrol(platform, 2)
    visit = Visit(lti_api, NAMES)
    async with turkish(browser(lti_api)) as web:
        entered = await launch(web, platform, teacher_claims(platform), "t")
        course = await web.get(entered.headers["location"])
        visit.check("the linked course", course)
        assert entered.status_code == 303  # a redirect, no page: its route is seen here
        visit.routes.add(("GET", "/lti/enter"))
        synced = await web.post(
            "/lti/course/sync?name=Distributed%20Systems",
            data={"csrf": csrf_of(course)},
            follow_redirects=True,
        )
        visit.check("a roster sync", synced)
        grades = await web.post(
            "/lti/course/grades?name=Distributed%20Systems",
            data={"csrf": csrf_of(synced), "on": "0"},
            follow_redirects=True,
        )
        visit.check("grades off", grades)
        tab = await web.post(
            "/lti/new-tab",
            data={"csrf": csrf_of(course), "next": "/lti/course?name=Distributed%20Systems"},
        )
        visit.check("a tab of its own", tab)
        link = re.search(r'href="(/lti/tab\?ticket=[^"]+)"', tab.text)
        assert link is not None
        async with turkish(browser(lti_api)) as other:
            opened = await other.get(link.group(1).replace("&amp;", "&"), follow_redirects=True)
            visit.check("the tab's link followed", opened)
            visit.routes.add(("GET", "/lti/tab"))
            used = await other.get(link.group(1).replace("&amp;", "&"))
            visit.check("a used tab link", used, 401)
        request = await _login(web, platform, "x")
        failed = await web.post(
            "/lti/launch", data={"id_token": "a.b.c", "state": request["state"]}
        )
        visit.check("a refused launch", failed, 401)
        assert "Dersinizden açılış yapılamadı" in failed.text
        ticket = await web.get("/lti/enter?ticket=nope")
        visit.check("a used ticket", ticket, 401)
    async with turkish(browser(lti_api)) as phone:
        entered = await launch(phone, platform, student_claims(platform, 1), "s")
        assert entered.status_code == 303
        none_now = await phone.get(entered.headers["location"])
        visit.check("no lesson now", none_now)
    admin = await lti_api.add_user("admin")
    async with turkish(browser(lti_api)) as pages:
        await sign_in(pages, admin.school_number)
        page = await pages.get("/admin/lti")
        visit.check("/admin/lti", page)
        url = await pages.post("/admin/lti/registration-url", data={"csrf": csrf_of(page)})
        visit.check("a registration URL", url)
        bad = await pages.post(
            "/admin/lti/platforms",
            data={"csrf": csrf_of(page), "issuer": "x", "client_id": "y", "auth_login_url": "no"},
        )
        visit.check("a refused platform", bad, 422)
        added = await pages.post(
            "/admin/lti/platforms",
            data={
                "csrf": csrf_of(page),
                "issuer": "https://canvas.example",
                "client_id": "10000000000001",
                "auth_login_url": "https://sso.canvas.example/api/lti/authorize_redirect",
                "auth_token_url": "https://sso.canvas.example/login/oauth2/token",
                "keyset_url": "https://sso.canvas.example/api/lti/security/jwks",
                "deployment_ids": "1:abc",
            },
            follow_redirects=True,
        )
        visit.check("a platform added", added)
        assert "https://canvas.example" in added.text
        remove = re.findall(r'action="(/admin/lti/platforms/\d+/remove)"', added.text)[-1]
        removed = await pages.post(remove, data={"csrf": csrf_of(added)}, follow_redirects=True)
        visit.check("a platform removed", removed)
        assert "https://canvas.example" not in removed.text
    # the forms that answer with a redirect to a page visited above
    for form in (
        "/lti/course/sync",
        "/lti/course/grades",
        "/admin/lti/platforms/{platform_id}/remove",
    ):
        visit.routes.add(("POST", form))
    assert not visit.problems, visit.problems
    lti_routes = {
        (method, route.path)
        for route in page_routes(lti_api)
        if route.path.startswith(("/lti/", "/admin/lti"))
        for method in route.methods or ()
    }
    assert not lti_routes - visit.routes, lti_routes - visit.routes
