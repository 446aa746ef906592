"""Rosters and accounts: any course name has a roster, a roster lists students only and
renames nobody, and a student known only from a roster is claimed by `attn users add` and
`attn users import` instead of blocking them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from attn.db.tables import UserRow
from attn.tasks.sweep import sweep_attendances
from tests.support.api import PASSWORD, Api
from tests.support.database import Database

ATTN = Path(sys.executable).parent / "attn"
Headers = dict[str, str]


async def put_roster(api: Api, headers: Headers, path: str, body: str) -> httpx.Response:
    return await api.client.put(
        f"/teacher/rosters/{path}",
        content=body.encode(),
        headers={**headers, "Content-Type": "text/csv"},
    )


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


async def user_row(api: Api, number: str) -> UserRow | None:
    async with api.context.db() as session:
        return await session.scalar(select(UserRow).where(UserRow.school_number == number))


async def finished_and_persisted(api: Api, headers: Headers, lesson_id: str) -> None:
    finished = await api.client.post(f"/teacher/lessons/{lesson_id}/finish", headers=headers)
    assert finished.status_code == 200, finished.text
    summary = await sweep_attendances(api.context)
    assert summary.persisted == 1, summary


@pytest.mark.parametrize("sent_as", ["Physics%2FChemistry 1%2F2", "Physics/Chemistry 1/2"])
async def test_roster_of_a_course_with_a_slash(api: Api, sent_as: str) -> None:
    course = "Physics/Chemistry 1/2"
    _, headers = await api.user_headers("teacher")
    roster = "school_number,full_name\nR1,Listed One\n"
    put = await put_roster(api, headers, sent_as, roster)
    assert put.status_code == 200, put.text
    assert put.json()["course"] == course
    assert [s["school_number"] for s in put.json()["students"]] == ["R1"]
    got = await api.client.get(f"/teacher/rosters/{sent_as}", headers=headers)
    assert got.status_code == 200, got.text
    assert got.json()["course"] == course
    listed = await api.client.get("/teacher/rosters", headers=headers)
    assert [item["course"] for item in listed.json()] == [course]
    # the lessons of that course take the roster
    lesson = await api.start_lesson(headers, lesson_name=course)
    _, outsider = await api.user_headers("student")
    joined = await api.client.post(
        f"/student/lessons/{lesson['lesson_id']}/attendance", headers=outsider
    )
    assert joined.json()["flags"] == ["not_on_roster"]
    deleted = await api.client.delete(f"/teacher/rosters/{sent_as}", headers=headers)
    assert deleted.status_code == 204
    gone = await api.client.get(f"/teacher/rosters/{sent_as}", headers=headers)
    assert error_of(gone)[:2] == (404, "roster_not_found")


async def test_roster_refuses_teachers_and_admins_with_the_line(api: Api) -> None:
    _, headers = await api.user_headers("teacher")
    colleague = await api.add_user("teacher", full_name="Colleague Teacher")
    admin = await api.add_user("admin")
    student = await api.add_user("student")
    for number, line, role in [
        (colleague.school_number, 3, "teacher"),
        (admin.school_number, 3, "admin"),
    ]:
        body = f"school_number,full_name\n{student.school_number},A Student\n{number},Listed\n"
        response = await put_roster(api, headers, "Optics", body)
        status, code, message = error_of(response)
        assert (status, code) == (422, "validation_error"), response.text
        assert response.json()["error"]["details"][0]["type"] == "invalid_roster"
        assert message.startswith(f"Line {line}: {number}")
        assert role in message
        # nothing was stored
        got = await api.client.get("/teacher/rosters/Optics", headers=headers)
        assert error_of(got)[:2] == (404, "roster_not_found")
    # the colleague's account is as it was
    row = await user_row(api, colleague.school_number)
    assert row is not None and (row.role, row.full_name) == ("teacher", "Colleague Teacher")


async def test_roster_names_never_rename_accounts(api: Api) -> None:
    _, headers = await api.user_headers("teacher")
    known = await api.add_user("student", full_name="Elif Kaya")
    body = f"school_number,full_name\n{known.school_number},Kaya E. (typo)\nR0001,Roster Only\n"
    put = await put_roster(api, headers, "Optics", body)
    assert put.status_code == 200, put.text
    names = {s["school_number"]: s["full_name"] for s in put.json()["students"]}
    assert names == {known.school_number: "Elif Kaya", "R0001": "Roster Only"}
    got = (await api.client.get("/teacher/rosters/Optics", headers=headers)).json()
    assert {s["school_number"]: s["full_name"] for s in got["students"]} == names

    # a lesson of the course marks both absent: under the account's name, and the roster's
    lesson = await api.start_lesson(headers, lesson_name="Optics")
    await finished_and_persisted(api, headers, lesson["lesson_id"])
    roll = (
        await api.client.get(f"/teacher/lessons/{lesson['lesson_id']}/records", headers=headers)
    ).json()
    assert {r["student_number"]: (r["status"], r["student_full_name"]) for r in roll} == {
        known.school_number: ("absent", "Elif Kaya"),
        "R0001": ("absent", "Roster Only"),
    }
    row = await user_row(api, known.school_number)
    assert row is not None and row.full_name == "Elif Kaya" and row.password_hash


# --- claiming a roster-only student -----------------------------------------------------


def attn(*args: str, database: Database, data_dir: Path, stdin: str = "") -> Any:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ATTN_")}
    env.update({"ATTN_DATABASE_URL": database.url, "ATTN_DATA_DIR": str(data_dir)})
    return subprocess.run(
        [str(ATTN), *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def roster_only_student(api: Api, number: str) -> Headers:
    """A lesson whose roster lists `number`, persisted: the number is now an unclaimed
    student in SQL (no password) with an absent record."""
    _, headers = await api.user_headers("teacher")
    put = await put_roster(api, headers, "Optics", f"school_number,full_name\n{number},On Roster\n")
    assert put.status_code == 200, put.text
    lesson = await api.start_lesson(headers, lesson_name="Optics")
    await finished_and_persisted(api, headers, lesson["lesson_id"])
    row = await user_row(api, number)
    assert row is not None and (row.role, row.full_name, row.password_hash) == (
        "student",
        "On Roster",
        "",
    )
    return headers


async def test_users_add_claims_a_roster_only_student(
    api: Api, clean_database: Database, tmp_path: Path
) -> None:
    await roster_only_student(api, "R7001")
    # another role cannot take the student's number
    refused = attn(
        "users", "add", "--school-number", "R7001", "--full-name", "Not A Teacher",
        "--role", "teacher", "--password-stdin",
        database=clean_database, data_dir=tmp_path, stdin="pw\n",
    )  # fmt: skip
    assert refused.returncode == 1, refused
    assert "R7001" in refused.stderr and "Traceback" not in refused.stderr

    added = attn(
        "users", "add", "--school-number", "R7001", "--full-name", "Real Name",
        "--role", "student", "--password-stdin",
        database=clean_database, data_dir=tmp_path, stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert added.returncode == 0, added
    assert "claimed student R7001" in added.stdout
    row = await user_row(api, "R7001")
    assert row is not None and (row.role, row.full_name) == ("student", "Real Name")
    login = await api.client.post(
        "/auth/login", json={"school_number": "R7001", "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    history = await api.client.get(
        "/student/attendance",
        headers={"Authorization": f"Bearer {login.json()['access_token']}"},
    )
    assert [item["status"] for item in history.json()] == ["absent"]

    # once claimed, the number is taken
    again = attn(
        "users", "add", "--school-number", "R7001", "--full-name", "Someone Else",
        "--role", "student", "--password-stdin",
        database=clean_database, data_dir=tmp_path, stdin="other\n",
    )  # fmt: skip
    assert again.returncode == 1 and "R7001" in again.stderr, again
    row = await user_row(api, "R7001")
    assert row is not None and row.full_name == "Real Name"


async def test_users_import_claims_a_roster_only_student(
    api: Api, clean_database: Database, tmp_path: Path
) -> None:
    await roster_only_student(api, "R7002")
    listing = tmp_path / "people.csv"
    listing.write_text(
        "school_number,full_name,role,password\n"
        f"R7002,Claimed By Import,student,{PASSWORD}\n"
        f"N7003,Brand New,student,{PASSWORD}\n"
    )
    imported = attn("users", "import", str(listing), database=clean_database, data_dir=tmp_path)
    assert imported.returncode == 0, imported
    assert "imported 2 users (1 claimed)" in imported.stdout
    for number, name in [("R7002", "Claimed By Import"), ("N7003", "Brand New")]:
        row = await user_row(api, number)
        assert row is not None and (row.full_name, row.role) == (name, "student")
        login = await api.client.post(
            "/auth/login", json={"school_number": number, "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
    # a file naming a claimed account still imports nothing
    listing.write_text(
        "school_number,full_name,role,password\n"
        f"R7002,Taken Now,student,{PASSWORD}\n"
        f"N7004,Not Imported,student,{PASSWORD}\n"
    )
    refused = attn("users", "import", str(listing), database=clean_database, data_dir=tmp_path)
    assert refused.returncode == 1, refused
    assert await user_row(api, "N7004") is None
