"""Text the database cannot store is refused where it comes in: a NUL byte (PostgreSQL keeps
none in text) or another control character in any string a request hands to SQL is a 422
`validation_error`, on SQLite and on PostgreSQL alike, never a 503 or a 500."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy
from sqlalchemy.exc import DBAPIError

from attn.db.engine import create_engine, session_factory
from attn.db.refusals import refuses_value, refuses_write
from attn.db.tables import UserRow
from attn.tasks.sweep import sweep_attendances
from tests.support.api import PASSWORD, Api
from tests.support.database import Database
from tests.support.sign_in_form import sign_in_token_of

# NUL, an escape, a right-to-left override: none is in any name, and PostgreSQL refuses NUL.
BAD = ["\x00", "\x1b", "\u202e"]


@dataclass
class Scene:
    api: Api
    teacher_headers: dict[str, str]
    student_number: str
    persisted_lesson_id: str
    pages: httpx.AsyncClient


@pytest.fixture
async def scene(api: Api) -> AsyncIterator[Scene]:
    _, teacher_headers = await api.user_headers("teacher")
    student, student_headers = await api.user_headers("student")
    lesson = await api.start_lesson(teacher_headers, lesson_name="Optics")
    lesson_id = lesson["lesson_id"]
    joined = await api.client.post(
        f"/student/lessons/{lesson_id}/attendance", headers=student_headers
    )
    assert joined.status_code == 201
    await api.client.post(f"/teacher/lessons/{lesson_id}/finish", headers=teacher_headers)
    assert (await sweep_attendances(api.context)).persisted == 1
    token = teacher_headers["Authorization"].removeprefix("Bearer ")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app),
        base_url="http://testserver",
        cookies={"attn_session": token},
    ) as pages:
        yield Scene(api, teacher_headers, student.school_number, lesson_id, pages)


def csrf_of(page: httpx.Response) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    return match.group(1) if match else ""


def problem(what: str, response: httpx.Response) -> str | None:
    """Why the response is not the contract's 422 `validation_error`, or None."""
    if response.status_code != 422:
        return f"{what}: {response.status_code} {response.text[:160]!r}"
    if "application/json" in response.headers.get("content-type", ""):
        code = response.json()["error"]["code"]
        if code != "validation_error":
            return f"{what}: 422 with code {code}"
    return None


async def test_nul_and_control_characters_in_request_strings_are_422(scene: Scene) -> None:
    api, teacher, pages = scene.api, scene.teacher_headers, scene.pages
    lesson_page = await pages.get(
        f"/teacher/lessons/{scene.persisted_lesson_id}", headers={"Accept": "text/html"}
    )
    csrf = csrf_of(lesson_page)
    assert csrf
    problems = []
    for bad in BAD:
        quoted = httpx.URL("/", params={"x": bad}).query.decode().removeprefix("x=")
        shown = repr(bad)
        # the school number of a sign-in, by the API and by the sign-in form
        response = await api.client.post(
            "/auth/login", json={"school_number": f"S1{bad}", "password": PASSWORD}
        )
        problems.append(problem(f"API login {shown}", response))
        login_form = await pages.get("/login", headers={"Accept": "text/html"})
        response = await pages.post(
            "/login",
            data={
                "school_number": f"S1{bad}",
                "password": PASSWORD,
                "next": "/",
                "sign_in_token": sign_in_token_of(login_form),
            },
            headers={"Accept": "text/html"},
        )
        problems.append(problem(f"page login {shown}", response))
        # a student number in the path of the roll page's form, on a persisted lesson
        response = await pages.post(
            f"/teacher/lessons/{scene.persisted_lesson_id}/records/{scene.student_number}{quoted}",
            data={"csrf": csrf, "status": "excused", "reason": "ill"},
        )
        problems.append(problem(f"page decide path {shown}", response))
        # a course in a roster's path
        for method in ("GET", "DELETE", "PUT"):
            response = await api.client.request(
                method,
                f"/teacher/rosters/Optics{quoted}",
                headers={**teacher, "Content-Type": "text/csv"},
                content=b"school_number,full_name\nR1,Ann\n" if method == "PUT" else None,
            )
            problems.append(problem(f"roster {method} {shown}", response))
        # a course in the query of the course page and its exports
        for path in (
            "/teacher/course",
            "/teacher/course/export.csv",
            "/teacher/course/export.xlsx",
        ):
            response = await pages.get(path, params={"name": f"Optics{bad}"})
            problems.append(problem(f"{path} {shown}", response))
        # the cells of a roster
        for body in (
            f"school_number,full_name\nR1,Ann{bad}\n",
            f"school_number,full_name\nR1{bad},Ann\n",
        ):
            response = await api.client.put(
                "/teacher/rosters/Optics",
                headers={**teacher, "Content-Type": "text/csv"},
                content=body.encode(),
            )
            problems.append(problem(f"roster cell {shown}", response))
    assert [found for found in problems if found] == []
    # and nothing was changed: the record is as the join left it, no roster exists
    roll = await api.client.get(
        f"/teacher/lessons/{scene.persisted_lesson_id}/records", headers=teacher
    )
    assert [record["status"] for record in roll.json()] == ["present"]
    assert (await api.client.get("/teacher/rosters", headers=teacher)).json() == []


async def test_a_value_the_database_refuses_is_told_from_an_outage(
    clean_database: Database,
) -> None:
    """What the database says about a value (too long for its column, a broken constraint)
    is told from a database that does not answer."""
    engine = create_engine(clean_database.async_url)
    db = session_factory(engine)
    now = datetime.now(UTC)
    try:

        async def written(row: UserRow) -> BaseException | None:
            try:
                async with db() as session, session.begin():
                    session.add(row)
            except Exception as exc:
                return exc
            return None

        long_name = await written(
            UserRow(school_number="S1", full_name="x" * 3000, role="student", created_at=now)
        )
        bad_role = await written(
            UserRow(school_number="S2", full_name="Ann", role="principal", created_at=now)
        )
        assert bad_role is not None and refuses_write(bad_role)
        assert not refuses_value(bad_role)
        if clean_database.url.startswith("postgresql"):
            # PostgreSQL keeps a column's length; SQLite stores the long name
            assert long_name is not None and refuses_value(long_name)
        else:
            assert long_name is None
    finally:
        await engine.dispose()
    # a database that is not there is an outage, not a refusal
    if clean_database.url.startswith("postgresql"):
        engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
        try:
            with pytest.raises((DBAPIError, OSError)) as caught:
                async with engine.connect():
                    pass
        finally:
            await engine.dispose()
        outage: BaseException = caught.value
    else:
        # SQLite's own driver, without aiosqlite's thread: a file that cannot be opened
        sync_engine = sqlalchemy.create_engine(
            f"sqlite:////nonexistent-{secrets.token_hex(4)}/db.sqlite3"
        )
        with pytest.raises(DBAPIError) as refused_open:
            sync_engine.connect()
        sync_engine.dispose()
        outage = refused_open.value
    assert not refuses_value(outage) and not refuses_write(outage)


async def test_a_line_break_in_a_roster_course_path_is_422_after_authentication(
    scene: Scene,
) -> None:
    """The path converter stops at a line break, so no route matches: still the course rule's
    422 (found by fuzzing), and 401 before it without a token."""
    api = scene.api
    for method in ("PUT", "GET", "DELETE"):
        refused = await api.client.request(
            method,
            "/teacher/rosters/Optics%0A101",
            headers=scene.teacher_headers,
            content="school_number,full_name\n",
        )
        assert refused.status_code == 422, (method, refused.text)
        assert refused.json()["error"]["code"] == "validation_error"
        anonymous = await api.client.request(method, "/teacher/rosters/Optics%0A101")
        assert anonymous.status_code == 401, (method, anonymous.text)
