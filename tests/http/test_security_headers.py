"""Browser security headers on every answer, Secure cookies and HSTS over https, and the API
docs page served from local files."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from tests.support.api import Api


@pytest.fixture
async def pages(api: Api) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app, raise_app_exceptions=False),
        base_url="http://testserver",
        headers={"accept": "text/html"},
    ) as client:
        yield client


def assert_security_headers(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff", response.url
    assert response.headers["x-frame-options"] == "DENY", response.url
    assert response.headers["referrer-policy"] == "same-origin", response.url
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "strict-transport-security" not in response.headers  # plain http


class InlineCode(HTMLParser):
    """Inline scripts, inline styles and event-handler attributes of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self._in_script = True
        if tag == "style":
            self.found.append("<style>")
        self.found += [f"{tag} {name}=" for name in names if name == "style" or name[:2] == "on"]

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.found.append(f"<script>{data.strip()[:40]}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


async def test_pages_have_a_strict_csp_no_framing_and_no_inline_code(
    api: Api, pages: httpx.AsyncClient
) -> None:
    _, teacher = await api.user_headers("teacher")
    lesson = await api.client.post(
        "/teacher/lessons",
        json={"lesson_name": "Headers", "duration_minutes": 30, "security": ["code"]},
        headers=teacher,
    )
    lesson_id = lesson.json()["lesson_id"]
    login = await pages.get("/login")
    assert login.status_code == 200
    pages.cookies.set("attn_session", teacher["Authorization"].removeprefix("Bearer "))
    shown = [login]
    for path in (
        "/teacher",
        f"/teacher/lessons/{lesson_id}",
        f"/teacher/lessons/{lesson_id}/projector",
        "/teacher/history",
    ):
        page = await pages.get(path)
        assert page.status_code == 200, path
        shown.append(page)
    for page in shown:
        assert_security_headers(page)
        policy = page.headers["content-security-policy"]
        for directive in (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        ):
            assert f"{directive};" in policy
        assert "unsafe-inline" not in policy
        # the policy forbids inline code, so no page may have any
        assert inline_code(page.text) == [], page.url


async def test_every_answer_has_nosniff_and_no_framing(api: Api, pages: httpx.AsyncClient) -> None:
    answers = [
        await api.client.get("http://testserver/healthz"),
        await api.client.post("/auth/login", json={"school_number": "S1", "password": "x"}),
        await api.client.get("/auth/me"),
        await api.client.get("http://testserver/nowhere"),
        await api.client.get("http://testserver/static/app.css"),
        await api.client.get("http://testserver/openapi.json"),
        await api.client.get("http://testserver/login", headers={"Host": "attacker"}),
        await api.client.get("http://testserver/healthz", headers={"x-big": "a" * 40_000}),
    ]
    for answer in answers:
        assert_security_headers(answer)


async def test_a_server_error_has_the_security_headers_too(
    api: Api, pages: httpx.AsyncClient
) -> None:
    await api.context.redis_client.redis.set("attn:session:{u:S500}", "not a session")
    failed = await pages.get("/api/v1/auth/me", headers={"Authorization": "Bearer S500.x"})
    assert failed.status_code == 500
    assert_security_headers(failed)
    assert failed.headers["connection"] == "close"


def set_cookies(response: httpx.Response) -> dict[str, str]:
    return {line.split("=", 1)[0]: line for line in response.headers.get_list("set-cookie")}


async def test_an_https_public_url_alone_sends_hsts_and_secure_cookies(
    make_api: Callable[..., Any],
) -> None:
    async with make_api(PUBLIC_URL="https://attn.example.edu") as api:
        teacher = await api.add_user("student")  # a student's phone gets the device cookie
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=api.app), base_url="https://attn.example.edu"
        ) as browser:
            login_page = await browser.get("/login?lang=tr")
            assert login_page.headers["strict-transport-security"] == "max-age=31536000"
            token = re.search(r'name="sign_in_token" value="([^"]+)"', login_page.text)
            assert token, login_page.text[:300]
            signed_in = await browser.post(
                "/login",
                data={
                    "sign_in_token": token.group(1),
                    "school_number": teacher.school_number,
                    "password": teacher.password,
                },
                follow_redirects=False,
            )
            assert signed_in.status_code == 303, signed_in.text
            assert "strict-transport-security" in signed_in.headers
            cookies = {**set_cookies(login_page), **set_cookies(signed_in)}
            for name in ("attn_session", "attn_signed_in", "attn_device", "attn_lang"):
                assert "; secure" in cookies[name].lower(), cookies[name]
                assert "samesite=lax" in cookies[name].lower()
            for name in ("attn_session", "attn_signed_in", "attn_device"):
                assert "httponly" in cookies[name].lower()
    # over plain http neither: a browser would drop a Secure cookie there
    async with make_api(PUBLIC_URL="http://testserver") as api:
        teacher = await api.add_user("student")  # a student's phone gets the device cookie
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=api.app), base_url="http://testserver"
        ) as browser:
            login_page = await browser.get("/login?lang=tr")
            token = re.search(r'name="sign_in_token" value="([^"]+)"', login_page.text)
            assert token, login_page.text[:300]
            signed_in = await browser.post(
                "/login",
                data={
                    "sign_in_token": token.group(1),
                    "school_number": teacher.school_number,
                    "password": teacher.password,
                },
                follow_redirects=False,
            )
            for answer in (login_page, signed_in):
                assert "strict-transport-security" not in answer.headers
                assert answer.headers.get_list("set-cookie")
                for line in answer.headers.get_list("set-cookie"):
                    assert "secure" not in line.lower(), line


class Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.urls.append(value)


async def test_the_api_docs_page_is_served_from_local_assets(api: Api) -> None:
    docs = await api.client.get("http://testserver/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
    assert inline_code(docs.text) == []
    assets = Assets()
    assets.feed(docs.text)
    assert len(assets.urls) >= 3
    for url in assets.urls:
        assert url.startswith("/"), f"{url} is not served by this server"
        fetched = await api.client.get(f"http://testserver{url}")
        assert fetched.status_code == 200, url
        assert fetched.content, url
    bundle = next(url for url in assets.urls if url.endswith("swagger-ui-bundle.js"))
    assert b"SwaggerUIBundle" in (await api.client.get(f"http://testserver{bundle}")).content
    # its own policy: Swagger UI's inline styles and data: images, here only
    policy = docs.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "style-src 'self' 'unsafe-inline';" in policy
    assert "frame-ancestors 'none'" in policy
    login = await api.client.get("http://testserver/login")
    assert "unsafe-inline" not in login.headers["content-security-policy"]
    # no ReDoc (it would need a looser policy still), and no CDN anywhere
    assert (await api.client.get("http://testserver/redoc")).status_code == 404
    assert "cdn" not in docs.text.lower()
