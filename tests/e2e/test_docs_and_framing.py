"""In a real browser: the API docs page works offline under its Content-Security-Policy, and
a page of another origin on the same site cannot frame the teacher's roll (with its Finish
button)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Route, expect

from tests.support.browser import Server
from tests.support.http_server import static_site

PASSWORD = "framing-test-password"
TEACHER = "T7701"
LESSON_URL = re.compile(r"/teacher/lessons/([0-9a-f]{32})$")


@pytest.fixture(scope="module")
def teacher(attn_server: Server) -> str:
    added = attn_server.attn(
        "users",
        "add",
        "--school-number",
        TEACHER,
        "--full-name",
        "Frame Teacher",
        "--role",
        "teacher",
        "--password-stdin",
        stdin=f"{PASSWORD}\n",
    )
    assert added.returncode == 0, added.stderr
    return TEACHER


def attacker_site(page: str) -> contextlib.AbstractContextManager[str]:
    """Another web server on this host (its own origin), serving `page`."""
    return static_site(page, "/prize.html")


def offline(context: BrowserContext, attn_server: Server) -> list[str]:
    """Refuse every request to anywhere but the server, as on a machine without internet;
    the refused addresses."""
    refused: list[str] = []
    ours = urlsplit(attn_server.base_url).netloc

    def only_ours(route: Route) -> None:
        if urlsplit(route.request.url).netloc == ours:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    context.route("**/*", only_ours)
    return refused


def test_the_api_docs_page_works_offline_under_its_csp(
    attn_server: Server, new_context: Callable[..., BrowserContext]
) -> None:
    context = new_context()
    refused = offline(context, attn_server)
    problems: list[str] = []
    page = context.new_page()
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto("/docs")
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/auth/login")).to_be_visible()
    # an operation opens, with its parameters, as Swagger UI's scripts and styles allow
    page.locator(".opblock-summary", has_text="/api/v1/auth/login").first.click()
    expect(page.get_by_role("button", name="Try it out")).to_be_visible()
    assert refused == []
    assert problems == []


def test_a_same_site_page_cannot_frame_the_teachers_roll(
    attn_server: Server, teacher: str, new_context: Callable[..., BrowserContext]
) -> None:
    context = new_context()
    page = context.new_page()
    page.goto("/login")
    page.locator("#school_number").fill(teacher)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(attn_server.url("/teacher"))
    page.get_by_label("Lesson name").fill("Framed")
    page.get_by_role("button", name="Start", exact=True).click()
    expect(page).to_have_url(LESSON_URL)
    roll = page.url
    expect(page.get_by_role("button", name="Finish the lesson")).to_be_visible()

    # another service on the same host (another port: the same site, so the session cookie
    # goes along) frames the roll
    framing = context.new_page()
    prize = f'<h1>Win a prize</h1><iframe id="roll" src="{roll}"></iframe>'
    with attacker_site(prize) as attacker:
        framing.goto(attacker)  # waits for the page's load, its frame's included
    expect(framing.locator("h1")).to_have_text("Win a prize")
    frame = framing.locator("#roll").element_handle().content_frame()
    assert frame is not None
    # the browser refused to show it: the frame holds its own error page, not the roll
    assert frame.url == "chrome-error://chromewebdata/"
    expect(framing.frame_locator("#roll").get_by_role("button")).to_have_count(0)
