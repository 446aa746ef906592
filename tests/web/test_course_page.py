"""The course page's weights form: it sets the course's weights as the API does (a Turkish
decimal comma too), and refuses what is not a weight with the page again and a message."""

from __future__ import annotations

import re

from tests.support.api import Api
from tests.support.numbers import page_client


async def test_the_weights_form_sets_and_refuses_as_the_api_does(api: Api) -> None:
    _, teacher = await api.user_headers("teacher")
    async with page_client(api, teacher) as pages:
        page = await pages.get("/teacher/course", params={"name": "Kimya"})
        assert page.status_code == 200
        match = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
        assert match, page.text[:500]
        csrf = match.group(1)
        form = {
            "csrf": csrf,
            "w_present": "1",
            "w_late": "0,5",
            "w_pending": "0",
            "w_excused": "0",
            "x_excused": "1",
            "w_rejected": "0",
            "w_absent": "0",
        }
        saved = await pages.post("/teacher/course/weights", params={"name": "Kimya"}, data=form)
        assert saved.status_code == 303, saved.text
        assert saved.headers["location"] == "/teacher/course?name=Kimya#weights"
        got = await api.client.get("/teacher/courses/Kimya/weights", headers=teacher)
        assert got.json() == {
            "present": 1.0,
            "late": 0.5,
            "pending": 0.0,
            "excused": None,
            "rejected": 0.0,
            "absent": 0.0,
        }
        page = await pages.get("/teacher/course", params={"name": "Kimya", "lang": "tr"})
        assert 'value="0,5"' in page.text
        assert "geç ×0,5" in page.text  # noqa: RUF001 (the rule's multiplication sign)

        for bad in ({"w_late": "2"}, {"w_late": "a half"}, {"w_absent": ""}, {"x_present": "1"}):
            refused = await pages.post(
                "/teacher/course/weights", params={"name": "Kimya"}, data={**form, **bad}
            )
            assert refused.status_code == 422, bad
            assert "Her değer 0 ile 1 arasında bir sayıdır" in refused.text, bad
        still = await api.client.get("/teacher/courses/Kimya/weights", headers=teacher)
        assert still.json() == got.json()
