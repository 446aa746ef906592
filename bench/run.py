"""The ATTN benchmark suite: `make bench`.

Starts `attn serve` itself (1 and then 2 worker processes) against a real Redis and a real SQL
database, drives it over loopback HTTP with an asyncio + aiohttp load generator, and writes
bench/results/results.md and results.json. See bench/README.md for how to read each column.

Databases: ATTN_BENCH_DATABASE_URL / ATTN_BENCH_REDIS_URL when set; otherwise the machine's
PostgreSQL (127.0.0.1:5432, a scratch database is created and dropped) and Redis
(127.0.0.1:6379, database 13, emptied) when they answer; otherwise SQLite and an embedded
Valkey in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import redis as sync_redis

from attn.config import Settings, to_async_database_url
from attn.db import admin
from attn.db.engine import create_engine
from attn.db.migrate import upgrade
from attn.db.tables import UserRow
from attn.models import LessonRedis
from attn.services.passwords import PasswordHasher
from attn.store import keys
from attn.store.embedded import EmbeddedRedis
from attn.store.redis_client import RedisClient, connect

RESULTS = Path(__file__).parent / "results"
ATTN = str(Path(sys.executable).parent / "attn")
PASSWORD = "bench-password-1234"  # noqa: S105 - the seeded accounts of a scratch database
STUDENTS = 1500
TEACHERS = 220


@dataclass
class Result:
    scenario: str
    workers: int
    ops: int
    errors: int
    seconds: float
    throughput: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    redis_commands_per_op: float | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summarize(
    scenario: str, workers: int, latencies: list[float], errors: int, seconds: float, **more: Any
) -> Result:
    ops = len(latencies) + errors
    return Result(
        scenario=scenario,
        workers=workers,
        ops=ops,
        errors=errors,
        seconds=round(seconds, 3),
        throughput=round(ops / seconds, 1) if seconds else 0.0,
        p50_ms=round(percentile(latencies, 0.50) * 1000, 2),
        p95_ms=round(percentile(latencies, 0.95) * 1000, 2),
        p99_ms=round(percentile(latencies, 0.99) * 1000, 2),
        **more,
    )


def free_port() -> int:
    """A free loopback port: from ATTN_BENCH_PORTS (`first-last`) when set, else any."""
    wanted = os.environ.get("ATTN_BENCH_PORTS", "")
    first, _, last = wanted.partition("-")
    candidates = range(int(first), int(last or first) + 1) if first else [0]
    for port in candidates:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError(f"no free port in ATTN_BENCH_PORTS={wanted}")


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


# --- environment ---------------------------------------------------------------------------


@contextmanager
def environment(stack: ExitStack, workdir: Path) -> Iterator[tuple[str, str]]:
    """(database URL, Redis URL) to run against."""
    database_url = os.environ.get("ATTN_BENCH_DATABASE_URL")
    redis_url = os.environ.get("ATTN_BENCH_REDIS_URL")
    if database_url is None and answers("127.0.0.1", 5432):
        database_url = "postgresql://postgres@127.0.0.1:5432/test"
    if redis_url is None and answers("127.0.0.1", 6379):
        redis_url = "redis://127.0.0.1:6379/13"
    if redis_url is None:
        redis_url = stack.enter_context(EmbeddedRedis(workdir, durable=False))
    if database_url is None:
        database_url = f"sqlite:///{workdir}/bench.sqlite3"
    elif database_url.startswith("postgres"):
        name = f"attn_bench_{secrets.token_hex(4)}"
        server = database_url
        database_url = asyncio.run(admin.create_database(server, name))
        stack.callback(lambda: asyncio.run(admin.drop_database(server, name)))
    upgrade(to_async_database_url(database_url))
    yield database_url, redis_url


async def seed_users(database_url: str) -> None:
    """1,500 students and the teachers, all with one password (hashed once, for speed)."""
    password_hash = PasswordHasher(1).hash_sync(PASSWORD)
    now = datetime.now(UTC)
    rows = [
        {
            "school_number": f"S{n:05d}",
            "full_name": f"Student {n}",
            "role": "student",
            "password_hash": password_hash,
            "created_at": now,
        }
        for n in range(STUDENTS)
    ] + [
        {
            "school_number": f"T{n:04d}",
            "full_name": f"Teacher {n}",
            "role": "teacher",
            "password_hash": password_hash,
            "created_at": now,
        }
        for n in range(TEACHERS)
    ]
    engine = create_engine(to_async_database_url(database_url))
    async with engine.begin() as connection:
        await connection.execute(UserRow.__table__.insert(), rows)
    await engine.dispose()


@contextmanager
def server(
    database_url: str,
    redis_url: str,
    workers: int,
    workdir: Path,
    *,
    label: str = "",
    more_env: dict[str, str] | None = None,
    more_args: tuple[str, ...] = (),
    pids: list[int] | None = None,
) -> Iterator[str]:
    """`attn serve` on a free port (its URL); `pids` gets its process id."""
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("ATTN_")}
    env.update(
        ATTN_DATABASE_URL=database_url,
        ATTN_REDIS_URL=redis_url,
        ATTN_DATA_DIR=str(workdir / "data"),
        ATTN_LOG_LEVEL="info",  # the supervisor's notes on its workers, in server-N-workers.log
        ATTN_LOGIN_MAX_FAILURES="10000",
        ATTN_LOGIN_ACCOUNT_MAX_FAILURES="10000",
        ATTN_MAX_EVENT_STREAMS_PER_USER="25",  # the live-updates scenario: 20 of one teacher
        **(more_env or {}),
    )
    RESULTS.mkdir(exist_ok=True)
    server_log = (RESULTS / f"server-{workers}-workers{label}.log").open("wb")
    command = [ATTN, "serve", "--port", str(port), "--workers", str(workers), "--no-sweep"]
    process = subprocess.Popen(  # noqa: S603
        [*command, *more_args],
        env=env,
        stdout=server_log,
        stderr=subprocess.STDOUT,
    )
    if pids is not None:
        pids.append(process.pid)
    try:
        deadline = time.monotonic() + 60
        while not answers("127.0.0.1", port):
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the service did not start")
            time.sleep(0.1)
        time.sleep(1.0 if workers > 1 else 0.2)  # every worker listening
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
        server_log.close()


# --- load ----------------------------------------------------------------------------------


class Load:
    """One aiohttp session; `burst` runs requests at once and times each."""

    def __init__(self, base: str, redis: sync_redis.Redis) -> None:
        self.base = base
        self.redis = redis
        self.error_kinds: Counter[str] = Counter()
        self.session = aiohttp.ClientSession(
            # idle connections are dropped before the server's 5 s keep-alive would close them
            connector=aiohttp.TCPConnector(limit=600, limit_per_host=600, keepalive_timeout=3),
            timeout=aiohttp.ClientTimeout(total=180),
        )

    async def close(self) -> None:
        await self.session.close()

    def commands(self) -> int:
        stats = self.redis.info("commandstats")
        return sum(int(value["calls"]) for name, value in stats.items() if name != "cmdstat_info")

    async def request(
        self, method: str, path: str, *, token: str | None = None, json_body: Any = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.session.request(
            method, self.base + path, json=json_body, headers=headers
        ) as response:
            body = await response.read()
            return response.status, json.loads(body) if body else None

    async def burst(
        self,
        calls: list[Callable[[], Awaitable[tuple[int, Any]]]],
        *,
        ok: tuple[int, ...] = (200, 201),
        concurrency: int = 10_000,
    ) -> tuple[list[float], int, float, list[Any]]:
        """Run every call (at most `concurrency` at a time); latencies, errors, seconds, bodies."""
        gate = asyncio.Semaphore(concurrency)
        latencies: list[float] = []
        bodies: list[Any] = [None] * len(calls)
        errors = 0

        async def one(index: int, call: Callable[[], Awaitable[tuple[int, Any]]]) -> None:
            nonlocal errors
            async with gate:
                started = time.perf_counter()
                try:
                    status, body = await call()
                except Exception as exc:
                    errors += 1
                    self.error_kinds[type(exc).__name__] += 1
                    return
                if status in ok:
                    latencies.append(time.perf_counter() - started)
                    bodies[index] = body
                else:
                    errors += 1
                    code = body.get("error", {}).get("code") if isinstance(body, dict) else None
                    self.error_kinds[f"{status} {code}"] += 1

        started = time.perf_counter()
        await asyncio.gather(*(one(index, call) for index, call in enumerate(calls)))
        return latencies, errors, time.perf_counter() - started, bodies


async def scenarios(base: str, workers: int, redis_url: str, only: str = "") -> list[Result]:
    redis = sync_redis.Redis.from_url(redis_url, decode_responses=True)
    redis.flushdb()
    load = Load(base, redis)
    results: list[Result] = []

    def measured(
        name: str, before: int, count: int, outcome: tuple[Any, ...], **more: Any
    ) -> Result:
        latencies, errors, seconds, _ = outcome
        if load.error_kinds:
            more.setdefault("extra", {})["error_kinds"] = dict(load.error_kinds)
            load.error_kinds.clear()
        per_op = (load.commands() - before) / count if count else None
        result = summarize(
            name,
            workers,
            latencies,
            errors,
            seconds,
            redis_commands_per_op=None if per_op is None else round(per_op, 2),
            **more,
        )
        results.append(result)
        print(
            f"  {name:<38} {result.ops:>6} ops {result.throughput:>9.1f}/s "
            f"p50 {result.p50_ms:>7.1f} p99 {result.p99_ms:>7.1f} ms  errors {result.errors}"
        )
        return result

    async def finds(tokens: list[str], lesson_id: str | None) -> None:
        """The exact find and the looser search with 10, 1,000 and 10,000 active lessons."""
        store = RedisClient(connect(redis_url, max_connections=20, pool_timeout=10))
        now = datetime.now(UTC)
        # the one lesson the first search finds, whatever the number of others
        await store.save_lesson(
            LessonRedis(
                lesson_id=keys.new_lesson_id("Kuantum Fiziği", "Ayşe Yılmaz"),
                lesson_name="Kuantum Fiziği",
                teacher_school_number="TQ000001",
                teacher_full_name="Ayşe Yılmaz",
                start_time=now,
                end_time=now + timedelta(hours=2),
            )
        )
        searches = (
            ("find", "/api/v1/student/lessons?lesson_name=Topic%207&teacher_name=Lecturer%207"),
            # one match: "kuantum fiz" by "ayse"
            ("search, 1 match", "/api/v1/student/lessons/search?q=kuantum%20fiz&teacher=ayse"),
            # every lesson has "topic" and "lect"; "7" starts 1 in 9: the bounded worst case
            ("search, broad", "/api/v1/student/lessons/search?q=topic%207&teacher=lect"),
        )
        try:
            existing = 0
            for count in (10, 1_000, 10_000):
                await add_lessons(store, existing, count - existing)
                existing = count
                for scenario, path in searches:
                    calls = [
                        (lambda token=token, path=path: load.request("GET", path, token=token))
                        for token in tokens[:1000]
                    ]
                    before = load.commands()
                    measured(
                        f"{scenario} ({count:,} active lessons)",
                        before,
                        len(calls),
                        await load.burst(calls, concurrency=50),
                    )
            if lesson_id is not None:
                results[-1].extra.update(await record_memory(store, lesson_id))
        finally:
            await store.close()

    try:
        students = [f"S{n:05d}" for n in range(STUDENTS)]
        devices = [f"bench-device-{n:08d}" for n in range(STUDENTS)]

        def login(number: str, device: str | None = None) -> Callable[[], Awaitable[Any]]:
            body: dict[str, Any] = {"school_number": number, "password": PASSWORD}
            if device:
                body |= {"remember_device": True, "device_id": device}
            return lambda: load.request("POST", "/api/v1/auth/login", json_body=body)

        if only == "find":
            outcome = await load.burst([login(n) for n in students[:1000]], concurrency=50)
            await finds([body["access_token"] for body in outcome[3] if body], None)
            return results

        # login burst: every student at once (remembering the device, for the refresh burst)
        before = load.commands()
        outcome = await load.burst([login(n, d) for n, d in zip(students, devices, strict=True)])
        measured("login burst (1,500 students)", before, STUDENTS, outcome)
        remembered = [
            (body["refresh_token"], device)
            for body, device in zip(outcome[3], devices, strict=True)
            if body
        ]

        # refresh burst: the same students come back without their passwords
        def refresh(token: str, device: str) -> Callable[[], Awaitable[Any]]:
            body = {"refresh_token": token, "device_id": device}
            return lambda: load.request("POST", "/api/v1/auth/refresh", json_body=body)

        before = load.commands()
        outcome = await load.burst([refresh(token, device) for token, device in remembered])
        measured("refresh burst (1,500 students)", before, len(remembered), outcome)
        tokens = [body["access_token"] for body in outcome[3] if body]

        # floor: an authenticated no-op through the same stack (token check only)
        calls = [
            (lambda token=token: load.request("GET", "/api/v1/auth/me", token=token))
            for token in tokens * 4
        ]
        before = load.commands()
        floor = measured(
            "floor: GET /auth/me (token check)",
            before,
            len(calls),
            await load.burst(calls, concurrency=200),
        )

        # teachers
        teacher_numbers = [f"T{n:04d}" for n in range(TEACHERS)]
        outcome = await load.burst([login(n) for n in teacher_numbers], concurrency=50)
        teacher_tokens = [body["access_token"] for body in outcome[3] if body]

        async def start(token: str, name: str) -> str:
            status, body = await load.request(
                "POST",
                "/api/v1/teacher/lessons",
                token=token,
                json_body={"lesson_name": name, "duration_minutes": 90},
            )
            assert status == 201, body
            return str(body["lesson_id"])

        def join(token: str, lesson_id: str) -> Callable[[], Awaitable[Any]]:
            return lambda: load.request(
                "POST",
                f"/api/v1/student/lessons/{lesson_id}/attendance",
                token=token,
                json_body={},
            )

        # join burst: 1,500 logged-in students join one lesson at once
        hall = await start(teacher_tokens[0], "Lecture Hall")
        before = load.commands()
        outcome = await load.burst([join(token, hall) for token in tokens])
        measured("join burst (1,500 -> 1 lesson)", before, len(tokens), outcome)

        # the same joins at the floor's concurrency, on warm connections: the fair comparison
        steady = await start(teacher_tokens[TEACHERS - 1], "Steady Lecture")
        before = load.commands()
        outcome = await load.burst([join(token, steady) for token in tokens], concurrency=200)
        joins = measured("joins, 200 concurrent (1,500)", before, len(tokens), outcome)
        joins.extra["fraction_of_floor"] = round(joins.throughput / floor.throughput, 2)

        # the roll of 1,500 records
        roll_calls = [
            (
                lambda: load.request(
                    "GET", f"/api/v1/teacher/lessons/{hall}/records", token=teacher_tokens[0]
                )
            )
            for _ in range(100)
        ]
        before = load.commands()
        measured("roll (1,500 records)", before, 100, await load.burst(roll_calls, concurrency=10))

        # live updates: 20 watchers of one lesson while 1,500 students join it
        results.append(await live_updates(load, workers, teacher_tokens[1], tokens, start, join))

        # 200 lessons x 50 students at once
        lessons = [await start(teacher_tokens[2 + n], f"Course {n}") for n in range(200)]
        calls = [
            join(tokens[(n * 50 + k) % len(tokens)], lesson_id)
            for n, lesson_id in enumerate(lessons)
            for k in range(50)
        ]
        before = load.commands()
        measured("join burst (200 lessons x 50)", before, len(calls), await load.burst(calls))

        # find and search with 10, 1,000 and 10,000 active lessons
        await finds(tokens, hall)
    finally:
        await load.close()
        redis.close()
    return results


async def add_lessons(store: RedisClient, first: int, count: int) -> None:
    """Active lessons written straight to the store (teachers of their own, for `find`)."""
    now = datetime.now(UTC)
    for n in range(first, first + count):
        name, teacher = f"Topic {n}", f"Lecturer {n}"
        await store.save_lesson(
            LessonRedis(
                lesson_id=keys.new_lesson_id(name, teacher),
                lesson_name=name,
                teacher_school_number=f"TX{n:06d}",
                teacher_full_name=teacher,
                start_time=now,
                end_time=now + timedelta(hours=2),
            )
        )


async def record_memory(store: RedisClient, lesson_id: str) -> dict[str, Any]:
    records = int(await store.redis.hlen(keys.lesson_records(lesson_id)))
    usage = int(await store.redis.memory_usage(keys.lesson_records(lesson_id)) or 0)
    lesson = int(await store.redis.memory_usage(keys.lesson(lesson_id)) or 0)
    return {
        "records_in_hall": records,
        "bytes_per_live_record": round(usage / records) if records else None,
        "bytes_per_lesson_hash": lesson,
    }


# What sends a live-updates scenario's joins: given the lesson and the tokens, it fills in
# when each student's join was sent (as it is sent) and answered (perf_counter, keyed by
# student number) and returns the errors.
JoinSender = Callable[[str, list[str], dict[str, float], dict[str, float]], Awaitable[int]]


async def live_updates(
    load: Load,
    workers: int,
    teacher_token: str,
    tokens: list[str],
    start: Any,
    join: Any,
    send_joins: JoinSender | None = None,
) -> Result:
    """20 teachers watch one lesson's event stream while 1,500 students join it; latency is
    from a join's request to each watcher's receipt of its event. The joins go through `load`
    unless `send_joins` is given."""
    lesson_id = await start(teacher_token, "Watched Lecture")
    sent: dict[str, float] = {}
    answered: dict[str, float] = {}
    arrivals: list[tuple[str, float]] = []  # (student, when a watcher read its event)
    expected = len(tokens)
    ready = 0
    all_ready = asyncio.Event()

    async def watch() -> int:
        nonlocal ready
        seen = 0
        async with load.session.get(
            f"{load.base}/api/v1/teacher/lessons/{lesson_id}/events",
            headers={"Authorization": f"Bearer {teacher_token}"},
            timeout=aiohttp.ClientTimeout(total=120),
        ) as response:
            event = ""
            async for raw in response.content:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    event = line[7:]
                    if event == "ready":
                        ready += 1
                        if ready == 20:
                            all_ready.set()
                elif line.startswith("data: ") and event == "record":
                    arrivals.append((json.loads(line[6:])["student_number"], time.perf_counter()))
                    seen += 1
                    if seen == expected:
                        return seen
        return seen

    watchers = [asyncio.create_task(watch()) for _ in range(20)]
    await asyncio.wait_for(all_ready.wait(), 30)

    def timed_join(token: str, index: int) -> Callable[[], Awaitable[Any]]:
        call = join(token, lesson_id)

        async def run() -> Any:
            number = f"S{index:05d}"
            sent[number] = time.perf_counter()
            reply = await call()
            answered[number] = time.perf_counter()
            return reply

        return run

    started = time.perf_counter()
    if send_joins is None:
        _, errors, _, _ = await load.burst([timed_join(token, n) for n, token in enumerate(tokens)])
    else:
        errors = await send_joins(lesson_id, tokens, sent, answered)
    try:
        received = await asyncio.wait_for(asyncio.gather(*watchers), 60)
    except TimeoutError:
        received = [0]
        for task in watchers:
            task.cancel()
    seconds = time.perf_counter() - started
    delays = [when - sent[number] for number, when in arrivals if number in sent]
    # from the join's answer (its record written and published) to the watcher's receipt; an
    # event read before its join's answer counts as 0
    fan_out = [max(0.0, when - answered[number]) for number, when in arrivals if number in answered]
    result = summarize(
        "live updates (1,500 joins -> 20 watchers)",
        workers,
        delays,
        0,
        seconds,
        note="latency = join request to event at each watcher",
    )
    result.ops = sum(received)
    result.throughput = round(result.ops / seconds, 1)
    result.extra = {
        "events_expected": expected * 20,
        "join_errors": errors,
        "fan_out_p99_ms": round(percentile(fan_out, 0.99) * 1000, 2),
    }
    print(
        f"  {result.scenario:<38} {result.ops:>6} events p50 {result.p50_ms:.1f} "
        f"p99 {result.p99_ms:.1f} ms"
    )
    return result


def write_report(
    results: list[Result], sweep: dict[str, Any], meta: dict[str, Any], goals_table: str = ""
) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "results.json").write_text(
        json.dumps(
            {"meta": meta, "results": [asdict(r) for r in results], "sweep": sweep}, indent=2
        )
        + "\n"
    )
    lines = [
        "# ATTN benchmark results",
        "",
        f"{meta['date']} on {meta['machine']}; database {meta['database']}, Redis {meta['redis']}.",
        "",
        *(
            ["## Goals (bench.goals)", "", goals_table, "", "## Scenarios", ""]
            if goals_table
            else []
        ),
        "| scenario | workers | ops | errors | seconds | ops/s | p50 ms | p95 ms | p99 ms "
        "| Redis cmds/op | notes |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        notes = ", ".join(f"{k} {v}" for k, v in r.extra.items())
        cmds = "" if r.redis_commands_per_op is None else f"{r.redis_commands_per_op}"
        lines.append(
            f"| {r.scenario} | {r.workers} | {r.ops} | {r.errors} | {r.seconds} | "
            f"{r.throughput} | {r.p50_ms} | {r.p95_ms} | {r.p99_ms} | {cmds} | {notes} |"
        )
    lines += [
        "",
        f"Sweep: {sweep['lessons']} lessons, {sweep['records']} records into {sweep['database']} "
        f"in {sweep['seconds']} s = **{sweep['records_per_second']:,} records/s** "
        f"(CPU seconds: the sweeping process {sweep['sweeper_cpu_seconds']}, "
        f"PostgreSQL and Redis {sweep['server_cpu_seconds']}).",
        "",
    ]
    (RESULTS / "results.md").write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the ATTN benchmarks.")
    parser.add_argument("--workers", default="1,2", help="worker counts to run, e.g. 1,2")
    parser.add_argument(
        "--only",
        choices=["find"],
        help="run only these scenarios (find: the exact find and the looser search), "
        "and no sweep; results are printed, not written",
    )
    parser.add_argument(
        "--no-goals", action="store_true", help="skip the goals (bench.goals) after the sweep"
    )
    args = parser.parse_args()
    from bench.sweep_throughput import fill, measure

    results: list[Result] = []
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="attn-bench-")))
        database_url, redis_url = stack.enter_context(environment(stack, workdir))
        asyncio.run(seed_users(database_url))
        meta = {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python "
            f"{platform.python_version()}",
            "database": database_url.split(":", 1)[0],
            "redis": redis_url.split(":", 1)[0],
        }
        for workers in [int(item) for item in args.workers.split(",")]:
            print(f"attn serve --workers {workers}")
            with server(database_url, redis_url, workers, workdir) as base:
                results += asyncio.run(scenarios(base, workers, redis_url, args.only or ""))
        if args.only:
            return
        settings = Settings(DATABASE_URL=database_url, REDIS_URL=redis_url, DATA_DIR=workdir)
        sync_redis.Redis.from_url(redis_url).flushdb()
        asyncio.run(fill(settings, 200, 50))
        measured = asyncio.run(measure(settings))
        sweep = measured.as_dict(meta["database"])
        print(f"  {measured.line(meta['database'])}")
        goals_table = ""
        if not args.no_goals:
            from bench import goals

            measured_goals = goals.run(database_url, redis_url, workdir)
            (RESULTS / "goals.json").write_text(json.dumps(measured_goals, indent=2) + "\n")
            goals_table = goals.table(measured_goals, find_p50(results), sweep)
            print(goals_table)
    write_report(results, sweep, meta, goals_table)
    print(f"wrote {RESULTS / 'results.md'}")


def find_p50(results: list[Result]) -> dict[tuple[int, int], tuple[float, float | None]]:
    """The exact find's (p50 ms, Redis commands per find) by (workers, active lessons)."""
    found = {}
    for result in results:
        for count in (10, 1_000, 10_000):
            if result.scenario == f"find ({count:,} active lessons)":
                found[result.workers, count] = (result.p50_ms, result.redis_commands_per_op)
    return found


if __name__ == "__main__":
    main()
