"""What the metrics and the request log line cost a request, in process (no HTTP, no Redis).

    python -m bench.observability [--multiprocess] [--rounds 100000]
    python -m bench.observability --server      # server CPU a request, access log on and off

Times the HTTP edge (`attn.http.edge.Edge`) around an app that answers at once, before
it counted (no counting, no log line: `git show 8f498f8:src/attn/http/edge.py`) and as it is now
with the access log off (`ATTN_LOG_LEVEL=warning`: the counters only) and on (one JSON line
a request, written to /dev/null); then the direct observations alone: a labelled counter, the
join histogram. `--multiprocess` keeps the metrics in a `PROMETHEUS_MULTIPROC_DIR` (what
`attn serve` does), whose mmapped files and lock cost more than memory. Prints microseconds
per request, best of 5 runs (a busy machine inflates them all).

`--server` runs `bench.cpu`'s measurement (a real `attn serve`, one worker, 3,000 requests at
100 connections, the server's CPU time from /proc) twice: with the JSON access log on
(written to a file, as under journald) and with `ATTN_ACCESS_LOG=false`.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import logging
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from attn import logs, metrics
from attn.config import Settings

# the last commit whose edge neither counted nor logged requests
BASELINE = "8f498f8"
SCOPE: dict[str, Any] = {
    "type": "http",
    "method": "POST",
    "path": "/api/v1/student/lessons/L1/attendance",
    "raw_path": b"/api/v1/student/lessons/L1/attendance",
    "query_string": b"",
    "headers": [
        (b"host", b"127.0.0.1:8000"),
        (b"authorization", b"Bearer S1.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"),
        (b"content-type", b"application/json"),
        (b"content-length", b"2"),
    ],
    "client": ("127.0.0.1", 50000),
    "server": ("127.0.0.1", 8000),
    "scheme": "http",
    "root_path": "",
    "http_version": "1.1",
}
START = {"type": "http.response.start", "status": 201, "headers": [(b"content-length", b"2")]}
BODY = {"type": "http.response.body", "body": b"{}"}


async def answer(scope: Any, receive: Any, send: Any) -> None:
    scope["attn.route"] = "/api/v1/student/lessons/{lesson_id}/attendance"
    await send(START)
    await send(BODY)


async def receive() -> Any:
    return {"type": "http.request", "body": b"{}"}


async def send(message: Any) -> None:
    return None


def edge_before() -> Any:
    """The edge before it counted and logged requests (commit BASELINE)."""
    source = subprocess.run(  # noqa: S603 (a fixed command)
        ["git", "show", f"{BASELINE}:src/attn/http/edge.py"],  # noqa: S607 (git on PATH)
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "edge_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("edge_before", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Edge


def per_request(app: Any, rounds: int) -> float:
    async def run() -> float:
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(rounds):
                await app(dict(SCOPE), receive, send)
            best = min(best, time.perf_counter() - started)
        return best / rounds * 1e6

    return asyncio.run(run())


def per_call(call: Callable[[], Any], rounds: int) -> float:
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(rounds):
            call()
        best = min(best, time.perf_counter() - started)
    return best / rounds * 1e6


def server_cpu() -> None:
    import redis as sync_redis

    from bench import cpu
    from bench.run import environment, seed_users, server

    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="attn-obs-")))
        database_url, redis_url = stack.enter_context(environment(stack, workdir))
        asyncio.run(seed_users(database_url))
        for access_log in ("true", "false"):
            print(f"ATTN_ACCESS_LOG={access_log} (JSON lines):")
            more_env = {"ATTN_ACCESS_LOG": access_log, "ATTN_LOG_FORMAT": "json"}
            label = f"-access-log-{access_log}"
            with server(
                database_url, redis_url, 1, workdir, label=label, more_env=more_env
            ) as base:
                sync_redis.Redis.from_url(redis_url).flushdb()
                tokens = cpu.sessions(redis_url, cpu.REQUESTS)
                teacher = cpu.teacher_session(redis_url)
                asyncio.run(cpu.run(base, int(base.rsplit(":", 1)[1]), tokens, teacher))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--multiprocess", action="store_true")
    parser.add_argument("--server", action="store_true")
    parser.add_argument("--rounds", type=int, default=100_000)
    args = parser.parse_args()
    if args.server:
        server_cpu()
        return
    if args.multiprocess:
        metrics.use_directory(Path(tempfile.mkdtemp()) / "metrics")
    from attn.http.edge import Edge

    settings = Settings(PUBLIC_URL="http://127.0.0.1:8000")
    handler = logging.StreamHandler(open("/dev/null", "w"))  # noqa: SIM115
    handler.setFormatter(logs.JsonFormatter())
    logging.getLogger().addHandler(handler)
    access = logging.getLogger("attn.access")
    rounds = args.rounds
    results = {}
    results["edge before"] = per_request(edge_before()(answer, settings=settings), rounds)
    access.setLevel(logging.WARNING)
    results["edge now, log off"] = per_request(Edge(answer, settings=settings), rounds)
    access.setLevel(logging.INFO)
    results["edge now, JSON log line"] = per_request(Edge(answer, settings=settings), rounds)
    requests = metrics.REQUESTS
    results["counter.labels().inc()"] = per_call(
        lambda: requests.labels("/x/{y}", "POST", 201).inc(), rounds
    )
    histogram = metrics.JOIN_SECONDS
    results["histogram.observe()"] = per_call(lambda: histogram.observe(0.002), rounds)
    mode = "multiprocess files" if args.multiprocess else "in memory"
    print(f"metrics {mode}, {rounds} rounds, best of 5 (µs a request or call):")
    for name, micros in results.items():
        print(f"  {name:28} {micros:6.2f}")
    base = results["edge before"]
    print(f"  added by the counters:       {results['edge now, log off'] - base:6.2f}")
    print(f"  added with the log line:     {results['edge now, JSON log line'] - base:6.2f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
