"""The roster pages without a browser: upload a CSV file (or paste it), see a preview of what
changes with every bad line listed, confirm exactly what was previewed (refused when the roster
changed meanwhile), remove one student, and delete the roster after a confirmation."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.api import Api
from tests.support.sign_in_form import csrf_of, page_browser, sign_in

FIRST = "school_number,full_name\r\nR1,Ann Bell\r\nR2,Bob Stone\r\nR3,Cem Ak\r\n"
SECOND = "school_number,full_name\nR1,Ann Bell\nR2,Bob Stone-Ray\nR4,Dilek Şen\n"


@pytest.fixture
async def browser(api: Api) -> AsyncIterator[httpx.AsyncClient]:
    teacher = await api.add_user("teacher")
    async with page_browser(api.app) as client:
        assert (await sign_in(client, teacher.school_number)).status_code == 303
        yield client


async def upload(
    browser: httpx.AsyncClient, course: str, csv: str | bytes, *, paste: bool = False
) -> httpx.Response:
    page = await browser.get("/teacher/rosters")
    data = {"csrf": csrf_of(page), "course": course}
    if paste:
        assert isinstance(csv, str)
        return await browser.post("/teacher/rosters/preview", data={**data, "csv_text": csv})
    body = csv.encode() if isinstance(csv, str) else csv
    return await browser.post(
        "/teacher/rosters/preview",
        data=data,
        files={"csv_file": ("roster.csv", body, "text/csv")},
    )


def confirmation(preview: httpx.Response) -> dict[str, str]:
    fields = dict(re.findall(r'name="(csrf|course|csv_b64|digest)" value="([^"]*)"', preview.text))
    assert set(fields) == {"csrf", "course", "csv_b64", "digest"}, preview.text[:800]
    return fields


def roster_numbers(page: httpx.Response) -> list[str]:
    return re.findall(r'<tr data-student="([^"]+)">', page.text)


async def test_an_upload_is_previewed_then_confirmed_exactly(
    api: Api, browser: httpx.AsyncClient
) -> None:
    new = await upload(browser, "Fizik 101", FIRST)
    assert new.status_code == 200, re.findall(r"<main.*</main>", new.text, re.S)
    assert "Added: 3" in new.text
    saved = await browser.post("/teacher/rosters/apply", data=confirmation(new))
    assert saved.status_code == 303
    assert saved.headers["location"] == "/teacher/rosters/Fizik%20101?saved=3"
    page = await browser.get(saved.headers["location"])
    assert "The roster is saved: 3 students." in page.text
    assert roster_numbers(page) == ["R1", "R2", "R3"]
    assert "/teacher/course?name=Fizik%20101" in page.text  # the course's statistics

    preview = await upload(browser, "fizik 101", SECOND, paste=True)
    assert preview.status_code == 200
    added = re.search(r'<ul class="names added">(.*?)</ul>', preview.text, re.S)
    removed = re.search(r'<ul class="names removed">(.*?)</ul>', preview.text, re.S)
    assert added and "Dilek Şen" in added.group(1) and "R4" in added.group(1)
    assert removed and "Cem Ak" in removed.group(1)
    assert "<td>Bob Stone</td><td>Bob Stone-Ray</td>" in preview.text
    assert "1 students stay as they are." in preview.text
    fields = confirmation(preview)
    # nothing stored by a preview
    assert roster_numbers(await browser.get("/teacher/rosters/Fizik 101")) == ["R1", "R2", "R3"]

    # another upload lands meanwhile: the old preview's confirmation is refused, with the news
    other = await upload(browser, "Fizik 101", "school_number,full_name\nR1,Ann Bell\n")
    landed = await browser.post("/teacher/rosters/apply", data=confirmation(other))
    assert landed.status_code == 303
    stale = await browser.post("/teacher/rosters/apply", data=fields)
    assert stale.status_code == 409
    assert "The roster changed since this preview" in stale.text
    assert roster_numbers(await browser.get("/teacher/rosters/Fizik 101")) == ["R1"]
    # ... and a confirmation of the new preview it shows stores what it shows
    applied = await browser.post("/teacher/rosters/apply", data=confirmation(stale))
    assert applied.status_code == 303
    page = await browser.get("/teacher/rosters/Fizik 101")
    assert roster_numbers(page) == ["R1", "R2", "R4"]
    assert "Dilek Şen" in page.text

    # a tampered confirmation (another CSV under the preview's digest) stores nothing
    tampered = {**confirmation(await upload(browser, "Fizik 101", FIRST)), "csv_b64": "eA=="}
    assert (await browser.post("/teacher/rosters/apply", data=tampered)).status_code == 422
    assert roster_numbers(await browser.get("/teacher/rosters/Fizik 101")) == ["R1", "R2", "R4"]


async def test_every_bad_line_is_shown_in_words_in_english_and_turkish(
    browser: httpx.AsyncClient,
) -> None:
    bad = "school_number,full_name\nR1,Ann\n-R2,Bob\nR3,\nR1,Ann\nR5,Eda,extra\n"
    preview = await upload(browser, "Fizik 101", bad)
    assert preview.status_code == 422
    assert "4 problems: fix them and preview again. Nothing was saved." in preview.text
    rows = re.findall(r"<tr><td>(\d+)</td><td>(.*?)</td></tr>", preview.text)
    assert [line for line, _ in rows] == ["3", "4", "5", "6"]
    assert "is not a school number" in rows[0][1]
    assert rows[1][1] == "The full name is empty."  # the line is in its own column
    assert "appears twice (first on line 2)" in rows[2][1]
    assert "Expected 2 columns" in rows[3][1]
    assert 'name="digest"' not in preview.text  # nothing to confirm
    assert "R5,Eda,extra" in preview.text  # the pasted text is kept to fix

    await browser.get("/teacher/rosters?lang=tr")
    turkish = await upload(browser, "Fizik 101", bad)
    assert "4 sorun var" in turkish.text
    rows = re.findall(r"<tr><td>(\d+)</td><td>(.*?)</td></tr>", turkish.text)
    assert rows[0] == ("3", rows[0][1]) and "geçerli bir okul numarası değil" in rows[0][1]
    assert "iki kez geçiyor" in rows[2][1]
    latin1 = "school_number,full_name\nR1,Gül\n".encode("latin-1")
    not_utf8 = await upload(browser, "Fizik 101", latin1)
    assert not_utf8.status_code == 422 and "UTF-8" in not_utf8.text
    assert (await browser.get("/teacher/rosters/Fizik 101")).text.count("<tr data-student") == 0


async def test_a_student_is_removed_and_the_roster_deleted_after_asking(
    browser: httpx.AsyncClient,
) -> None:
    course = "Physics/Chemistry"
    new = await upload(browser, course, FIRST)
    assert (await browser.post("/teacher/rosters/apply", data=confirmation(new))).status_code == 303
    page = await browser.get("/teacher/rosters/Physics%2FChemistry")
    assert roster_numbers(page) == ["R1", "R2", "R3"]
    removed = await browser.post(
        "/teacher/rosters/remove",
        data={"csrf": csrf_of(page), "course": course, "student_number": "R2"},
    )
    assert removed.status_code == 303
    page = await browser.get(removed.headers["location"])
    assert "R2 is off the roster." in page.text
    assert roster_numbers(page) == ["R1", "R3"]

    assert "Delete this roster" in page.text and 'id="delete-confirm"' not in page.text
    asking = await browser.get("/teacher/rosters/Physics%2FChemistry?confirm=delete")
    assert "Delete the roster of Physics/Chemistry (2 students)?" in asking.text
    assert roster_numbers(await browser.get("/teacher/rosters/Physics%2FChemistry")) == ["R1", "R3"]
    deleted = await browser.post(
        "/teacher/rosters/delete", data={"csrf": csrf_of(asking), "course": course}
    )
    assert deleted.status_code == 303
    assert deleted.headers["location"] == "/teacher/rosters?deleted=1"
    listing = await browser.get(deleted.headers["location"])
    assert "The roster is deleted." in listing.text and "No roster yet." in listing.text
    gone = await browser.get("/teacher/rosters/Physics%2FChemistry")
    assert gone.status_code == 200 and "This course has no roster yet." in gone.text
