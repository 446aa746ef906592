"""Factories for lessons and records: built as models, written straight to the live store,
or made through the API the way a teacher and students would.

`fill_finished_lessons` is also the benchmark's filler (`bench/sweep_throughput.py`), so the
sweep is measured on exactly the data the sweep tests use.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from attn.models import AttendanceRecordRedis, LessonRedis
from attn.store import keys
from attn.store.redis_client import RedisClient

if TYPE_CHECKING:  # the benchmark imports this module and needs none of the API machinery
    from tests.support.api import Api


def make_lesson(
    name: str = "Physics", teacher: str = "Ada Lovelace", minutes: int = 60
) -> LessonRedis:
    now = datetime.now(UTC)
    return LessonRedis(
        lesson_id=keys.new_lesson_id(name, teacher),
        lesson_name=name,
        teacher_school_number="T1",
        teacher_full_name=teacher,
        start_time=now,
        end_time=now + timedelta(minutes=minutes),
    )


def make_record(lesson: LessonRedis, number: str = "S1") -> AttendanceRecordRedis:
    return AttendanceRecordRedis(
        lesson_id=lesson.lesson_id,
        student_number=number,
        student_full_name=f"Student {number}",
        attendance_time=datetime.now(UTC),
    )


async def fill_finished_lessons(store: RedisClient, *, lessons: int, records: int) -> list[str]:
    """Put `lessons` lessons that ended now, with `records` records each, into Redis."""
    now = datetime.now(UTC)
    lesson_ids = []
    for i in range(lessons):
        lesson = LessonRedis(
            lesson_id=keys.new_lesson_id(f"Bench {i}", f"Teacher {i % 20}"),
            lesson_name=f"Bench {i}",
            teacher_school_number=f"TB{i % 20:03d}",
            teacher_full_name=f"Teacher {i % 20}",
            start_time=now,
            end_time=now,
        )
        await store.save_lesson(lesson)
        pipe = store.redis.pipeline(transaction=False)
        for n in range(records):
            record = AttendanceRecordRedis(
                lesson_id=lesson.lesson_id,
                student_number=f"SB{(i * 7 + n) % 3000:05d}",
                student_full_name=f"Student {n}",
                attendance_time=now,
            )
            pipe.hset(
                keys.lesson_records(lesson.lesson_id),
                record.student_number,
                record.model_dump_json(),
            )
        await pipe.execute()
        lesson_ids.append(lesson.lesson_id)
    return lesson_ids


async def run_lesson(
    api: Api, *, students: int = 3, finish: bool = True, name: str = "Algorithms"
) -> tuple[dict[str, Any], dict[str, str], list[dict[str, str]]]:
    """A teacher starts a lesson, `students` join it, and the teacher finishes it."""
    _, teacher_headers = await api.user_headers("teacher")
    lesson = await api.start_lesson(teacher_headers, lesson_name=name)
    student_headers = []
    for _ in range(students):
        _, headers = await api.user_headers("student")
        response = await api.client.post(
            f"/student/lessons/{lesson['lesson_id']}/attendance", headers=headers
        )
        assert response.status_code == 201
        student_headers.append(headers)
    if finish:
        response = await api.client.post(
            f"/teacher/lessons/{lesson['lesson_id']}/finish", headers=teacher_headers
        )
        assert response.status_code == 200
    return lesson, teacher_headers, student_headers
