"""The accessibility tooling itself: axe-core reports what it should (so a clean page is a
finding, not a blind spot), the overflow and focus-ring measures see what they should, and
the pinned download refuses a tarball that is not the registry's or an address that is not
https."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from tests.support import axe_source
from tests.support.axe import (
    accessibility_problems,
    contrast,
    focus_ring,
    overflow_problem,
    severe_violations,
)
from tests.support.page_tour import PHONE

# An image without a text alternative, pale grey text on white, an unlabelled field, and a
# block wider than a phone: each one a serious or critical violation, or sideways scrolling.
BROKEN_PAGE = """<!doctype html><html lang="en"><head><title>Broken</title>
<style>:focus-visible { outline: 1px dotted #eee; }</style></head>
<body><main><h1>Broken</h1>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<p style="color: #ccc">Hard to read</p>
<input id="unnamed">
<div style="width: 900px">Too wide</div>
</main></body></html>"""


def test_axe_reports_the_violations_of_a_broken_page(browser: Browser, axe_js: str) -> None:
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.set_content(BROKEN_PAGE)
        problems = "\n".join(accessibility_problems(page, "broken page", axe_js))
        for rule in ("image-alt", "color-contrast", "label"):
            assert f" {rule}: " in problems, problems
        overflow = overflow_problem(page, "broken page")
        assert overflow is not None and "div ends at" in overflow, overflow
        page.keyboard.press("Tab")
        ring = focus_ring(page)
        assert ring is not None and ring["element"].startswith("<input")
        assert contrast(ring["outlineColor"], ring["behind"]) < 3
    finally:
        context.close()


def test_only_serious_and_critical_violations_count() -> None:
    def violation(impact: str) -> dict[str, object]:
        return {
            "impact": impact,
            "id": f"rule-{impact}",
            "help": "help",
            "helpUrl": "https://example.invalid/",
            "nodes": [{"target": ["main > p"]}],
        }

    results = {"violations": [violation(i) for i in ("minor", "moderate", "serious", "critical")]}
    assert [line.split(":")[0] for line in severe_violations(results)] == [
        "serious rule-serious",
        "critical rule-critical",
    ]


def test_contrast_is_the_wcag_ratio() -> None:
    assert contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)") == pytest.approx(21)
    assert contrast("rgb(118, 118, 118)", "rgb(255, 255, 255)") == pytest.approx(4.54, abs=0.01)


def test_a_tarball_that_is_not_the_registrys_is_refused() -> None:
    with pytest.raises(axe_source.AxeUnavailable, match="does not match its registry integrity"):
        axe_source._check_integrity(b"not the axe-core tarball")


def test_only_https_is_fetched() -> None:
    with pytest.raises(axe_source.AxeUnavailable, match="not an https address"):
        axe_source.fetch("file:///etc/passwd")


def test_an_unreachable_registry_says_why() -> None:
    with pytest.raises(axe_source.AxeUnavailable, match="cannot download"):
        axe_source.fetch("https://127.0.0.1:9/axe-core.tgz")  # the discard port: refused
