"""A student's courses in SQL (`attn.db.rosters.student_courses`): read by the index the
migrations made, not by a scan of every roster."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect, text

from attn.db import rosters
from tests.support.api import Api


async def test_the_migrations_index_roster_entries_by_student(api: Api) -> None:
    async with api.context.db() as session:
        connection = await session.connection()

        def indexes(sync_connection: Any) -> list[Any]:
            return list(inspect(sync_connection).get_indexes("roster_students"))

        found = await connection.run_sync(indexes)
        lesson_columns = await connection.run_sync(
            lambda sync: [column["name"] for column in inspect(sync).get_columns("lessons")]
        )
    by_name = {index["name"]: index["column_names"] for index in found}
    assert by_name.get("ix_roster_students_student") == ["student_number"], found
    assert "room" in lesson_columns


async def test_a_students_courses_are_every_roster_listing_them(api: Api) -> None:
    teachers = [await api.add_user("teacher") for _ in range(2)]
    student = await api.add_user("student")
    for teacher, course in zip(teachers, ["Fizik 101", "Kimya"], strict=True):
        headers = await api.login(teacher)
        response = await api.client.put(
            f"/teacher/rosters/{course}",
            content=f"school_number,full_name\r\n{student.school_number},X Y\r\n".encode(),
            headers={**headers, "Content-Type": "text/csv"},
        )
        assert response.status_code == 200, response.text
    async with api.context.db() as session:
        courses = await rosters.student_courses(
            session=session, student_number=student.school_number
        )
        nobody = await rosters.student_courses(session=session, student_number="S-nobody")
        dialect = session.get_bind().dialect.name
        if dialect == "sqlite":
            plan = await session.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT teacher_school_number, course_key "
                    "FROM roster_students WHERE student_number = :number"
                ),
                {"number": student.school_number},
            )
            assert "ix_roster_students_student" in " ".join(str(row) for row in plan)
    assert sorted(courses) == sorted(
        [(teachers[0].school_number, "fizik 101"), (teachers[1].school_number, "kimya")]
    )
    assert nobody == []
