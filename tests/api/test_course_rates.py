"""One rate rule: a student's rate in a course counts the lessons they have a record in (a
lesson held before they joined the roster does not count), weighs each status by the course's
weights (excused left out by default; the teacher may change them), and the course page, the
student's own page and the course exports all show the same rate. The course weights' API
refuses what is not a weight."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from xml.etree import ElementTree

import pytest

from tests.support.api import Api, Headers
from tests.support.clock import Clock
from tests.support.corrections import add, correct, finish, join, persist, start
from tests.support.numbers import course_rates_in, csv_rows, page_client, xlsx_rows

COURSE = "Fizik 101"
# the course's lessons, spelled three ways: one course, and the table names each lesson
SPELLINGS = ["Fizik 101", "fizik 101", "FİZİK 101"]
X = "\N{MULTIPLICATION SIGN}"
_OWN_RATE = re.compile(r'class="rate" data-percent="(\d*)"><strong>([^<]+)</strong>')
DEFAULTS = {
    "present": 1.0,
    "late": 1.0,
    "pending": 0.0,
    "excused": None,
    "rejected": 0.0,
    "absent": 0.0,
}


async def run_course(api: Api, clock: Clock) -> tuple[Headers, dict[str, Headers]]:
    """Three persisted lessons of one course. A and C attend the first; B joins the roster
    after it. Then: lesson 2, A and C present, B absent (on the roster, no check-in); lesson 3,
    A absent, B excused, C late. C is not on the roster."""
    _, teacher = await api.user_headers("teacher")
    students = {}
    for number in ("A1", "B1", "C1"):
        _, students[number] = await api.user_headers(
            "student", school_number=number, full_name=f"Öğrenci {number}"
        )

    async def lesson(
        name: str, roster: bool, steps: list[tuple[str, dict[str, Any] | None]]
    ) -> None:
        created = await start(api, teacher, lesson_name=name)
        lesson_id = created["lesson_id"]
        for number, decision in steps:
            if decision is None:
                assert (await join(api, students[number], lesson_id)).status_code == 201
            elif decision.get("added"):
                body = {"student_number": number, "status": decision["status"], "reason": "sick"}
                assert (await add(api, teacher, lesson_id, body)).status_code == 201
            else:
                assert (await join(api, students[number], lesson_id)).status_code == 201
                response = await correct(api, teacher, lesson_id, number, decision)
                assert response.status_code == 200, response.text
        await finish(api, teacher, lesson_id)
        await persist(api, lesson_id)
        clock.advance(days=7)

    await lesson(SPELLINGS[0], False, [("A1", None), ("C1", {"status": "late"})])
    roster = "school_number,full_name\nA1,Öğrenci A1\nB1,Öğrenci B1\n"
    put = await api.client.put(
        f"/teacher/rosters/{COURSE}",
        content=roster.encode(),
        headers={**teacher, "Content-Type": "text/csv"},
    )
    assert put.status_code == 200, put.text
    await lesson(SPELLINGS[1], True, [("A1", None), ("C1", None)])
    await lesson(
        SPELLINGS[2],
        True,
        [("B1", {"added": True, "status": "excused"}), ("C1", {"status": "late"})],
    )
    return teacher, students


async def rates_everywhere(
    api: Api, teacher: Headers, students: dict[str, Headers]
) -> dict[str, dict[str, int | None]]:
    """Each student's rate as the course page, their own page, the CSV and the XLSX show it."""
    shown: dict[str, dict[str, int | None]] = {}
    async with page_client(api, teacher) as pages:
        page = await pages.get("/teacher/course", params={"name": COURSE.lower()})
        assert page.status_code == 200, page.text
        shown["course page"] = course_rates_in(page.text)
        rows = csv_rows(await pages.get("/teacher/course/export.csv", params={"name": COURSE}))
        column = rows[0].index("attendance_percent")
        shown["csv"] = {
            row[0]: int(row[column]) if row[column] else None for row in rows[1:] if row[0]
        }
        sheet = xlsx_rows(await pages.get("/teacher/course/export.xlsx", params={"name": COURSE}))
        shown["xlsx"] = {row[0].value: row[column].value for row in sheet[1:] if row[0].value}
    own: dict[str, int | None] = {}
    for number, headers in students.items():
        async with page_client(api, headers) as phone:
            mine = await phone.get("/student/history")
            assert mine.status_code == 200, mine.text
            [(name, percent)] = _own_rates(mine.text)
            assert name in SPELLINGS
            own[number] = percent
    shown["student's own page"] = own
    return shown


def _own_rates(html: str) -> list[tuple[str, int | None]]:
    """The student's page: each course's name and rate."""
    return [(name, int(value) if value else None) for value, name in _OWN_RATE.findall(html)]


def assert_agree(shown: dict[str, dict[str, int | None]], expected: dict[str, int | None]) -> None:
    for place, rates in shown.items():
        assert rates == expected, (place, rates, expected)


async def test_one_rate_rule_in_every_view(api: Api, clock: Clock) -> None:
    teacher, students = await run_course(api, clock)
    # A: present, present, absent = 2/3. B: lesson 1 held before B joined the roster does not
    # count, absent, excused (left out) = 0/1. C: late, present, late = 3/3.
    assert_agree(await rates_everywhere(api, teacher, students), {"A1": 67, "B1": 0, "C1": 100})

    async with page_client(api, teacher) as pages:
        page = (await pages.get("/teacher/course", params={"name": COURSE})).text
    # each lesson is named (the spellings differ), with its attended count and rate
    for spelling in SPELLINGS:
        assert f"· {spelling}</span></th>" in page
    assert ">2/2</td>" in page and ">2/3</td>" in page and ">1/3</td>" in page
    assert "<td>100%</td><td>67%</td><td>50%</td>" in page
    # B's lesson before the roster is no lesson of B's: 0 of 1, not 0 of 2
    assert 'data-percent="0">0% <small>of 1 lesson</small>' in page
    assert "Course average: 71%" in page  # (2 + 0 + 3) / (3 + 1 + 3)
    assert (
        f"Rate = (present {X}1 + late {X}1) ÷ lessons expected; excused lessons are not counted."
        in page
    )
    # the chart is valid SVG with a title, one point per lesson
    svg = page[page.index('<svg class="chart"') : page.index("</svg>") + len("</svg>")]
    chart = ElementTree.fromstring(svg)  # noqa: S314 (the page's own markup)
    ns = "{http://www.w3.org/2000/svg}"
    assert chart.find(f"{ns}title") is not None
    assert chart.find(f"{ns}title").text == "Attendance rate by lesson"  # type: ignore[union-attr]
    assert len(chart.findall(f"{ns}circle")) == 3
    assert "67%" in (chart.find(f"{ns}desc").text or "")  # type: ignore[union-attr]

    # the teacher counts late as half a lesson and excused as attended
    weights = {**DEFAULTS, "late": 0.5, "excused": 1}
    put = await api.client.put(f"/teacher/courses/{COURSE}/weights", json=weights, headers=teacher)
    assert put.status_code == 200, put.text
    assert put.json() == {**weights, "excused": 1.0}
    got = await api.client.get("/teacher/courses/fizik%20101/weights", headers=teacher)
    assert got.json() == put.json()
    # A 2/3; B absent, excused = 1/2; C 0.5 + 1 + 0.5 = 2/3
    assert_agree(await rates_everywhere(api, teacher, students), {"A1": 67, "B1": 50, "C1": 67})
    async with page_client(api, teacher) as pages:
        page = (await pages.get("/teacher/course", params={"name": COURSE})).text
    assert "Course average: 63%" in page  # (2 + 1 + 2) / (3 + 2 + 3) = 62.5
    assert f"Rate = (present {X}1 + late {X}0.5 + excused {X}1) ÷ lessons expected." in page
    async with page_client(api, teacher) as pages:
        turkish = (await pages.get("/teacher/course", params={"name": COURSE, "lang": "tr"})).text
    assert "Ders ortalaması: %63" in turkish
    assert f"Oran = (var {X}1 + geç {X}0,5 + mazeretli {X}1) ÷ beklenen ders sayısı." in turkish


async def test_the_course_exports_keep_numbers_times_and_flags(api: Api, clock: Clock) -> None:
    teacher, _ = await run_course(api, clock)
    async with page_client(api, teacher) as pages:
        sheet = xlsx_rows(await pages.get("/teacher/course/export.xlsx", params={"name": COURSE}))
        header = [cell.value for cell in sheet[0]]
        assert header[-4:] == ["attended", "expected", "attendance_percent", "flags"]
        by_student = {row[0].value: row for row in sheet[1:] if row[0].value}
        c_row = by_student["C1"]
        assert [(cell.data_type, cell.value) for cell in c_row[-4:-1]] == [
            ("n", 3),
            ("n", 3),
            ("n", 100),
        ]
        assert c_row[-1].value == "not_on_roster"
        # a lesson B was not expected at is an empty cell, not "absent"
        assert by_student["B1"][2].value is None and by_student["B1"][3].value == "absent"
        # the last rows: each lesson's attended count, then its rate and the course average
        attended, rate = sheet[-2], sheet[-1]
        assert [cell.value for cell in attended[1:5]] == ["attended", 2, 2, 1]
        assert [cell.value for cell in rate[1:5]] == ["attendance_percent", 100, 67, 50]
        assert rate[-2].value == 71

        history = (await api.client.get("/teacher/lessons", headers=teacher)).json()
        lesson_id = history[0]["lesson_id"]
        roll = xlsx_rows(await pages.get(f"/teacher/lessons/{lesson_id}/export.xlsx"))
        assert [cell.value for cell in roll[0]] == [
            "student_number",
            "student_full_name",
            "status",
            "attendance_time",
            "reason",
            "flags",
        ]
        rows = {row[0].value: row for row in roll[1:]}
        moment = rows["C1"][3]
        assert moment.data_type == "d" and isinstance(moment.value, datetime)
        assert moment.number_format == "yyyy-mm-dd hh:mm:ss"
        assert rows["C1"][5].value == "not_on_roster"
        assert rows["A1"][3].value is None  # absent: no time
        csv_roll = csv_rows(await pages.get(f"/teacher/lessons/{lesson_id}/export.csv"))
        assert {row[0]: row[5] for row in csv_roll[1:]}["C1"] == "not_on_roster"


@pytest.mark.parametrize(
    "body",
    [
        {"present": None},
        {"absent": None},
        {"late": 1.5},
        {"late": -0.1},
        {"late": "0.5"},
        {"late": True},
        {"sometimes": 1},
        [],
    ],
)
async def test_weights_that_are_not_weights_are_refused(api: Api, body: Any) -> None:
    _, teacher = await api.user_headers("teacher")
    response = await api.client.put(
        f"/teacher/courses/{COURSE}/weights", json=body, headers=teacher
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    got = await api.client.get(f"/teacher/courses/{COURSE}/weights", headers=teacher)
    assert got.json() == DEFAULTS


async def test_weights_belong_to_one_teacher_s_course(api: Api) -> None:
    _, teacher = await api.user_headers("teacher")
    _, other = await api.user_headers("teacher")
    _, student = await api.user_headers("student")
    put = await api.client.put(
        "/teacher/courses/Kimya/weights", json={"late": 0.25}, headers=teacher
    )
    assert put.status_code == 200
    assert put.json() == {**DEFAULTS, "late": 0.25}  # what is not sent takes its default
    for headers, expected in ((teacher, 0.25), (other, 1.0)):
        got = await api.client.get("/teacher/courses/KİMYA/weights", headers=headers)
        assert got.json()["late"] == expected
    refused = await api.client.get("/teacher/courses/Kimya/weights", headers=student)
    assert refused.status_code == 403
    blank = await api.client.put("/teacher/courses/%20%20/weights", json={}, headers=teacher)
    assert blank.status_code == 422
