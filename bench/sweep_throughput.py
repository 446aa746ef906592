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
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.lessons import fill_finished_lessons

from attn.config import Settings, to_async_database_url
from attn.db import admin
from attn.db.migrate import upgrade
from attn.services.context import open_context
from attn.store.embedded import EmbeddedRedis
from attn.tasks.sweep import sweep_attendances
from bench.proc import database_cpu_seconds

RESULTS = Path(__file__).parent / "results"


async def fill(settings: Settings, lessons: int, records: int) -> None:
    async with open_context(settings) as ctx:
        await ctx.redis_client.redis.flushdb()
        await fill_finished_lessons(ctx.redis_client, lessons=lessons, records=records)


@dataclass
class SweepResult:
    lessons: int
    records: int
    seconds: float
    sweeper_cpu: float  # CPU seconds of the sweeping process
    server_cpu: float | None  # CPU seconds of the PostgreSQL and Redis processes, if local

    def as_dict(self, database: str) -> dict[str, object]:
        return {
            "database": database,
            "lessons": self.lessons,
            "records": self.records,
            "seconds": round(self.seconds, 3),
            "records_per_second": round(self.records / self.seconds) if self.seconds else 0,
            "sweeper_cpu_seconds": round(self.sweeper_cpu, 3),
            "server_cpu_seconds": None if self.server_cpu is None else round(self.server_cpu, 3),
        }

    def line(self, database: str) -> str:
        rate = self.records / self.seconds if self.seconds else 0.0
        cpu = f"sweeper CPU {self.sweeper_cpu:.2f}s"
        if self.server_cpu is not None:
            cpu += f", PostgreSQL + Redis CPU {self.server_cpu:.2f}s"
        return (
            f"sweep [{database}]: {self.lessons} lessons, {self.records} records in "
            f"{self.seconds:.2f}s = {rate:,.0f} records/s ({cpu})"
        )


async def measure(settings: Settings) -> SweepResult:
    async with open_context(settings) as ctx:
        await ctx.redis_client.ping()
        # Read inside the context: the database's backends for this pool still exist.
        server_before = database_cpu_seconds()
        started, cpu_started = time.perf_counter(), time.process_time()
        summary = await sweep_attendances(ctx)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        server_after = database_cpu_seconds()
    server = None if server_before is None or server_after is None else server_after - server_before
    return SweepResult(summary.persisted, summary.records, elapsed, cpu, server)


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
        result = asyncio.run(measure(settings))

    backend = urlsplit(database_url).scheme
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"sweep-{backend}.json").write_text(
        json.dumps(result.as_dict(backend), indent=2) + "\n"
    )
    print(result.line(backend))


if __name__ == "__main__":
    main()
