"""LTI 1.3 against a real platform on loopback: launches for each role, a roster of 120 over
several NRPS pages, a lesson, the sweep and the grades arriving at the platform; every
refusal of a launch; grades retried after the platform was down; Dynamic Registration; the
tool's key rotation; the framing policy."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from attn.db import lti as lti_db
from attn.db.tables import AdminAuditRow, LtiGradeJobRow
from attn.services import lti, lti_courses
from attn.tasks.sweep import sweep_until_done
from tests.lti.conftest import browser
from tests.support.api import Api
from tests.support.check_in import now_code
from tests.support.clock import Clock
from tests.support.lti_platform import (
    CLIENT_ID,
    INSTRUCTOR,
    LEARNER,
    TA,
    LtiTestPlatform,
    Member,
    form_of,
    new_private_key,
    query_of,
)

COURSE = "Distributed Systems"
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


async def _login(web: httpx.AsyncClient, platform: LtiTestPlatform, hint: str) -> dict[str, str]:
    """The platform's login initiation at ATTN; the authorization request ATTN sends back."""
    response = await web.get("/lti/login", params=platform.login_params(hint))
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(f"{platform.url}/auth?")
    return query_of(location)


async def launch(
    web: httpx.AsyncClient,
    platform: LtiTestPlatform,
    claims: dict[str, Any],
    hint: str,
    *,
    framed: bool = False,
) -> httpx.Response:
    """A whole launch as a browser makes it (in the platform's iframe, with `framed`); the
    answer of /lti/enter."""
    platform.pending[hint] = claims
    base = str(web.base_url).rstrip("/")
    frame = {"Sec-Fetch-Dest": "iframe"} if framed else {}
    response = await web.get(
        "/lti/login", params=platform.login_params(hint, f"{base}/lti/launch"), headers=frame
    )
    assert response.status_code == 302, response.text
    async with httpx.AsyncClient() as outside:
        page = await outside.get(response.headers["location"])
    action, fields = form_of(page.text)
    assert action == f"{base}/lti/launch"
    launched = await web.post("/lti/launch", data=fields, headers=frame)
    assert launched.status_code == 303, launched.text
    assert launched.headers["location"].startswith("/lti/enter?ticket=")
    return await web.get(launched.headers["location"], headers=frame)


def teacher_claims(platform: LtiTestPlatform, **more: Any) -> dict[str, Any]:
    return platform.launch_claims(
        sub="u-teacher", name="Ada Teacher", sourcedid="T900", roles=[INSTRUCTOR], **more
    )


def student_claims(platform: LtiTestPlatform, index: int) -> dict[str, Any]:
    return platform.launch_claims(
        sub=f"u-{index}", name=f"Student {index}", sourcedid=f"S{index:04d}", roles=[LEARNER]
    )


def enrol(platform: LtiTestPlatform, learners: int, context: str = "course-1") -> None:
    platform.members[context] = [
        Member("u-teacher", "Ada Teacher", "T900", [INSTRUCTOR]),
        *(Member(f"u-{i}", f"Student {i}", f"S{i:04d}", [LEARNER]) for i in range(learners)),
    ]


async def platform_id(api: Api) -> int:
    """The id of the fixture's platform (ids are not reused: PostgreSQL's sequences go on)."""
    [registered] = await lti.list_platforms(api.context)
    return registered.id


def csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found is not None, page.text
    return found.group(1)


async def test_teacher_launch_roster_lesson_and_grades(
    lti_api: Api, platform: LtiTestPlatform, clock: Clock
) -> None:
    enrol(platform, 120)
    async with browser(lti_api) as teacher:
        entered = await launch(teacher, platform, teacher_claims(platform), "teacher")
        assert entered.status_code == 303
        assert entered.headers["location"] == "/lti/course?name=Distributed%20Systems"
        assert "attn_session" in entered.headers.get("set-cookie", "") or teacher.cookies
        assert platform.member_pages == 3  # 121 members, 50 a page
        roster = lti_api.context
        async with roster.db() as session:
            from attn.db import rosters

            listed = await rosters.roster_names(
                session=session, teacher_school_number="T900", course_key="distributed systems"
            )
        assert len(listed) == 120 and "T900" not in listed
        page = await teacher.get(entered.headers["location"])
        assert page.status_code == 200 and "Student 7" in page.text
        started = await teacher.post(
            "/teacher/start",
            data={"csrf": csrf_of(page), "lesson_name": COURSE, "duration_minutes": "60"},
        )
        assert started.status_code == 303, started.text
        lesson_id = started.headers["location"].rsplit("/", 1)[-1]
        present = [3, 5, 8, 13, 21]
        for index in present:
            async with browser(lti_api) as phone:
                entered_student = await launch(
                    phone, platform, student_claims(platform, index), f"s{index}"
                )
                assert entered_student.status_code == 303
                way_in = await phone.get(entered_student.headers["location"])
                assert way_in.status_code == 303
                assert way_in.headers["location"] == f"/join/{lesson_id}"
                join_page = await phone.get(way_in.headers["location"])
                joined = await phone.post(
                    f"/student/lessons/{lesson_id}/join",
                    data={"csrf": csrf_of(join_page), "code": now_code(lti_api, lesson_id, clock)},
                )
                assert joined.status_code == 200, joined.text
        lesson_page = await teacher.get(f"/teacher/lessons/{lesson_id}")
        finished = await teacher.post(
            f"/teacher/lessons/{lesson_id}/finish", data={"csrf": csrf_of(lesson_page)}
        )
        assert finished.status_code == 303
    summary, left = await sweep_until_done(lti_api.context)
    assert summary.persisted == 1 and not left
    drained = await lti_courses.drain_grades(lti_api.context)
    assert drained.failed == 0 and drained.scores == 120
    assert [item["label"] for item in platform.line_items["course-1"]] == ["Attendance"]
    given = {score["userId"]: score["scoreGiven"] for score in platform.scores}
    assert len(given) == 120
    assert {user for user, score in given.items() if score == 100} == {f"u-{i}" for i in present}
    assert all(score["scoreMaximum"] == 100 for score in platform.scores)
    # a second pass, or a second lesson's job with nothing changed, sends nothing again
    again = await lti_courses.drain_grades(lti_api.context)
    assert again.scores == 0 and len(platform.scores) == 120


async def test_roster_sync_marks_who_left_and_audits_it(
    lti_api: Api, platform: LtiTestPlatform
) -> None:
    enrol(platform, 60)
    async with browser(lti_api) as teacher:
        await launch(teacher, platform, teacher_claims(platform), "teacher")
        platform.members["course-1"] = [
            member for member in platform.members["course-1"] if member.user_id != "u-4"
        ]
        platform.members["course-1"][2].status = "Inactive"  # u-1
        page = await teacher.get("/lti/course?name=Distributed%20Systems")
        synced = await teacher.post(
            "/lti/course/sync?name=Distributed%20Systems", data={"csrf": csrf_of(page)}
        )
        assert synced.status_code == 303
        shown = await teacher.get(synced.headers["location"])
        assert "0 added, 2 left" in shown.text
        assert "Left the course" in shown.text
        # the latest changes, with their numbers: this sync's, then the first one's
        assert re.search(r"left S0001, S0004</li>", shown.text), shown.text
        assert "added S0000, S0001" in shown.text
    async with lti_api.context.db() as session:
        members = await lti_db.members_of(
            session=session, platform_id=await platform_id(lti_api), context_id="course-1"
        )
        audit = list(await session.scalars(select(AdminAuditRow).order_by(AdminAuditRow.id)))
    assert members["u-4"].status == "left" and members["u-1"].status == "left"
    assert members["u-2"].status == "active"
    assert audit[-1].action == "lti_roster_sync" and '"S0001"' in (audit[-1].before or "")


async def test_a_teaching_assistant_is_a_teacher_and_a_student_sees_no_lesson(
    lti_api: Api, platform: LtiTestPlatform
) -> None:
    enrol(platform, 2)
    async with browser(lti_api) as assistant:
        claims = platform.launch_claims(
            sub="u-ta", name="Tom Assistant", sourcedid="T901", roles=[TA]
        )
        entered = await launch(assistant, platform, claims, "ta")
        assert entered.headers["location"].startswith("/lti/course?")
    async with browser(lti_api) as phone:
        entered = await launch(phone, platform, student_claims(platform, 1), "s1")
        way_in = await phone.get(entered.headers["location"])
        assert way_in.status_code == 200
        assert "No lesson of this course is open now" in way_in.text


async def _refused(
    web: httpx.AsyncClient, platform: LtiTestPlatform, claims: dict[str, Any], **sign: Any
) -> httpx.Response:
    request = await _login(web, platform, "x")
    token = platform.sign(claims, nonce=request["nonce"], **sign)
    return await web.post("/lti/launch", data={"id_token": token, "state": request["state"]})


async def test_replays_and_browsers(
    lti_api: Api, platform: LtiTestPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    """A wrong nonce, a replayed launch, a used nonce under a fresh state, a login started
    in another browser, an unknown issuer's login, a made-up ticket."""
    async with browser(lti_api) as web:
        good = teacher_claims(platform)
        request = await _login(web, platform, "y")
        wrong_nonce = platform.sign(good, nonce="not-the-nonce")
        refused = await web.post(
            "/lti/launch", data={"id_token": wrong_nonce, "state": request["state"]}
        )
        assert refused.status_code == 401
        # a replayed launch: the same state and token a second time
        request = await _login(web, platform, "z")
        fields = {
            "id_token": platform.sign(good, nonce=request["nonce"]),
            "state": request["state"],
        }
        first = await web.post("/lti/launch", data=fields)
        assert first.status_code == 303
        replayed = await web.post("/lti/launch", data=fields)
        assert replayed.status_code == 401
        # the same token under a fresh state: its nonce is not the state's
        request = await _login(web, platform, "w")
        again = await web.post("/lti/launch", data={**fields, "state": request["state"]})
        assert again.status_code == 401
        # and even under a state kept with that very nonce, a nonce is used once only
        request = await _login(web, platform, "w2")
        used = platform.sign(good, nonce=request["nonce"])
        ok = await web.post("/lti/launch", data={"id_token": used, "state": request["state"]})
        assert ok.status_code == 303
        kept = lti.StoredLogin(await platform_id(lti_api), request["nonce"], {}).dump()
        await lti_api.context.redis_client.put_sso_state("lti", "state-2", kept, 600)
        web.cookies.set("attn_lti_state_state-2", "state-2", path="/lti/launch")
        with caplog.at_level("WARNING", logger="attn.lti"):
            twice = await web.post("/lti/launch", data={"id_token": used, "state": "state-2"})
        assert twice.status_code == 401
        assert any("nonce was used already" in r.getMessage() for r in caplog.records)
        # an unknown issuer's login is not started
        unknown = await web.get(
            "/lti/login", params={**platform.login_params("v"), "iss": "http://evil"}
        )
        assert unknown.status_code == 401
    async with browser(lti_api) as other_browser:
        # a login started in one browser, finished in another (no state cookie): not used;
        # a tab of its own is offered instead
        async with browser(lti_api) as web:
            request = await _login(web, platform, "u")
        token = platform.sign(good, nonce=request["nonce"])
        blocked = await other_browser.post(
            "/lti/launch", data={"id_token": token, "state": request["state"]}
        )
        assert blocked.status_code == 200 and 'target="_blank"' in blocked.text
        assert "/lti/login?iss=" in blocked.text
    async with browser(lti_api) as web:
        ticket = await web.get("/lti/enter?ticket=made-up")
        assert ticket.status_code == 401


async def test_grades_wait_while_the_platform_is_down(
    lti_api: Api, platform: LtiTestPlatform, clock: Clock
) -> None:
    enrol(platform, 3)
    async with browser(lti_api) as teacher:
        await launch(teacher, platform, teacher_claims(platform), "teacher")
        page = await teacher.get("/lti/course?name=Distributed%20Systems")
        started = await teacher.post(
            "/teacher/start",
            data={"csrf": csrf_of(page), "lesson_name": COURSE, "duration_minutes": "60"},
        )
        lesson_id = started.headers["location"].rsplit("/", 1)[-1]
        lesson_page = await teacher.get(f"/teacher/lessons/{lesson_id}")
        await teacher.post(
            f"/teacher/lessons/{lesson_id}/finish", data={"csrf": csrf_of(lesson_page)}
        )
    platform.down = True
    await sweep_until_done(lti_api.context)  # the sweep is not held back by the platform
    failed = await lti_courses.drain_grades(lti_api.context)
    assert failed.failed == 1 and platform.scores == []
    async with lti_api.context.db() as session:
        [job] = list(await session.scalars(select(LtiGradeJobRow)))
    assert job.done_at is None and job.attempts == 1 and "503" in (job.last_error or "")
    platform.down = False
    early = await lti_courses.drain_grades(lti_api.context)
    assert early.courses == 0  # not due yet: it waits its retry time
    clock.advance(seconds=31)
    sent = await lti_courses.drain_grades(lti_api.context)
    assert sent.failed == 0 and sent.scores == 3
    assert sorted(score["scoreGiven"] for score in platform.scores) == [0, 0, 0]
    async with lti_api.context.db() as session:
        [job] = list(await session.scalars(select(LtiGradeJobRow)))
    assert job.done_at is not None


async def test_grade_passback_turned_off(lti_api: Api, platform: LtiTestPlatform) -> None:
    enrol(platform, 2)
    async with browser(lti_api) as teacher:
        await launch(teacher, platform, teacher_claims(platform), "teacher")
        page = await teacher.get("/lti/course?name=Distributed%20Systems")
        off = await teacher.post(
            "/lti/course/grades?name=Distributed%20Systems", data={"csrf": csrf_of(page), "on": "0"}
        )
        assert off.status_code == 303
        page = await teacher.get("/lti/course?name=Distributed%20Systems")
        assert "Attendance rates are not sent" in page.text
        started = await teacher.post(
            "/teacher/start",
            data={"csrf": csrf_of(page), "lesson_name": COURSE, "duration_minutes": "60"},
        )
        lesson_id = started.headers["location"].rsplit("/", 1)[-1]
        lesson_page = await teacher.get(f"/teacher/lessons/{lesson_id}")
        await teacher.post(
            f"/teacher/lessons/{lesson_id}/finish", data={"csrf": csrf_of(lesson_page)}
        )
    await sweep_until_done(lti_api.context)
    async with lti_api.context.db() as session:
        assert list(await session.scalars(select(LtiGradeJobRow))) == []
    assert (await lti_courses.drain_grades(lti_api.context)).scores == 0


async def test_dynamic_registration(lti_api: Api, platform: LtiTestPlatform) -> None:
    config = f"{platform.url}/.well-known/openid-configuration"
    async with browser(lti_api) as web:
        no_key = await web.get(
            "/lti/register",
            params={"openid_configuration": config, "registration_token": "reg-token"},
        )
        assert no_key.status_code == 400
        url = await lti.new_registration_url(lti_api.context)
        key = query_of(url)["key"]
        page = await web.get(
            "/lti/register",
            params={"key": key, "openid_configuration": config, "registration_token": "reg-token"},
        )
        assert page.status_code == 200, page.text
        assert "/static/lti-close.js" in page.text
        assert f"frame-ancestors {platform.url}" in page.headers["content-security-policy"]
        assert "x-frame-options" not in page.headers
        script = await web.get("/static/lti-close.js")
        assert "org.imsglobal.lti.close" in script.text
        used = await web.get(
            "/lti/register",
            params={"key": key, "openid_configuration": config, "registration_token": "reg-token"},
        )
        assert used.status_code == 400
    [sent] = platform.registrations
    assert sent["initiate_login_uri"] == "http://testserver/lti/login"
    assert sent["jwks_uri"] == "http://testserver/lti/jwks"
    stored = {(p.client_id, p.deployment_ids) for p in await lti.list_platforms(lti_api.context)}
    assert ("registered-client", ("registered-deployment",)) in stored


async def test_tool_keys_rotate_and_the_old_key_stays_published(lti_api: Api, clock: Clock) -> None:
    async with browser(lti_api) as web:
        before = (await web.get("/lti/jwks")).json()["keys"]
        new_kid = await lti.rotate_key(lti_api.context)
        both = (await web.get("/lti/jwks")).json()["keys"]
        assert {key["kid"] for key in both} == {before[0]["kid"], new_kid}
        assert all("d" not in key and key["alg"] == "RS256" for key in both)
        clock.advance(seconds=lti_api.context.settings.LTI_KEY_GRACE_SECONDS + 1)
        after = (await web.get("/lti/jwks")).json()["keys"]
        assert [key["kid"] for key in after] == [new_kid]


async def test_only_lti_pages_may_be_framed_by_the_platforms(
    lti_api: Api, platform: LtiTestPlatform
) -> None:
    enrol(platform, 1)
    async with browser(lti_api) as web:
        login = await web.get("/lti/login", params=platform.login_params("f"))
        assert f"frame-ancestors {platform.url}" in login.headers["content-security-policy"]
        assert "x-frame-options" not in login.headers
        other = await web.get("/login")
        assert "frame-ancestors 'none'" in other.headers["content-security-policy"]
        assert other.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("claim", ["email", "custom:student_number"])
async def test_account_claims(make_api: Any, platform: LtiTestPlatform, claim: str) -> None:
    async with make_api(
        LTI_CREATE_USERS=True, LTI_ACCOUNT_CLAIM=claim, LTI_EMAIL_DOMAINS="uni.example"
    ) as api:
        await lti.add_platform(
            api.context,
            issuer=platform.issuer,
            client_id=platform.client_id,
            auth_login_url=f"{platform.url}/auth",
            auth_token_url=f"{platform.url}/token",
            keyset_url=f"{platform.url}/jwks",
            deployment_ids=[platform.deployment_id],
        )
        claims = {
            **student_claims(platform, 9),
            "email": "E123@uni.example",
            lti.CLAIM + "custom": {"student_number": "E123"},
        }
        async with browser(api) as phone:
            entered = await launch(phone, platform, claims, "e")
            assert entered.status_code == 303
        async with api.context.db() as session:
            from attn.db import users

            assert await users.get_user(session=session, school_number="E123") is not None


async def test_unknown_account_without_creation(make_api: Any, platform: LtiTestPlatform) -> None:
    async with make_api() as api:
        await lti.add_platform(
            api.context,
            issuer=platform.issuer,
            client_id=platform.client_id,
            auth_login_url=f"{platform.url}/auth",
            auth_token_url=f"{platform.url}/token",
            keyset_url=f"{platform.url}/jwks",
            deployment_ids=[platform.deployment_id],
        )
        async with browser(api) as phone:
            entered = await launch(phone, platform, student_claims(platform, 2), "n")
            assert entered.status_code == 403


async def test_a_framed_launch_keeps_partitioned_cookies_and_may_be_framed(
    make_api: Any, platform: LtiTestPlatform
) -> None:
    """Over https, inside the platform's iframe: the state cookie and the session's cookies
    are `SameSite=None; Secure; Partitioned`, and the pages the framed session opens may be
    framed by the platform (and by no one when they are not framed)."""
    async with make_api(LTI_CREATE_USERS=True, PUBLIC_URL="https://testserver") as api:
        await lti.add_platform(
            api.context,
            issuer=platform.issuer,
            client_id=platform.client_id,
            auth_login_url=f"{platform.url}/auth",
            auth_token_url=f"{platform.url}/token",
            keyset_url=f"{platform.url}/jwks",
            deployment_ids=[platform.deployment_id],
        )
        enrol(platform, 1)
        platform.tool_jwks = await lti.published_keys(api.context)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=api.app), base_url="https://testserver"
        ) as web:
            login = await web.get(
                "/lti/login",
                params=platform.login_params("c", "https://testserver/lti/launch"),
            )
            state_cookie = login.headers["set-cookie"]
            assert "SameSite=none" in state_cookie and "Partitioned" in state_cookie
            assert "Secure" in state_cookie and "Path=/lti/launch" in state_cookie
            entered = await launch(web, platform, teacher_claims(platform), "t", framed=True)
            assert entered.status_code == 303
            cookies = entered.headers.get_list("set-cookie")
            session = [c for c in cookies if c.startswith("attn_session=")]
            assert session and "SameSite=none" in session[0] and "Partitioned" in session[0]
            assert any(c.startswith("attn_lti_frame=1") for c in cookies)
            framed = await web.get("/teacher", headers={"Sec-Fetch-Dest": "iframe"})
            assert f"frame-ancestors {platform.url}" in framed.headers["content-security-policy"]
            assert "x-frame-options" not in framed.headers
            top = await web.get("/teacher")
            assert "frame-ancestors 'none'" in top.headers["content-security-policy"]
            assert top.headers["x-frame-options"] == "DENY"


async def test_a_launch_signs_in_the_existing_account_with_its_own_role(
    lti_api: Api, platform: LtiTestPlatform
) -> None:
    """The account claim links the launch to the account ATTN has; an account keeps the role
    its administrator gave it (a student launched as an instructor is still a student, and
    links no course)."""
    await lti_api.add_user("teacher", "T900", "Ada Lovelace")
    await lti_api.add_user("student", "S0042", "Grace Hopper")
    enrol(platform, 1)
    async with browser(lti_api) as teacher:
        entered = await launch(teacher, platform, teacher_claims(platform), "t")
        assert entered.headers["location"].startswith("/lti/course?")
    claims = platform.launch_claims(
        sub="u-42", name="Grace Hopper", sourcedid="S0042", roles=[INSTRUCTOR], context_id="c-2"
    )
    async with browser(lti_api) as phone:
        entered = await launch(phone, platform, claims, "s")
        assert entered.headers["location"].startswith("/lti/student?")
    async with lti_api.context.db() as session:
        from attn.db import users

        teacher_row = await users.get_user(session=session, school_number="T900")
        student_row = await users.get_user(session=session, school_number="S0042")
        linked = await lti_db.courses_of_context(
            session=session, platform_id=await platform_id(lti_api), context_id="c-2"
        )
    assert teacher_row is not None and teacher_row.sso_provider == "lti"
    assert student_row is not None and student_row.role == "student"
    assert linked == []


async def test_refused_logins_and_answers(lti_api: Api, platform: LtiTestPlatform) -> None:
    """A login without its hints, for a target elsewhere, another client or deployment; a
    platform's error answer; a token that is not a JWT. (The ID token's own checks:
    `test_each_refusal_names_its_check`.)"""
    async with browser(lti_api) as web:
        request = await _login(web, platform, "e")
        said = await web.post(
            "/lti/launch", data={"error": "login_required", "state": request["state"]}
        )
        assert said.status_code == 401
        request = await _login(web, platform, "j")
        garbage = await web.post(
            "/lti/launch", data={"id_token": "not-a-jwt", "state": request["state"]}
        )
        assert garbage.status_code == 401
        params = platform.login_params("h")
        for missing in ("iss", "login_hint", "target_link_uri"):
            partial = {k: v for k, v in params.items() if k != missing}
            assert (await web.get("/lti/login", params=partial)).status_code == 401
        elsewhere = {**params, "target_link_uri": "https://evil.example/lti/launch"}
        assert (await web.get("/lti/login", params=elsewhere)).status_code == 401
        other_client = {**params, "client_id": "not-ours"}
        assert (await web.get("/lti/login", params=other_client)).status_code == 401
        other_deployment = {**params, "lti_deployment_id": "not-ours"}
        assert (await web.get("/lti/login", params=other_deployment)).status_code == 401
        # Canvas posts the login initiation as a form, and names the deployment `deployment_id`
        canvas = {k: v for k, v in params.items() if k != "lti_deployment_id"}
        posted = await web.post(
            "/lti/login", data={**canvas, "deployment_id": platform.deployment_id}
        )
        assert posted.status_code == 302
        assert posted.headers["location"].startswith(f"{platform.url}/auth?")


async def test_a_registration_whose_issuer_is_elsewhere_is_refused(
    lti_api: Api, platform: LtiTestPlatform
) -> None:
    """The configuration must name an issuer on its own host; nothing is stored otherwise,
    and the URL's key is kept for another try."""
    config = f"http://localhost:{platform.port}/.well-known/openid-configuration"
    url = await lti.new_registration_url(lti_api.context)
    key = query_of(url)["key"]
    async with browser(lti_api) as web:
        refused = await web.get(
            "/lti/register",
            params={"key": key, "openid_configuration": config, "registration_token": "reg-token"},
        )
        assert refused.status_code == 400
        wrong_token = await web.get(
            "/lti/register",
            params={
                "key": key,
                "openid_configuration": f"{platform.url}/.well-known/openid-configuration",
                "registration_token": "wrong",
            },
        )
        assert wrong_token.status_code == 400
    assert platform.registrations == []
    assert len(await lti.list_platforms(lti_api.context)) == 1  # the fixture's


def now() -> int:
    """The time when a case's token is made (not when the module was imported)."""
    return int(time.time())


REFUSALS: dict[str, tuple[Any, dict[str, Any], str]] = {
    # name: (claims from the good ones, sign options, what the log says)
    "expired": (lambda c: c, {"expires_in": -120}, "expired"),
    "no exp": (lambda c: {**c, "iat": now()}, {"expires_in": None}, 'missing the "exp" claim'),
    "issued in the future": (
        lambda c: {**c, "iat": now() + 600, "exp": now() + 900},
        {"expires_in": None},
        "issued in the future",
    ),
    "not valid yet": (
        lambda c: {**c, "iat": now(), "nbf": now() + 600, "exp": now() + 900},
        {"expires_in": None},
        "not valid yet",
    ),
    "expired beyond the leeway": (
        lambda c: {**c, "iat": now() - 900, "exp": now() - 90},
        {"expires_in": None},
        "has expired",
    ),
    "another audience": (
        lambda c: {**c, "aud": "someone-else", "azp": "someone-else"},
        {},
        "Registration not found",
    ),
    "several audiences, azp another": (
        lambda c: {**c, "aud": ["other", CLIENT_ID], "azp": "other"},
        {},
        "azp is not ATTN's client id",
    ),
    "several audiences, no azp": (
        lambda c: {k: v for k, v in {**c, "aud": ["other", CLIENT_ID]}.items() if k != "azp"},
        {},
        "azp is not ATTN's client id",
    ),
    "unknown deployment": (
        lambda c: {**c, lti.CLAIM + "deployment_id": "unknown-deployment"},
        {},
        "is not recognised",
    ),
    "another issuer": (lambda c: {**c, "iss": "http://127.0.0.1:1"}, {}, "Registration not found"),
    "signed by another key": (lambda c: c, {"key": "other"}, "Unable to find public key"),
    "another key under the platform's kid": (
        lambda c: c,
        {"key": "other", "forge_kid": True},
        "Signature verification failed",
    ),
    "another version": (lambda c: {**c, lti.CLAIM + "version": "1.1"}, {}, "Incorrect version"),
    "a deep linking request": (
        lambda c: {**c, lti.CLAIM + "message_type": "LtiDeepLinkingRequest"},
        {},
        "refused",
    ),
    "no resource link": (
        lambda c: {k: v for k, v in c.items() if k != lti.CLAIM + "resource_link"},
        {},
        "Missing Resource Link Id",
    ),
    "no user": (lambda c: {k: v for k, v in c.items() if k != "sub"}, {}, "refused"),
    "no course": (
        lambda c: {k: v for k, v in c.items() if k != lti.CLAIM + "context"},
        {},
        "no course",
    ),
    "no school number": (
        lambda c: {**c, lti.CLAIM + "lis": {"person_sourcedid": "not a number!"}},
        {},
        "gives no school number",
    ),
    "no role ATTN knows": (
        lambda c: {**c, lti.CLAIM + "roles": ["urn:x#Mentor"]},
        {},
        "map to no ATTN role",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
async def test_each_refusal_names_its_check(
    lti_api: Api, platform: LtiTestPlatform, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    change, options, said = REFUSALS[case]
    if options.get("key") == "other":
        options = {**options, "key": new_private_key()}
    async with browser(lti_api) as web:
        with caplog.at_level("WARNING", logger="attn.lti"):
            refused = await _refused(web, platform, change(teacher_claims(platform)), **options)
    assert refused.status_code == 401
    assert "The launch from your course failed" in refused.text
    reasons = [r.getMessage() for r in caplog.records if r.name == "attn.lti"]
    assert any(said in reason for reason in reasons), reasons


async def test_the_page_a_launch_came_from_may_frame_attn(
    lti_api: Api, platform: LtiTestPlatform
) -> None:
    """Canvas's issuer is canvas.instructure.com while its course pages are each school's
    domain: the origin of a launch's signed return URL may frame ATTN from then on."""
    enrol(platform, 1)
    school = "https://school.example.edu"
    claims = teacher_claims(platform)
    claims[lti.CLAIM + "launch_presentation"] = {
        "document_target": "iframe",
        "return_url": f"{school}/courses/1/external_content/success/external_tool_redirect",
    }
    async with browser(lti_api) as web:
        before = await web.get("/lti/jwks")
        assert school not in before.headers["content-security-policy"]
        entered = await launch(web, platform, claims, "t")
        page = await web.get(entered.headers["location"])
        policy = page.headers["content-security-policy"]
        assert f"frame-ancestors {platform.url} {school};" in policy + ";"
    [stored] = await lti.list_platforms(lti_api.context)
    assert stored.frame_origins == (school,)


async def test_a_tab_of_its_own_signs_the_same_account_in_once(
    lti_api: Api, platform: LtiTestPlatform
) -> None:
    """A page in the frame gives a one-time link that signs the same account in where the
    frame's cookies are not (another cookie jar here), and opens the page asked for."""
    enrol(platform, 1)
    async with browser(lti_api) as frame:
        entered = await launch(frame, platform, teacher_claims(platform), "t")
        course = await frame.get(entered.headers["location"])
        offered = await frame.post(
            "/lti/new-tab",
            data={"csrf": csrf_of(course), "next": "/lti/course?name=Distributed%20Systems"},
        )
        assert offered.status_code == 200
        link = re.search(r'href="(/lti/tab\?ticket=[^"]+)"', offered.text)
        assert link is not None
        elsewhere = await frame.post(
            "/lti/new-tab", data={"csrf": csrf_of(course), "next": "//evil.example/x"}
        )
        evil_link = re.search(r'href="(/lti/tab\?ticket=[^"]+)"', elsewhere.text)
        assert evil_link is not None
    async with browser(lti_api) as tab:
        opened = await tab.get(link.group(1).replace("&amp;", "&"))
        assert opened.status_code == 303
        assert opened.headers["location"] == "/lti/course?name=Distributed%20Systems"
        page = await tab.get(opened.headers["location"])
        assert page.status_code == 200 and "Distributed Systems" in page.text
        again = await tab.get(link.group(1).replace("&amp;", "&"))
        assert again.status_code == 401
        safe = await tab.get(evil_link.group(1).replace("&amp;", "&"))
        assert safe.headers["location"] == "/"
    async with browser(lti_api) as stranger:
        refused = await stranger.post("/lti/new-tab", data={"csrf": "x", "next": "/"})
        assert refused.status_code in (303, 401, 403)
        assert "/lti/tab?ticket=" not in refused.text


async def test_a_student_gets_no_tab_link(lti_api: Api, platform: LtiTestPlatform) -> None:
    """A one-time sign-in link would let a student hand their session to another phone."""
    enrol(platform, 2)
    async with browser(lti_api) as phone:
        entered = await launch(phone, platform, student_claims(platform, 1), "s")
        page = await phone.get(entered.headers["location"])
        offered = await phone.post("/lti/new-tab", data={"csrf": csrf_of(page), "next": "/"})
        assert "/lti/tab?ticket=" not in offered.text
        assert offered.status_code in (303, 403)


async def test_the_platforms_keys_are_kept_and_fetched_again_for_a_new_kid(
    lti_api: Api, platform: LtiTestPlatform
) -> None:
    """One JWKS request for many launches; a platform's new key is fetched at its first
    launch; tokens naming made-up kids fetch the keys again at most once a minute (here:
    not at all, the rotation's fetch was a moment ago)."""
    enrol(platform, 3)
    for index in range(3):
        async with browser(lti_api) as phone:
            entered = await launch(phone, platform, student_claims(platform, index), f"s{index}")
            assert entered.status_code == 303
    assert platform.keyset_requests == 1
    platform.key = new_private_key()  # the platform rotates its key
    async with browser(lti_api) as phone:
        entered = await launch(phone, platform, student_claims(platform, 1), "again")
        assert entered.status_code == 303
    assert platform.keyset_requests == 2
    async with browser(lti_api) as web:
        for _ in range(3):
            forged = await _refused(web, platform, teacher_claims(platform), key=new_private_key())
            assert forged.status_code == 401
    assert platform.keyset_requests == 2


async def test_a_platform_clock_a_little_off_is_allowed(
    lti_api: Api, platform: LtiTestPlatform
) -> None:
    """A platform whose clock runs 20 s ahead (its `iat` in ATTN's future) or whose token
    expired 20 s ago by ATTN's clock still launches: 60 s of leeway."""
    enrol(platform, 2)
    now = int(time.time())
    for hint, times in (("ahead", (now + 20, now + 320)), ("behind", (now - 300, now - 20))):
        claims = {**student_claims(platform, 1), "iat": times[0], "exp": times[1]}
        async with browser(lti_api) as phone:
            request = await _login(phone, platform, hint)
            token = platform.sign(claims, nonce=request["nonce"], expires_in=None)
            launched = await phone.post(
                "/lti/launch", data={"id_token": token, "state": request["state"]}
            )
            assert launched.status_code == 303, launched.text


async def _one_lesson(web: httpx.AsyncClient, course_page: httpx.Response) -> str:
    started = await web.post(
        "/teacher/start",
        data={"csrf": csrf_of(course_page), "lesson_name": COURSE, "duration_minutes": "60"},
    )
    lesson_id = started.headers["location"].rsplit("/", 1)[-1]
    lesson_page = await web.get(f"/teacher/lessons/{lesson_id}")
    await web.post(f"/teacher/lessons/{lesson_id}/finish", data={"csrf": csrf_of(lesson_page)})
    return lesson_id


async def test_a_course_without_grade_service_is_not_retried(
    lti_api: Api, platform: LtiTestPlatform
) -> None:
    enrol(platform, 2)
    claims = teacher_claims(platform)
    del claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]
    async with browser(lti_api) as teacher:
        entered = await launch(teacher, platform, claims, "t")
        await _one_lesson(teacher, await teacher.get(entered.headers["location"]))
    await sweep_until_done(lti_api.context)
    drained = await lti_courses.drain_grades(lti_api.context)
    assert drained.failed == 0 and drained.scores == 0
    async with lti_api.context.db() as session:
        [job] = list(await session.scalars(select(LtiGradeJobRow)))
    assert job.done_at is not None and "no grade service" in (job.last_error or "")
    assert platform.scores == []


async def test_the_links_own_line_item_when_there_is_no_line_items_service(
    lti_api: Api, platform: LtiTestPlatform
) -> None:
    """A platform that gives the link's grade column (`lineitem`) and no `lineitems`: the
    scores go to that column, and no line item is created."""
    enrol(platform, 2)
    claims = teacher_claims(platform)
    claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"] = {
        "scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/score"],
        "lineitem": f"{platform.url}/ags/course-1/lineitems/7",
    }
    async with browser(lti_api) as teacher:
        entered = await launch(teacher, platform, claims, "t")
        await _one_lesson(teacher, await teacher.get(entered.headers["location"]))
    await sweep_until_done(lti_api.context)
    drained = await lti_courses.drain_grades(lti_api.context)
    assert drained.failed == 0 and drained.scores == 2
    assert {score["item"] for score in platform.scores} == {"7"}
    assert platform.line_items.get("course-1", []) == []


async def test_the_worker_loop_persists_the_lesson_and_sends_its_grades(
    lti_api: Api, platform: LtiTestPlatform
) -> None:
    """`attn worker`'s loop (and `attn serve`'s sweeper): one pass persists the finished
    lesson, then drains the outbox; the scores arrive without anyone else's help."""
    from attn.tasks.scheduler import run_forever

    enrol(platform, 4)
    async with browser(lti_api) as teacher:
        entered = await launch(teacher, platform, teacher_claims(platform), "t")
        await _one_lesson(teacher, await teacher.get(entered.headers["location"]))
    stop = asyncio.Event()
    loop = asyncio.create_task(run_forever(lti_api.context, stop))
    try:
        for _ in range(200):
            if len(platform.scores) == 4:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await loop
    assert sorted(score["userId"] for score in platform.scores) == [f"u-{i}" for i in range(4)]


async def test_the_protocol_with_its_stores_down_is_503(make_api: Any) -> None:
    """A database or a Redis that does not answer: 503 pages, never a 500."""
    no_database = {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    async with make_api(**no_database) as api, browser(api) as web:
        keys = await web.get("/lti/jwks")
        assert keys.status_code == 503
        login = await web.get(
            "/lti/login",
            params={"iss": "x", "login_hint": "y", "target_link_uri": "http://testserver/"},
        )
        assert login.status_code == 503
    no_redis = {"REDIS_URL": "redis://127.0.0.1:1/0", "REDIS_POOL_TIMEOUT_SECONDS": 1}
    async with make_api(**no_redis) as api, browser(api) as web:
        launched = await web.post("/lti/launch", data={"state": "s", "id_token": "a.b.c"})
        assert launched.status_code == 503


async def test_sync_now_with_the_platform_down_is_a_polite_503(
    lti_api: Api, platform: LtiTestPlatform
) -> None:
    enrol(platform, 2)
    async with browser(lti_api) as teacher:
        entered = await launch(teacher, platform, teacher_claims(platform), "t")
        page = await teacher.get(entered.headers["location"])
        platform.down = True
        synced = await teacher.post(
            "/lti/course/sync?name=Distributed%20Systems",
            data={"csrf": csrf_of(page)},
            headers={"Accept": "text/html"},
        )
        assert synced.status_code == 503
        assert "The learning platform did not answer" in synced.text
        platform.down = False
        again = await teacher.get("/lti/course?name=Distributed%20Systems")
        assert "The last roster sync failed" in again.text


async def test_the_attendance_line_item_is_found_again_by_its_resource_id(
    lti_api: Api, platform: LtiTestPlatform
) -> None:
    """The line item is created once; a course that lost its address of it (say, linked
    again) finds it again by its resourceId instead of making a second one."""
    enrol(platform, 2)
    async with browser(lti_api) as teacher:
        entered = await launch(teacher, platform, teacher_claims(platform), "t")
        course_page = await teacher.get(entered.headers["location"])
        await _one_lesson(teacher, course_page)
        await sweep_until_done(lti_api.context)
        assert (await lti_courses.drain_grades(lti_api.context)).scores == 2
        async with lti_api.context.db() as session, session.begin():
            [course] = await lti_db.courses_of_teacher(
                session=session, teacher_school_number="T900", course_key="distributed systems"
            )
            course.lineitem_url = None
        await _one_lesson(teacher, await teacher.get(entered.headers["location"]))
    await sweep_until_done(lti_api.context)
    assert (await lti_courses.drain_grades(lti_api.context)).failed == 0
    [item] = platform.line_items["course-1"]
    assert item["resourceId"] == "attn-attendance" and item["label"] == "Attendance"
