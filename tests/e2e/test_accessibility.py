"""Every page, as the people who use it see it, passes axe-core (WCAG 2.1 A and AA and axe's
best practices) with no serious or critical violation, and fits a 360 px phone without
sideways scrolling; screenshots of each page at each size go to test-artifacts/screenshots/tour/.

The pages are the list `tests.support.page_tour.VISITS`: a new page is one more visit there.
"""

from __future__ import annotations

import pytest

from tests.support.axe import accessibility_problems, overflow_problem
from tests.support.browser import Server, add_people
from tests.support.page_tour import (
    PHONE,
    TOUR_PEOPLE,
    VISITS,
    build_scene,
    open_visit,
    tour_shot,
)
from tests.support.pages import NewContext


@pytest.fixture(scope="module")
def tour_people(attn_server: Server, tmp_path_factory: pytest.TempPathFactory) -> None:
    add_people(attn_server, TOUR_PEOPLE, tmp_path_factory.mktemp("tour"))


@pytest.mark.parametrize("lang", ["en", "tr"])
def test_every_page_passes_axe_and_fits_a_phone(
    attn_server: Server, new_context: NewContext, tour_people: None, axe_js: str, lang: str
) -> None:
    scene = build_scene(attn_server, new_context, lang)
    problems: list[str] = []
    for visit in VISITS:
        page = open_visit(scene, visit)
        for size in visit.sizes:
            page.set_viewport_size(size)
            where = f"{visit.name} ({lang}) at {size['width']}x{size['height']}"
            if size == PHONE:
                overflow = overflow_problem(page, where)
                if overflow is not None:
                    problems.append(overflow)
            problems += accessibility_problems(page, where, axe_js)
            tour_shot(page, f"{visit.name}-{lang}", size)
    assert not problems, "\n".join(problems)
