"""A lesson the database refuses never holds the sweep back: it is set aside (held) with its
error, whole in Redis, while the other lessons are persisted; `/readyz` counts it, `attn sweep
--once` names it, and `attn sweep held|export|retry` let an operator repair and resend it.

Bad live data is written straight into Redis through the store, as a page form once could:
a reason of 3,000 characters or with a NUL byte (PostgreSQL refuses both; SQLite stores them),
an audit entry whose source breaks a CHECK constraint (both refuse it), and a record whose
stored JSON no longer parses.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from sqlalchemy import func, select

from attn.db.tables import AuditRow, LessonRow, RecordRow
from attn.models import AuditEntry, HeldLesson, RecordStatus
from attn.store import formats, keys
from attn.tasks.sweep import sweep_attendances
from tests.support.api import Api
from tests.support.database import Database

ATTN = str(Path(sys.executable).parent / "attn")
Headers = dict[str, str]


async def finished_lesson(api: Api, name: str, students: int = 2) -> tuple[str, list[str]]:
    """A lesson `students` joined and its teacher finished; its id and the students."""
    _, teacher = await api.user_headers("teacher")
    lesson = await api.start_lesson(teacher, lesson_name=name)
    numbers = []
    for _ in range(students):
        student, headers = await api.user_headers("student")
        joined = await api.client.post(
            f"/student/lessons/{lesson['lesson_id']}/attendance", headers=headers
        )
        assert joined.status_code == 201, joined.text
        numbers.append(student.school_number)
    finished = await api.client.post(
        f"/teacher/lessons/{lesson['lesson_id']}/finish", headers=teacher
    )
    assert finished.status_code == 200, finished.text
    return lesson["lesson_id"], numbers


async def spoil(api: Api, lesson_id: str, student_number: str, kind: str) -> None:
    """Write bad live data into one record of the lesson, through the store."""
    store = api.context.redis_client
    live, raw = await store.get_raw_record(lesson_id, student_number)
    assert live and raw is not None
    record = formats.parse_record(raw)
    now = datetime.now(UTC)
    audit = None
    new = raw
    if kind in ("long reason", "nul reason"):
        reason = "x" * 3000 if kind == "long reason" else "left\x00early"
        new = formats.record_json(
            record.model_copy(update={"status": RecordStatus.REJECTED, "reason": reason})
        )
    elif kind == "forged audit source":
        audit = AuditEntry(
            lesson_id=lesson_id,
            student_number=student_number,
            changed_by=None,
            source="forged",
            changed_at=now,
            old_status=record.status,
            new_status=RecordStatus.EXCUSED,
        )
        new = formats.record_json(record.model_copy(update={"status": RecordStatus.EXCUSED}))
    elif kind == "unreadable record":
        new = raw.replace('"status":"present"', '"status":"teleported"')
    reply = await store.update_record(lesson_id, student_number, expected=raw, new=new, audit=audit)
    assert reply.outcome.value == "ok"


def postgresql_only(database: Database, kind: str) -> None:
    if kind in ("long reason", "nul reason") and not database.url.startswith("postgresql"):
        pytest.skip("SQLite stores long text and NUL bytes: only PostgreSQL refuses them")


async def sql_lessons(api: Api) -> set[str]:
    async with api.context.db() as session:
        return set(await session.scalars(select(LessonRow.lesson_id)))


KINDS = ["long reason", "nul reason", "forged audit source", "unreadable record"]


@pytest.mark.parametrize("kind", KINDS)
async def test_a_lesson_the_database_refuses_is_held_and_the_others_persist(
    api: Api, redis: aioredis.Redis, database: Database, kind: str
) -> None:
    postgresql_only(database, kind)
    good = [(await finished_lesson(api, f"Good {index}"))[0] for index in range(3)]
    bad, students = await finished_lesson(api, "Spoilt")
    await spoil(api, bad, students[0], kind)
    store = api.context.redis_client
    before = await store.read_stored_lesson(bad)
    assert before is not None

    summary = await sweep_attendances(api.context)
    assert summary.persisted == 3, summary
    assert list(summary.held) == [bad], summary
    assert summary.errors == {}
    assert await sql_lessons(api) == set(good)
    # the bad lesson is whole in Redis, out of the queue, held with its error and time
    assert await store.read_stored_lesson(bad) == before
    assert await redis.zscore(keys.sweep_due(), bad) is None
    assert await redis.zscore(keys.sweep_claims(), bad) is None
    [held] = await store.held_lessons()
    assert held.lesson_id == bad and held.error == summary.held[bad]
    assert abs((held.held_at - api.context.now()).total_seconds()) < 30
    expected_words = {
        "long reason": "too long",
        "nul reason": "0x00",
        "forged audit source": "source",
        "unreadable record": "cannot be read",
    }[kind]
    assert expected_words in held.error, held.error

    # the next pass leaves it be; the probe counts it and stays ready
    again = await sweep_attendances(api.context)
    assert (again.persisted, again.held, again.errors) == (0, {}, {})
    ready = await api.client.get("http://testserver/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "held_lessons": 1}
    # its teacher still sees it, live
    assert await redis.exists(keys.lesson(bad))


async def test_an_outage_holds_no_lesson(make_api: Any, api: Api, redis: aioredis.Redis) -> None:
    lesson_id, _ = await finished_lesson(api, "Optics")
    async with make_api(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none") as down:
        summary = await sweep_attendances(down.context)
        assert summary.held == {}
        assert lesson_id in summary.errors
    assert await api.context.redis_client.held_count() == 0
    assert await redis.zscore(keys.sweep_due(), lesson_id) is not None
    # once the database is back, it is persisted
    await api.context.redis_client.release_claims([lesson_id])
    assert (await sweep_attendances(api.context)).persisted == 1


def test_a_held_entry_round_trips() -> None:
    held = HeldLesson(
        lesson_id=keys.new_lesson_id("Optics", "Ayşe Yılmaz"),
        error="IntegrityError: CHECK constraint failed: ck_attendance_audit_source",
        held_at=datetime(2026, 12, 1, 9, 0, 1, 250000, tzinfo=UTC),
    )
    assert formats.parse_held(formats.held_json(held)) == held
    assert '"held_at":"2026-12-01T09:00:01.250Z"' in formats.held_json(held)


# --- the operator's commands ------------------------------------------------------------


async def attn(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        ATTN, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


def environment(database: Database, redis_url: str, tmp_path: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("ATTN_")}
    env.update(
        ATTN_DATABASE_URL=database.url,
        ATTN_REDIS_URL=redis_url,
        ATTN_DATA_DIR=str(tmp_path / "data"),
        ATTN_SECRET_KEY="s" * 32,
    )
    return env


async def test_sweep_once_names_a_held_lesson_and_held_export_retry_repair_it(
    api: Api,
    redis: aioredis.Redis,
    clean_database: Database,
    redis_url: str,
    tmp_path: Path,
) -> None:
    env = environment(clean_database, redis_url, tmp_path)
    good, _ = await finished_lesson(api, "Good")
    bad, students = await finished_lesson(api, "Spoilt")
    await spoil(api, bad, students[0], "forged audit source")

    code, out, err = await attn("sweep", "--once", env=env)
    assert code == 0, (out, err)  # nothing that was due is left in the queue
    assert "1 lessons persisted" in out and "1 lessons held" in out
    assert f"{bad}: " in err and "source" in err
    assert await sql_lessons(api) == {good}
    # a later run says that lessons wait, and still exits 0
    code, out, err = await attn("sweep", "--once", env=env)
    assert code == 0, (out, err)
    assert "held: 1 lessons wait" in err

    code, out, err = await attn("sweep", "held", env=env)
    assert code == 0, err
    [line] = out.splitlines()
    assert line.startswith(bad) and "Spoilt" in line and "source" in line

    code, out, err = await attn("sweep", "export", bad, env=env)
    assert code == 0, err
    exported = json.loads(out)
    assert exported["lesson_id"] == bad and "source" in exported["held"]["error"]
    assert exported["lesson"]["lesson_name"] == "Spoilt"
    assert sorted(r["student_number"] for r in exported["records"]) == sorted(students)
    [forged] = [entry for entry in exported["audit"] if entry["source"] == "forged"]
    assert forged["student_number"] == students[0]

    # the operator repairs the entry in Redis (as with redis-cli), then sends it again
    position = exported["audit"].index(forged)
    await redis.lset(keys.lesson_audit(bad), position, json.dumps({**forged, "source": "teacher"}))
    code, out, err = await attn("sweep", "retry", bad, env=env)
    assert code == 0, err
    assert (await attn("sweep", "held", env=env))[1].strip() == "no lessons are held"
    code, out, err = await attn("sweep", "--once", env=env)
    assert code == 0, (out, err)
    assert "1 lessons persisted" in out and "0 lessons held" in out
    assert await sql_lessons(api) == {good, bad}
    async with api.context.db() as session:
        records = await session.scalar(
            select(func.count()).select_from(RecordRow).where(RecordRow.lesson_id == bad)
        )
        sources = set(await session.scalars(select(AuditRow.source)))
    assert records == 2 and sources == {"teacher"}
    assert not await redis.exists(keys.lesson(bad))

    # a lesson that is not held cannot be retried, nor one that is gone exported
    code, _, err = await attn("sweep", "retry", bad, env=env)
    assert code == 1 and f"lesson {bad} is not held" in err
    code, _, err = await attn("sweep", "export", bad, env=env)
    assert code == 1 and "not in Redis" in err
