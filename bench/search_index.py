"""The looser search's cost against the number of active lessons, in process.

    .venv/bin/python -m bench.search_index --redis-url redis://127.0.0.1:6379/14

Saves 10, then 1,000, then 10,000 active lessons ("Topic n" by "Lecturer n", and one
"Kuantum Fiziği" by "Ayşe Yılmaz") and times `student_service.search_active_lessons` (the word
index script, then the lessons it names) for a query with one match and for a broad one that
every lesson's words start with. It also counts the Redis commands one search sends (from the
client side, so other users of the server do not count). The Redis database given is emptied.
Without a URL an embedded Valkey in a temporary directory is used.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from attn.config import Settings
from attn.models import LessonRedis
from attn.services import student_service
from attn.services.context import ServiceContext, open_context
from attn.store import keys

SEARCHES = {
    "1 match": ("kuantum fiz", "ayse"),
    "broad": ("topic 7", "lect"),
}
REPEATS = 300


async def add_lesson(ctx: ServiceContext, name: str, teacher: str, number: str) -> None:
    now = ctx.now()
    await ctx.redis_client.save_lesson(
        LessonRedis(
            lesson_id=keys.new_lesson_id(name, teacher),
            lesson_name=name,
            teacher_school_number=number,
            teacher_full_name=teacher,
            start_time=now,
            end_time=now + timedelta(hours=2),
        )
    )


def count_commands(ctx: ServiceContext) -> list[int]:
    """Count the commands the client sends (in pipelines too) into a one-item list, which
    the caller resets."""
    sent = [0]
    connection_class: Any = ctx.redis_client.redis.connection_pool.connection_class
    original = connection_class.send_packed_command

    async def counting(self: Any, command: Any, check_health: bool = True) -> None:
        parts = command if isinstance(command, list | tuple) else [command]
        for part in parts:
            raw = bytes(part)
            sent[0] += raw.count(b"\r\n*") + raw.startswith(b"*")
        await original(self, command, check_health)

    connection_class.send_packed_command = counting
    return sent


async def main(redis_url: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix="attn-search-") as workdir:
        settings = Settings(
            DATABASE_URL=f"sqlite:///{Path(workdir) / 'unused.sqlite3'}",
            REDIS_URL=redis_url or "",
            DATA_DIR=Path(workdir),
        )
        async with open_context(settings) as ctx:
            await ctx.redis_client.redis.flushdb()
            await add_lesson(ctx, "Kuantum Fiziği", "Ayşe Yılmaz", "TQ000001")
            sent = count_commands(ctx)
            existing = 0
            for count in (10, 1_000, 10_000):
                for n in range(existing, count):
                    await add_lesson(ctx, f"Topic {n}", f"Lecturer {n}", f"TX{n:06d}")
                existing = count
                for label, (text, teacher) in SEARCHES.items():
                    started = time.perf_counter()
                    for _ in range(REPEATS):
                        found = await student_service.search_active_lessons(
                            ctx, text=text, teacher=teacher
                        )
                    per_search = (time.perf_counter() - started) / REPEATS * 1000
                    sent[0] = 0
                    await student_service.search_active_lessons(ctx, text=text, teacher=teacher)
                    print(
                        f"{count + 1:>6} active lessons  {label:<8} {per_search:6.2f} ms/search  "
                        f"{sent[0]:>3} Redis commands  {len(found.lessons):>2} found"
                        f"{'  (more: refine)' if found.more else ''}"
                    )
            await ctx.redis_client.redis.flushdb()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", help="a Redis database to empty and use")
    asyncio.run(main(parser.parse_args().redis_url))
