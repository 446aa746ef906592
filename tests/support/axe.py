"""Accessibility checks of a page in the browser tests: axe-core run in the page, and what
a phone and the keyboard need (no sideways scrolling, a visible focus ring).

axe-core (`tests.support.axe_source`, pinned and checked) is put into the page with
`page.evaluate(source)`. The pages' CSP allows no inline script, so `add_script_tag(content=...)`
is refused by the page; an evaluation sent by Playwright over the DevTools protocol is not
subject to the page's CSP, so the page and its headers stay exactly as users get them (no
`bypass_csp` context). `assert_accessible` fails listing each serious or critical violation
(rule id, help, the nodes' selectors) and writes axe's full results to test-artifacts/axe/.
"""

from __future__ import annotations

import json
import re
from typing import Any

from playwright.sync_api import Page

from tests.support.axe_source import AxeUnavailable, axe_script
from tests.support.browser import ARTIFACTS

AXE_RESULTS = ARTIFACTS / "axe"
SEVERE = ("serious", "critical")
# WCAG 2.0/2.1 A and AA rules, and axe's best practices (landmarks, headings, skip link).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]

RUN_AXE = """
async tags => {
  const results = await window.axe.run(document, { runOnly: { type: "tag", values: tags } });
  return JSON.parse(JSON.stringify(results));
}
"""

# How far the page scrolls sideways, and the outermost elements that end past the viewport.
OVERFLOW = """
() => {
  const width = window.innerWidth;
  const culprits = [];
  const clipped = el => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== "visible") return true;
    }
    return false;
  };
  for (const el of document.body.querySelectorAll("*")) {
    if (clipped(el)) continue;
    const box = el.getBoundingClientRect();
    const parent = el.parentElement && el.parentElement.getBoundingClientRect();
    if (box.width > 0 && box.right > width + 0.5 && (!parent || parent.right <= width + 0.5)) {
      const classes = typeof el.className === "string" ? el.className.trim() : "";
      const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
        (classes ? "." + classes.replace(/\\s+/g, ".") : "");
      culprits.push(name + " ends at " + Math.round(box.right) + "px");
    }
  }
  return {
    scrollWidth: document.scrollingElement.scrollWidth,
    innerWidth: width,
    culprits: culprits.slice(0, 5),
  };
}
"""

# The focused element's outline as the page draws it (:focus-visible applies to keyboard focus).
FOCUS_RING = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  // what the ring is drawn on: the nearest ancestor with a background of its own
  let behind = "rgb(255, 255, 255)";
  for (let up = el.parentElement; up; up = up.parentElement) {
    const color = getComputedStyle(up).backgroundColor;
    if (color !== "transparent" && color !== "rgba(0, 0, 0, 0)") { behind = color; break; }
  }
  return {
    behind,
    element: el.outerHTML.slice(0, 120),
    focusVisible: el.matches(":focus-visible"),
    outlineStyle: style.outlineStyle,
    outlineWidth: parseFloat(style.outlineWidth) || 0,
    outlineColor: style.outlineColor,
  };
}
"""


def _luminance(css_color: str) -> float:
    """The relative luminance (WCAG 2.1) of a computed `rgb(...)`/`rgba(...)` colour."""
    red, green, blue = (int(part) / 255 for part in re.findall(r"[\d.]+", css_color)[:3])

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast(first: str, second: str) -> float:
    """The WCAG contrast ratio of two computed colours (1 to 21)."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def axe_source() -> str:
    """axe.min.js; raises AxeUnavailable (with the reason) when it cannot be had."""
    return axe_script()


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def axe_results(page: Page, source: str) -> dict[str, Any]:
    """Run axe-core in the page (injected once per document) and return its results."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(source)
    results: dict[str, Any] = page.evaluate(RUN_AXE, TAGS)
    return results


def severe_violations(results: dict[str, Any]) -> list[str]:
    """Each serious or critical violation: its rule, its help, and where."""
    found = []
    for violation in results["violations"]:
        if violation["impact"] not in SEVERE:
            continue
        targets = ", ".join(" ".join(map(str, node["target"])) for node in violation["nodes"][:6])
        found.append(
            f"{violation['impact']} {violation['id']}: {violation['help']} [{targets}]"
            f" ({violation['helpUrl']})"
        )
    return found


def accessibility_problems(page: Page, name: str, source: str) -> list[str]:
    """The serious and critical axe violations of the page as shown now, each prefixed by
    `name`; axe's full results are written to test-artifacts/axe/<name>.json."""
    results = axe_results(page, source)
    AXE_RESULTS.mkdir(parents=True, exist_ok=True)
    (AXE_RESULTS / f"{_slug(name)}.json").write_text(
        json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8"
    )
    return [f"{name} ({page.url}): {line}" for line in severe_violations(results)]


def assert_accessible(page: Page, name: str, source: str | None = None) -> None:
    """Fail listing every serious or critical axe violation of the page."""
    problems = accessibility_problems(page, name, source or axe_source())
    assert not problems, "\n".join(problems)


def overflow_problem(page: Page, name: str) -> str | None:
    """What scrolls the page sideways at its current size, or None when it fits."""
    measured = page.evaluate(OVERFLOW)
    if measured["scrollWidth"] <= measured["innerWidth"]:
        return None
    culprits = ", ".join(measured["culprits"]) or "unknown"
    return (
        f"{name} ({page.url}): the page scrolls sideways, scrollWidth {measured['scrollWidth']}"
        f" > innerWidth {measured['innerWidth']}; overflowing: {culprits}"
    )


def focus_ring(page: Page) -> dict[str, Any] | None:
    """The focused element and its computed outline, or None when nothing has focus."""
    ring: dict[str, Any] | None = page.evaluate(FOCUS_RING)
    return ring


__all__ = [
    "AxeUnavailable",
    "accessibility_problems",
    "assert_accessible",
    "axe_results",
    "axe_source",
    "contrast",
    "focus_ring",
    "overflow_problem",
    "severe_violations",
]
