"""Sweep throughput: LESSONS finished lessons x RECORDS records persisted in one pass.

    .venv/bin/python -m bench.sweep_throughput \
        --database-url postgresql://postgres@127.0.0.1:5432/test --redis-url redis://127.0.0.1:6379/14

With a PostgreSQL URL a scratch database is created on that server and dropped afterwards;
without URLs it uses SQLite and an embedded Valkey in a temporary directory. The Redis
database given is emptied. Prints one result line and writes bench/results/sweep.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from attn.config import Settings, to_async_database_url
from attn.db import admin
from attn.db.migrate import upgrade
from attn.models import AttendanceRecordRedis, LessonRedis
from attn.services.context import open_context
from attn.store import keys
from attn.store.embedded import EmbeddedRedis
from attn.store.redis_client import RedisClient
from attn.tasks.sweep import sweep_attendances

RESULTS = Path(__file__).parent / "results"


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


async def fill(settings: Settings, lessons: int, records: int) -> None:
    async with open_context(settings) as ctx:
        await ctx.redis_client.redis.flushdb()
        await fill_finished_lessons(ctx.redis_client, lessons=lessons, records=records)


async def measure(settings: Settings) -> tuple[int, int, float]:
    async with open_context(settings) as ctx:
        started = time.perf_counter()
        summary = await sweep_attendances(ctx)
        elapsed = time.perf_counter() - started
    return summary.persisted, summary.records, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url")
    parser.add_argument("--lessons", type=int, default=200)
    parser.add_argument("--records", type=int, default=50)
    args = parser.parse_args()

    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="attn-bench-")))
        redis_url = args.redis_url or stack.enter_context(EmbeddedRedis(workdir, durable=False))
        database_url = args.database_url or f"sqlite:///{workdir}/bench.sqlite3"
        if database_url.startswith("postgres"):
            name = f"attn_bench_{secrets.token_hex(4)}"
            server = database_url
            database_url = asyncio.run(admin.create_database(server, name))
            stack.callback(lambda: asyncio.run(admin.drop_database(server, name)))
        upgrade(to_async_database_url(database_url))
        settings = Settings(DATABASE_URL=database_url, REDIS_URL=redis_url, DATA_DIR=workdir)
        asyncio.run(fill(settings, args.lessons, args.records))
        persisted, written, elapsed = asyncio.run(measure(settings))

    backend = urlsplit(database_url).scheme
    rate = written / elapsed if elapsed else 0.0
    result = {
        "database": backend,
        "lessons": persisted,
        "records": written,
        "seconds": round(elapsed, 3),
        "records_per_second": round(rate),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"sweep-{backend}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"sweep [{backend}]: {persisted} lessons, {written} records in {elapsed:.2f}s "
        f"= {rate:,.0f} records/s"
    )


if __name__ == "__main__":
    main()
