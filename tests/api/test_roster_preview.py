"""Roster uploads the page builds on: every bad line listed (not only the first), a preview of
what an upload changes, a confirmation bound to that preview, and one student removed."""

from __future__ import annotations

import httpx

from tests.support.api import Api, Headers
from tests.support.corrections import detail_type, error_code

FIRST = "school_number,full_name\nR1,Ann Bell\nR2,Bob Stone\nR3,Cem Ak\n"
SECOND = "school_number,full_name\nR1,Ann Bell\nR2,Bob Stone-Ray\nR4,Dilek Şen\n"


async def send(
    api: Api, method: str, path: str, headers: Headers, body: str | bytes = ""
) -> httpx.Response:
    return await api.client.request(
        method,
        path,
        content=body.encode() if isinstance(body, str) else body,
        headers={**headers, "Content-Type": "text/csv"},
    )


async def test_every_bad_line_is_listed_with_its_number_and_in_words(api: Api) -> None:
    _, headers = await api.user_headers("teacher")
    teacher, _ = await api.user_headers("teacher")
    bad = (
        "school_number,full_name\n"
        "R1,Ann Bell\n"
        "-R2,Bob\n"  # 3: not a school number
        "R3,   \n"  # 4: no name
        "R1,Ann Again\n"  # 5: twice
        "R5,Eda,extra\n"  # 6: three columns
        f"{teacher.school_number},A Teacher\n"  # 7: a teacher's account
    )
    response = await send(api, "PUT", "/teacher/rosters/Logic", headers, bad)
    assert response.status_code == 422, response.text
    assert error_code(response) == "validation_error"
    assert detail_type(response) == "invalid_roster"
    details = response.json()["error"]["details"]
    assert [(item["line"], item["problem"]) for item in details] == [
        (3, "number"),
        (4, "name"),
        (5, "duplicate"),
        (6, "columns"),
        (7, "not_student"),
    ]
    assert all(item["type"] == "invalid_roster" for item in details)
    messages = [item["msg"] for item in details]
    assert messages[0].startswith('Line 3: "-R2" is not a school number')
    assert messages[1] == "Line 4: the full name is empty."
    assert messages[2] == "Line 5: R1 appears twice (first on line 2)."
    assert "found 3" in messages[3]
    assert "account of a teacher" in messages[4]
    assert "5 problems" in response.json()["error"]["message"]
    assert (await api.client.get("/teacher/rosters/Logic", headers=headers)).status_code == 404

    preview = await send(api, "POST", "/teacher/rosters/Logic/preview", headers, bad)
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert [item["line"] for item in body["errors"]] == [3, 4, 5, 6, 7]
    assert body["digest"] is None
    assert body["exists"] is False
    assert (await api.client.get("/teacher/rosters/Logic", headers=headers)).status_code == 404

    header = await send(api, "POST", "/teacher/rosters/Logic/preview", headers, "a,b\nR1,Ann\n")
    assert [(e["line"], e["problem"]) for e in header.json()["errors"]] == [(1, "header")]


async def test_a_preview_says_what_changes_and_its_confirmation_applies_exactly_that(
    api: Api,
) -> None:
    _, headers = await api.user_headers("teacher")
    assert (await send(api, "PUT", "/teacher/rosters/Logic", headers, FIRST)).status_code == 200
    preview = await send(api, "POST", "/teacher/rosters/logic/preview", headers, SECOND)
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["course"] == "logic" and body["exists"] is True
    assert body["added"] == [{"school_number": "R4", "full_name": "Dilek Şen"}]
    assert body["removed"] == [{"school_number": "R3", "full_name": "Cem Ak"}]
    assert body["renamed"] == [
        {"school_number": "R2", "old_name": "Bob Stone", "new_name": "Bob Stone-Ray"}
    ]
    assert body["unchanged"] == 1
    assert body["errors"] == []
    digest = body["digest"]
    assert isinstance(digest, str) and len(digest) == 64
    # nothing stored by a preview
    got = (await api.client.get("/teacher/rosters/Logic", headers=headers)).json()
    assert [s["school_number"] for s in got["students"]] == ["R1", "R2", "R3"]

    # the roster changes meanwhile: the preview's confirmation is refused
    other = "school_number,full_name\nR1,Ann Bell\n"
    assert (await send(api, "PUT", "/teacher/rosters/Logic", headers, other)).status_code == 200
    stale = await send(
        api, "PUT", f"/teacher/rosters/Logic?expected_digest={digest}", headers, SECOND
    )
    assert stale.status_code == 409, stale.text
    assert error_code(stale) == "roster_changed"
    got = (await api.client.get("/teacher/rosters/Logic", headers=headers)).json()
    assert [s["school_number"] for s in got["students"]] == ["R1"]

    # a fresh preview, confirmed: exactly its CSV, and only that CSV
    digest = (await send(api, "POST", "/teacher/rosters/Logic/preview", headers, SECOND)).json()[
        "digest"
    ]
    other_csv = await send(
        api, "PUT", f"/teacher/rosters/Logic?expected_digest={digest}", headers, FIRST
    )
    assert other_csv.status_code == 409
    applied = await send(
        api, "PUT", f"/teacher/rosters/Logic?expected_digest={digest}", headers, SECOND
    )
    assert applied.status_code == 200, applied.text
    assert [s["school_number"] for s in applied.json()["students"]] == ["R1", "R2", "R4"]
    malformed = await send(api, "PUT", "/teacher/rosters/Logic?expected_digest=xyz", headers, FIRST)
    assert malformed.status_code == 422


async def test_one_student_is_removed_from_a_roster(api: Api) -> None:
    _, headers = await api.user_headers("teacher")
    _, stranger = await api.user_headers("teacher")
    course = "Physics/Chemistry"
    assert (await send(api, "PUT", f"/teacher/rosters/{course}", headers, FIRST)).status_code == 200
    hidden = await api.client.delete(f"/teacher/rosters/{course}/students/R2", headers=stranger)
    assert hidden.status_code == 404 and error_code(hidden) == "roster_not_found"
    removed = await api.client.delete(f"/teacher/rosters/{course}/students/R2", headers=headers)
    assert removed.status_code == 204, removed.text
    got = (await api.client.get(f"/teacher/rosters/{course}", headers=headers)).json()
    assert [s["school_number"] for s in got["students"]] == ["R1", "R3"]
    again = await api.client.delete(f"/teacher/rosters/{course}/students/R2", headers=headers)
    assert again.status_code == 404 and error_code(again) == "student_not_found"
    bad = await api.client.delete(f"/teacher/rosters/{course}/students/-x", headers=headers)
    assert bad.status_code == 422
    missing = await api.client.delete("/teacher/rosters/Nothing/students/R1", headers=headers)
    assert missing.status_code == 404 and error_code(missing) == "roster_not_found"
