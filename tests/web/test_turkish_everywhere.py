"""Every page in Turkish says nothing in English: each GET page of every role, the error pages
and the refused forms are rendered with the Turkish language chosen, and their visible text
(see `tests.support.visible_text`) holds no English text of the catalogue, no common English
word, no English month and no English-style percentage. The people's and lessons' names,
school numbers, codes and links are data, and are left out of the check."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from attn.web.i18n import TEXTS
from attn.web.render import PageRoute
from tests.support.api import Api
from tests.support.check_in import code_at, window_now
from tests.support.clock import Clock
from tests.support.sign_in_form import csrf_of, page_browser, sign_in, sign_in_token_of
from tests.support.visible_text import visible_text

TEACHER_NAME = "Ayşe Yılmaz"
LESSON = "Fizik 101"
DATA = [
    TEACHER_NAME,
    "Elif Kaya",
    "Can Öztürk",
    "Zeynep Arslan",
    "Selin Koç",
    "Deniz Aydın",
    LESSON,
]
REASONS = ["Başka sınıfta", "Raporlu", "bad number!"]  # and a bad roster cell

# English words a Turkish page has no use for (none of them a Turkish word as well, as "form"
# and "on" are)
ENGLISH_WORDS = """the and of to your you is are not sign signed lesson lessons student students
teacher teachers check checked code codes find open start started finish finished refresh
export status time times reason present late absent pending rejected excused accept reject
excuse add history dashboard password number name course courses attendance projector roll
changes nothing yet active back page error please again seconds left scan join here with for
from this that only device network zone result records record refused skip content main menu
administration account accounts file line field value wrong"""
COMMON_ENGLISH = frozenset(ENGLISH_WORDS.split())
ENGLISH_MONTHS = re.compile(r"\b(Jan|Feb|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b")
ENGLISH_PERCENT = re.compile(r"\d\s?%")
URL = re.compile(r"https?://\S+|/[\w/.-]*\?\S*")
CSV_HEADER = re.compile(r"\b\w+(?:,\w+)+\b")  # a literal header such as school_number,full_name


def english_fragments() -> list[str]:
    """The catalogue's English texts that differ from their Turkish, in the pieces between
    their placeholders (only pieces with a word of three letters or more)."""
    pieces = set()
    for texts in TEXTS.values():
        if texts["en"] == texts["tr"]:
            continue
        for piece in re.split(r"\{[^}]*\}", texts["en"]):
            piece = piece.strip(" .,:;()—-“”")
            if re.search(r"[A-Za-z]{3}", piece):
                pieces.add(piece)
    return sorted(pieces, key=len, reverse=True)


def english_in(text: str, data: list[str]) -> list[str]:
    """What of `text` is English (after taking out the data)."""
    text = CSV_HEADER.sub(" ", URL.sub(" ", text))
    for item in sorted(data, key=len, reverse=True):
        text = text.replace(item, " ")
    found = [
        piece
        for piece in english_fragments()
        if re.search(rf"(?<!\w){re.escape(piece)}(?!\w)", text)
    ]
    found += sorted(
        {word for word in re.findall(r"[A-Za-z]+", text) if word.lower() in COMMON_ENGLISH}
    )
    found += ENGLISH_MONTHS.findall(text) + ENGLISH_PERCENT.findall(text)
    return found


@dataclass
class Visit:
    """The pages seen, and the page routes they came from."""

    api: Api
    data: list[str]
    routes: set[tuple[str, str]] = field(default_factory=set)
    problems: dict[str, list[str]] = field(default_factory=dict)

    def check(self, what: str, page: httpx.Response, *statuses: int) -> None:
        assert page.status_code in (statuses or (200,)), (what, page.status_code, page.text[:800])
        # the roll and the change list are swapped into the lesson page
        fragment = page.request.url.path.endswith(("/roll", "/changes"))
        assert fragment or 'lang="tr"' in page.text, what
        english = english_in(visible_text(page.text, "tr"), self.data)
        if english:
            self.problems[what] = english
        route = matching_route(self.api, page.request)
        if route:
            self.routes.add(route)


def page_routes(api: Api) -> Iterator[PageRoute]:
    """The routes of the pages that answer with HTML (not downloads, streams or JSON)."""
    for route in api.app.routes:
        for inner in getattr(getattr(route, "original_router", None), "routes", [route]):
            if not isinstance(inner, PageRoute):
                continue
            if getattr(inner.response_class, "__name__", "") == "HTMLResponse":
                yield inner


def matching_route(api: Api, request: httpx.Request) -> tuple[str, str] | None:
    for route in page_routes(api):
        if request.method in (route.methods or ()) and route.path_regex.match(request.url.path):
            return request.method, route.path
    return None


def turkish(client: httpx.AsyncClient) -> httpx.AsyncClient:
    client.headers["Accept-Language"] = "tr-TR,tr;q=0.9"
    return client


async def test_every_page_in_turkish_is_all_turkish(api: Api, clock: Clock) -> None:
    teacher = await api.add_user("teacher", "T1001", TEACHER_NAME)
    elif_ = await api.add_user("student", "S2001", "Elif Kaya")
    can = await api.add_user("student", "S2002", "Can Öztürk")
    zeynep = await api.add_user("student", "S2003", "Zeynep Arslan")
    selin = await api.add_user("student", "S2004", "Selin Koç")
    admin = await api.add_user("admin", "A3001", "Deniz Aydın")
    numbers = ["T1001", "S2001", "S2002", "S2003", "S2004", "A3001"]
    teacher_headers = await api.login(teacher)
    roster = "school_number,full_name\nS2001,Elif Kaya\nS2002,Can Öztürk\n"
    put = await api.client.put(
        f"/teacher/rosters/{LESSON}",
        content=roster.encode(),
        headers={**teacher_headers, "Content-Type": "text/csv"},
    )
    assert put.status_code == 200, put.text
    # a finished lesson Elif attended, and a live one with a code
    first = await api.start_lesson(teacher_headers, LESSON)
    elif_headers = await api.login(elif_)
    joined = await api.client.post(
        f"/student/lessons/{first['lesson_id']}/attendance", headers=elif_headers
    )
    assert joined.status_code == 201, joined.text
    finished = await api.client.post(
        f"/teacher/lessons/{first['lesson_id']}/finish", headers=teacher_headers
    )
    assert finished.status_code == 200, finished.text
    started = await api.client.post(
        "/teacher/lessons",
        json={"lesson_name": LESSON, "duration_minutes": 60, "security": ["code"]},
        headers=teacher_headers,
    )
    assert started.status_code == 201, started.text
    live = started.json()["lesson_id"]
    code = code_at(api, live, window_now(api, clock))
    joined = await api.client.post(
        f"/student/lessons/{live}/attendance", json={"code": code}, headers=elif_headers
    )
    assert joined.status_code == 201, joined.text
    rejected = await api.client.patch(
        f"/teacher/lessons/{live}/records/{elif_.school_number}",
        json={"status": "rejected", "reason": REASONS[0]},
        headers=teacher_headers,
    )
    assert rejected.status_code == 200, rejected.text
    added = await api.client.post(
        f"/teacher/lessons/{live}/records",
        json={"student_number": zeynep.school_number, "status": "excused", "reason": REASONS[1]},
        headers=teacher_headers,
    )
    assert added.status_code == 201, added.text

    visit = Visit(api, DATA + REASONS + numbers + [code, live, first["lesson_id"]])
    async with turkish(page_browser(api.app)) as pages:
        await visit_sign_in(visit, pages, teacher.school_number)
    async with turkish(page_browser(api.app)) as pages:
        await sign_in(pages, teacher.school_number)
        await visit_teacher(visit, pages, live, first["lesson_id"])
    async with turkish(page_browser(api.app)) as pages:
        await sign_in(pages, can.school_number)
        await visit_student(visit, pages, live, code)
    async with turkish(page_browser(api.app)) as pages:
        await sign_in(pages, selin.school_number)
        join = await pages.get(f"/join/{live}")
        refused = await pages.post(
            f"/student/lessons/{live}/join", data={"csrf": csrf_of(join), "code": "000000"}
        )
        visit.check("a refused check-in", refused, 403)
    async with turkish(page_browser(api.app)) as pages:
        await sign_in(pages, admin.school_number)
        await visit_admin(visit, pages)

    assert not visit.problems, visit.problems
    every = {(method, route.path) for route in page_routes(api) for method in route.methods or ()}
    unvisited = every - visit.routes - {("GET", "/")}  # `/` only sends on to a start page
    # the LTI pages need a learning platform: tests/lti/test_lti_pages_in_turkish.py
    unvisited = {(m, path) for m, path in unvisited if not path.startswith(("/lti/", "/admin/lti"))}
    assert not unvisited, f"pages this test does not render in Turkish yet: {unvisited}"


async def visit_sign_in(visit: Visit, pages: httpx.AsyncClient, number: str) -> None:
    form = await pages.get("/login")
    visit.check("/login", form)
    visit.check("/login?expired=1", await pages.get("/login?expired=1"))
    wrong = await pages.post(
        "/login",
        data={"sign_in_token": sign_in_token_of(form), "school_number": number, "password": "x"},
    )
    visit.check("a wrong password", wrong, 401)
    stale = await pages.post(
        "/login", data={"sign_in_token": "", "school_number": number, "password": "x"}
    )
    visit.check("an expired sign-in form", stale, 403)
    bad = await pages.post(
        "/login",
        data={"sign_in_token": sign_in_token_of(form), "school_number": "\x07", "password": "x"},
    )
    visit.check("a refused sign-in", bad, 422)


async def visit_teacher(visit: Visit, pages: httpx.AsyncClient, live: str, done: str) -> None:
    for path in (
        "/teacher",
        f"/teacher/lessons/{live}",
        f"/teacher/lessons/{done}",
        f"/teacher/lessons/{live}/roll",
        f"/teacher/lessons/{live}/changes",
        f"/teacher/lessons/{live}/finish",
        "/teacher/rosters",
        f"/teacher/rosters/{LESSON}",
        f"/teacher/lessons/{live}/projector",
        "/teacher/history",
        f"/teacher/course?name={LESSON}",
        "/teacher/course?name=Yok",
    ):
        visit.check(path, await pages.get(path))
    visit.check("an unknown lesson", await pages.get("/teacher/lessons/nope"), 404)
    visit.check("a bad page number", await pages.get("/teacher/history?page=-1"), 422)
    csrf = csrf_of(await pages.get("/teacher"))
    form: dict[str, Any] = {"csrf": csrf, "lesson_name": "Kimya", "duration_minutes": "60"}
    visit.check("a second active lesson", await pages.post("/teacher/start", data=form), 422)
    form |= {"subnets": "10.0.0.0/33"}
    visit.check("a refused start", await pages.post("/teacher/start", data=form), 422)
    unknown = await pages.post(
        f"/teacher/lessons/{live}/add", data={"csrf": csrf, "student_number": "S9999"}
    )
    visit.check("an unknown student", unknown, 422)
    bogus = await pages.post(
        f"/teacher/lessons/{live}/records/S2001", data={"csrf": csrf, "status": "bogus"}
    )
    visit.check("a refused correction", bogus, 422)
    unreasoned = await pages.post(
        f"/teacher/lessons/{live}/records/S2001", data={"csrf": csrf, "status": "rejected"}
    )
    visit.check("a rejection without a reason", unreasoned, 422)
    bad_roster = "school_number,full_name\nS2001,Elif Kaya\nbad number!,\n"
    preview = await pages.post(
        "/teacher/rosters/preview",
        data={"csrf": csrf, "course": LESSON, "csv_text": bad_roster},
    )
    visit.check("a roster preview with bad lines", preview, 422)
    good_roster = (
        "school_number,full_name\nS2001,Elif Kaya\nS2002,Can Öztürk\nS2003,Zeynep Arslan\n"
    )
    preview = await pages.post(
        "/teacher/rosters/preview",
        data={"csrf": csrf, "course": LESSON, "csv_text": good_roster},
    )
    visit.check("a roster preview", preview)
    broken = await pages.post(
        "/teacher/rosters/apply", data={"csrf": csrf, "course": LESSON, "csv_b64": "%%"}
    )
    visit.check("a broken roster confirmation", broken, 422)
    for action in ("remove", "delete"):
        refused = await pages.post(
            f"/teacher/rosters/{action}",
            data={"csrf": csrf, "course": "Yok", "student_number": "S2001"},
        )
        visit.check(f"a refused roster {action}", refused, 404, 422)
    weights = await pages.post(
        f"/teacher/course/weights?name={LESSON}", data={"csrf": csrf, "w_present": "abc"}
    )
    visit.check("refused weights", weights, 422)
    made = await pages.post(f"/teacher/lessons/{live}/projector-link", data={"csrf": csrf})
    assert made.status_code == 303, made.text
    link = re.search(
        r"/projector/([A-Za-z0-9_.-]+)", (await pages.get(f"/teacher/lessons/{live}")).text
    )
    assert link, "the lesson page shows its projector link"
    async with turkish(page_browser(visit.api.app)) as classroom:
        visit.check("the projector link", await classroom.get(f"/projector/{link.group(1)}"))
    forged = await pages.post(
        f"/teacher/lessons/{live}/finish",
        data={"csrf": csrf},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    visit.check("a form from another site", forged, 403)


async def visit_admin(visit: Visit, pages: httpx.AsyncClient) -> None:
    """The administration pages, their refusals and a one-time password's answer (an
    account made, a password reset, one deactivated first, so the audit has changes)."""
    csrf = csrf_of(await pages.get("/admin"))
    visit.data += ["Ece Yıldız", "S2099"]
    created = await pages.post(
        "/admin/users/new",
        data={"csrf": csrf, "school_number": "S2099", "full_name": "Ece Yıldız", "role": "student"},
    )
    visit.data.append(_one_time_password(created))
    visit.check("a new user's one-time password", created)
    account = await pages.get("/admin/users/S2004")
    fields = dict(re.findall(r'name="(csrf|version)" value="([^"]*)"', account.text))
    gone = await pages.post("/admin/users/S2004/active", data={"csrf": csrf, "active": "0"})
    assert gone.status_code == 303, gone.text
    stale = await pages.post("/admin/users/S2004/password", data=fields)
    visit.check("a password form sent again", stale, 409)
    reset = await pages.post(
        "/admin/users/S2004/password",
        data={**fields, "version": _version(await pages.get("/admin/users/S2004"))},
    )
    visit.data.append(_one_time_password(reset))
    visit.check("a reset's one-time password", reset)
    for path in (
        "/admin",
        "/admin?q=elif&role=student&active=yes",
        "/admin?active=no",
        "/admin/users/S2004",
        "/admin/users/S2004?done=deactivated",
        "/admin/users/S2001?done=password_set",
        "/admin/users/A3001",
        "/admin/users/new",
        "/admin/import",
        "/admin/import?imported=2&claimed=1",
        "/admin/audit",
        "/admin/audit?number=S2004",
    ):
        visit.check(path, await pages.get(path))
    visit.check("a bad role filter", await pages.get("/admin?role=janitor"), 422)
    visit.check("an unknown account", await pages.get("/admin/users/S9999"), 404)
    for data, status in (
        ({"school_number": "T1001", "full_name": "Ece Yıldız", "role": "teacher"}, 409),
        ({"school_number": "S2098", "full_name": " ", "role": "student"}, 422),
        ({"school_number": "S2098", "full_name": "Ece Yıldız", "role": "janitor"}, 422),
    ):
        refused = await pages.post("/admin/users/new", data={"csrf": csrf, **data})
        visit.check(f"a refused new user ({status})", refused, status)
    blank = await pages.post(
        "/admin/users/S2001", data={"csrf": csrf, "full_name": "", "role": "student"}
    )
    visit.check("a refused name", blank, 422)
    last = await pages.post("/admin/users/A3001/active", data={"csrf": csrf, "active": "0"})
    visit.check("the last administrator kept", last, 409)
    bad_import = "school_number,full_name,role,password\nS2001,Elif Kaya,student,x\nbad!,A,b,c\n"
    preview = await pages.post("/admin/import/preview", data={"csrf": csrf, "csv_text": bad_import})
    visit.check("an import preview with bad rows", preview, 422)
    good_import = "school_number,full_name,role,password\nS2097,Ece Yıldız,student,\n"
    visit.data.append("S2097")
    preview = await pages.post(
        "/admin/import/preview", data={"csrf": csrf, "csv_text": good_import}
    )
    visit.check("an import preview", preview)
    broken = await pages.post("/admin/import", data={"csrf": csrf, "csv_b64": "%%"})
    visit.check("a broken import confirmation", broken, 422)


def _one_time_password(page: httpx.Response) -> str:
    found = re.search(r'id="one-time-password" class="otp"[^>]*>([^<]+)<', page.text)
    assert found, page.text[:800]
    return found.group(1)


def _version(page: httpx.Response) -> str:
    found = re.search(r'name="version" value="(\d+)"', page.text)
    assert found, page.text[:800]
    return found.group(1)


async def visit_student(visit: Visit, pages: httpx.AsyncClient, live: str, code: str) -> None:
    for path in (
        "/student",
        f"/student?lesson_name={LESSON}&teacher_name={TEACHER_NAME}",
        "/student?lesson_name=Yok&teacher_name=Kimse",
        f"/join/{live}?code={code}",
        "/student/history",
    ):
        visit.check(path, await pages.get(path))
    join = await pages.get(f"/join/{live}?code={code}")
    joined = await pages.post(
        f"/student/lessons/{live}/join", data={"csrf": csrf_of(join), "code": code}
    )
    visit.check("a check-in", joined)
    visit.check("/student/history after", await pages.get("/student/history"))
    visit.check("an unknown join link", await pages.get("/join/nope"), 200, 404)


IDP_METADATA = (
    '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
    'entityID="https://idp.example/metadata"><md:IDPSSODescriptor '
    'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
    '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
    'Location="https://idp.example/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>'
)
SAML_PAGES = {("POST", "/sso/saml/start"), ("POST", "/sso/saml/acs"), ("GET", "/sso/saml/finish")}


async def test_the_saml_pages_in_turkish_are_all_turkish(
    make_api: Callable[..., Any], tmp_path: Path
) -> None:
    """With SAML configured: the sign-in page with its button, and each SAML page's refusal
    (a forged sign-in form, a junk post to the ACS, a junk hand-over ticket)."""
    metadata = tmp_path / "idp-metadata.xml"
    metadata.write_text(IDP_METADATA)
    async with make_api(SAML_IDP_METADATA=str(metadata), SAML_PROVIDER_NAME="Kampüs") as api:
        visit = Visit(api, [*DATA, "Kampüs"])
        async with turkish(page_browser(api.app)) as pages:
            form = await pages.get("/login")
            visit.check("/login with SAML", form)
            assert "Kampüs ile giriş yap" in form.text
            forged = await pages.post("/sso/saml/start", data={"sign_in_token": "x"})
            visit.check("a forged SAML start", forged, 403)
            junk = await pages.post(
                "/sso/saml/acs",
                data={"SAMLResponse": "junk"},
                headers={"Sec-Fetch-Site": "cross-site"},
            )
            visit.check("a junk post to the ACS", junk, 401)
            visit.check("a junk ticket", await pages.get("/sso/saml/finish?ticket=x"), 401)
    assert not visit.problems, visit.problems
    every = {(method, route.path) for route in page_routes(api) for method in route.methods or ()}
    assert every & SAML_PAGES == SAML_PAGES <= visit.routes


@pytest.mark.parametrize(
    ("text", "english"),
    [
        ("Ders adı: boş olamaz.", []),
        ("Sign in", ["Sign in", "Sign"]),
        ("Katılım %100", []),
        ("Katılım 100%", ["0%"]),
        ("15 Jan 2030 14:00", ["Jan"]),
        ("Elif Kaya — the lesson", ["lesson", "the"]),
    ],
)
def test_the_check_finds_english(text: str, english: list[str]) -> None:
    assert sorted(english_in(text, DATA)) == sorted(english)


async def test_the_oidc_sign_in_pages_in_turkish(make_api: Any) -> None:
    """The sign-in page with its "Sign in with ..." button, the start's refusals and the
    callback's failure page, with a provider that is not there (so nothing reaches it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    oidc = {
        "OIDC_ISSUER": f"http://127.0.0.1:{closed}",
        "OIDC_CLIENT_ID": "attn",
        "OIDC_CLIENT_SECRET": "attn-secret",
        "OIDC_PROVIDER_NAME": "Üniversite",
    }
    async with make_api(**oidc) as api:
        visit = Visit(api, [*DATA, "Üniversite"])
        async with turkish(page_browser(api.app)) as pages:
            form = await pages.get("/login")
            visit.check("/login with single sign-on", form)
            assert "Üniversite ile giriş yap" in form.text
            forged = await pages.post("/sso/oidc/start", data={"sign_in_token": "x", "next": "/"})
            visit.check("an OIDC start from a form not opened here", forged, 403)
            away = await pages.post(
                "/sso/oidc/start", data={"sign_in_token": sign_in_token_of(form), "next": "/"}
            )
            visit.check("an OIDC start with the provider away", away, 503)
            failed = await pages.get("/sso/oidc/callback", params={"state": "x", "code": "y"})
            visit.check("an OIDC callback refused", failed, 401)
            assert "Üniversite üzerinden giriş yapılamadı." in failed.text
            said = await pages.get("/sso/oidc/callback", params={"error": "access_denied"})
            visit.check("an OIDC callback with the provider's error", said, 401)
        assert not visit.problems, visit.problems
        oidc_routes = {
            (method, route.path)
            for route in page_routes(api)
            if route.path.startswith("/sso/oidc/")
            for method in route.methods or ()
        }
        assert oidc_routes == {("POST", "/sso/oidc/start"), ("GET", "/sso/oidc/callback")}
        assert not oidc_routes - visit.routes
