"""In Chromium: a registered learning platform's page may frame ATTN's LTI pages, and a page
of any other origin may not (the CSP's `frame-ancestors` names exactly the platforms)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from playwright.sync_api import BrowserContext, expect

from tests.support.browser import Server
from tests.support.cli import assert_ok, attn
from tests.support.database import Database
from tests.support.http_server import static_site
from tests.support.processes import child_environment


def site(page: str) -> contextlib.AbstractContextManager[str]:
    """Another web server on this host (its own origin), serving `page`."""
    return static_site(page, "")


def test_only_a_registered_platform_frames_the_lti_pages(
    attn_server: Server,
    database: Database,
    redis_url: str,
    new_context: Callable[..., BrowserContext],
) -> None:
    page_html = '<h1>Course</h1><iframe id="tool" src="{}"></iframe>'
    tool = attn_server.url("/lti/login")  # without its parameters: the LTI failure page
    with site(page_html.format(tool)) as platform, site(page_html.format(tool)) as other:
        env = child_environment(DATABASE_URL=database.url, REDIS_URL=redis_url)
        added = attn(
            "lti",
            "add-platform",
            "--issuer",
            platform,
            "--client-id",
            "c",
            "--auth-login-url",
            f"{platform}/auth",
            "--auth-token-url",
            f"{platform}/token",
            "--keyset-url",
            f"{platform}/jwks",
            "--deployment-id",
            "1",
            env=env,
        )
        assert_ok(added)
        platform_id = added.stdout.split(":")[0].removeprefix("platform ")
        try:
            browser_page = new_context().new_page()
            browser_page.goto(platform)
            frame = browser_page.locator("#tool").element_handle().content_frame()
            assert frame is not None and frame.url.startswith(attn_server.url("/lti/login"))
            expect(browser_page.frame_locator("#tool").locator("h1")).to_have_text(
                "The launch from your course failed"
            )
            browser_page.goto(other)
            frame = browser_page.locator("#tool").element_handle().content_frame()
            assert frame is not None
            assert frame.url == "chrome-error://chromewebdata/"
        finally:
            assert_ok(attn("lti", "remove", platform_id, env=env))
