"""One set of counters: a lesson with a record of every status shows the same counts in the
API, on the roll page and its live fragment, in the projector's JSON, on the history page and
in the CSV and XLSX exports, while it is live and after it is persisted."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.api import Api, Headers
from tests.support.corrections import (
    VerifierApi,
    correct,
    finish,
    lesson_counts,
    pending_lesson,
    persist,
)
from tests.support.numbers import counts_in, csv_rows, page_client, tally, xlsx_rows


async def shown_everywhere(
    api: Api, headers: Headers, pages: httpx.AsyncClient, lesson_id: str
) -> list[tuple[str, dict[str, int]]]:
    """The lesson's counters as each place shows them."""
    shown: list[tuple[str, dict[str, int]]] = [
        ("api lesson", await lesson_counts(api, headers, lesson_id))
    ]
    listed = await api.client.get("/teacher/lessons", headers=headers)
    [item] = [item for item in listed.json() if item["lesson_id"] == lesson_id]
    assert item["attendee_count"] == item["counts"]["attended"]
    shown.append(("api list", item["counts"]))
    page = await pages.get(f"/teacher/lessons/{lesson_id}")
    assert page.status_code == 200, page.text
    [on_page] = counts_in(page.text)
    shown.append(("roll page", on_page))
    fragment = await pages.get(f"/teacher/lessons/{lesson_id}/roll")
    [in_fragment] = counts_in(fragment.text)
    shown.append(("roll fragment", in_fragment))
    projector = (await pages.get(f"/teacher/lessons/{lesson_id}/projector.json")).json()
    assert projector["count"] == projector["counts"]["attended"]
    shown.append(("projector", projector["counts"]))
    history = await pages.get("/teacher/history")
    [row] = [row for row in history.text.split("<tr>") if lesson_id in row]
    [in_history] = counts_in(row)
    shown.append(("history page", in_history))
    rows = csv_rows(await pages.get(f"/teacher/lessons/{lesson_id}/export.csv"))
    shown.append(("csv", tally([row[2] for row in rows[1:]])))
    sheet = xlsx_rows(await pages.get(f"/teacher/lessons/{lesson_id}/export.xlsx"))
    shown.append(("xlsx", tally([row[2].value for row in sheet[1:]])))
    return shown


def assert_all(shown: list[tuple[str, dict[str, int]]], expected: dict[str, Any]) -> None:
    for place, counts in shown:
        assert counts == expected, (place, counts, expected)


async def test_every_place_shows_the_same_counts_live_and_persisted(vapi: VerifierApi) -> None:
    api = vapi.api
    lesson, headers, joined = await pending_lesson(api, students=6)
    lesson_id = lesson["lesson_id"]
    decisions: list[dict[str, Any]] = [
        {"status": "present"},
        {"status": "late"},
        {"status": "rejected", "reason": "not in the room"},
        {"status": "excused", "reason": "doctor's note"},
        {"status": "absent"},
    ]  # the sixth check-in stays pending
    for (student, _), body in zip(joined, decisions, strict=False):
        response = await correct(api, headers, lesson_id, student.school_number, body)
        assert response.status_code == 200, response.text

    async with page_client(api, headers) as pages:
        live = await shown_everywhere(api, headers, pages, lesson_id)
        assert_all(live, tally(["present", "late", "rejected", "excused", "absent", "pending"]))

        await finish(api, headers, lesson_id)
        await persist(api, lesson_id)
        # the check-in the verifier never answered is rejected when the lesson is persisted
        persisted = await shown_everywhere(api, headers, pages, lesson_id)
        assert_all(
            persisted, tally(["present", "late", "rejected", "excused", "absent", "rejected"])
        )

        # a correction after persistence moves the SQL counts as it moved the live ones
        late_one = joined[1][0].school_number
        response = await correct(api, headers, lesson_id, late_one, {"status": "present"})
        assert response.status_code == 200, response.text
        corrected = await shown_everywhere(api, headers, pages, lesson_id)
        assert_all(
            corrected, tally(["present", "present", "rejected", "excused", "absent", "rejected"])
        )
