"""A primary of a 3-primary + 3-replica cluster is killed (SIGKILL) in the middle of a burst of
joins. Every request meanwhile is answered 201, 200 (a retried join that had landed) or 503
with Retry-After, never a 500; the joins resume by themselves once a replica has taken over
(the cluster's node timeout is 2 s here); and after the lessons are finished and swept, every
join that was acknowledged is in SQL, with `ATTN_REDIS_WAIT_REPLICAS=1` (and two replicas
per primary, so that the promoted one still has a replica to wait for). Without it, one
replica each, the figures are only reported: replication is asynchronous, so a join the
killed primary had acknowledged but not yet sent on may be lost (README, "Redis Cluster").

Each run prints one line, `failover: ...`: how long the killed primary's lessons took no
joins, how many 503s were answered, joins acknowledged, and joins in SQL (`pytest -s`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from attn.store import keys
from attn.tasks.sweep import sweep_attendances
from tests.support.api import Api
from tests.support.redis_cluster import LocalCluster, local_cluster
from tests.support.sweep import sql_counts

pytestmark = pytest.mark.slow

LESSONS = 6
STUDENTS = 40
CONCURRENCY = 24
KILL_AFTER = 60  # joins acknowledged before the primary is killed
DEADLINE_SECONDS = 90


@pytest.mark.parametrize(
    ("wait_replicas", "replicas"),
    [(0, 1), (1, 2)],
    ids=["asynchronous-1-replica", "wait-1-of-2-replicas"],
)
async def test_a_primary_killed_in_a_join_burst(
    tmp_path: Path, make_api: Callable[..., Any], wait_replicas: int, replicas: int
) -> None:
    with local_cluster(tmp_path / "cluster", replicas=replicas, node_timeout_ms=2000) as cluster:
        async with make_api(REDIS_URL=cluster.url, REDIS_WAIT_REPLICAS=wait_replicas) as api:
            figures = await burst_through_failover(api, cluster)
    print("failover:", json.dumps(figures))
    assert figures["other_statuses"] == {}, figures
    assert figures["resumed_after_seconds"] is not None, figures
    if wait_replicas:
        assert figures["in_sql"] == figures["acknowledged"], figures


async def burst_through_failover(api: Api, cluster: LocalCluster) -> dict[str, Any]:
    ctx = api.context
    teachers = [await api.user_headers("teacher") for _ in range(LESSONS)]
    lessons = [
        (await api.start_lesson(headers, lesson_name=f"Failover {i}"))["lesson_id"]
        for i, (_, headers) in enumerate(teachers)
    ]
    students = [(await api.user_headers("student"))[1] for _ in range(STUDENTS)]
    victim = cluster.owner_of(keys.lesson(lessons[0]))
    on_victim = {
        lesson_id for lesson_id in lessons if cluster.owner_of(keys.lesson(lesson_id)) is victim
    }
    pending: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
    for s in range(STUDENTS):
        for lesson_id in lessons:
            pending.put_nowait((lesson_id, s))
    acknowledged: dict[str, set[int]] = {lesson_id: set() for lesson_id in lessons}
    statuses: dict[int, int] = {}
    killed_at: float | None = None
    resumed_at: float | None = None
    first_refusal: float | None = None
    last_refusal: float | None = None
    done = asyncio.Event()
    total = STUDENTS * LESSONS
    count = 0

    async def worker() -> None:
        nonlocal killed_at, resumed_at, first_refusal, last_refusal, count
        while not done.is_set():
            try:
                lesson_id, s = pending.get_nowait()
            except asyncio.QueueEmpty:
                await asyncio.sleep(0.05)
                continue
            sent_at = time.monotonic()
            response = await api.client.post(
                f"/student/lessons/{lesson_id}/attendance", headers=students[s]
            )
            now = time.monotonic()
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code in (200, 201):
                acknowledged[lesson_id].add(s)
                count += 1
                if killed_at is None and count >= KILL_AFTER:
                    killed_at = now
                    cluster.kill(victim)
                elif (
                    killed_at is not None
                    and resumed_at is None
                    and lesson_id in on_victim
                    and sent_at > killed_at
                ):
                    resumed_at = now
                if count == total:
                    done.set()
            elif response.status_code == 503:
                assert response.headers.get("Retry-After"), response.headers
                first_refusal = first_refusal or now
                last_refusal = now
                await asyncio.sleep(0.1)  # as a client told to come back would
                pending.put_nowait((lesson_id, s))
            else:  # recorded, and the join is not tried again
                pending.task_done()

    workers = [asyncio.create_task(worker()) for _ in range(CONCURRENCY)]
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), DEADLINE_SECONDS)
    done.set()
    await asyncio.gather(*workers)
    cluster.wait_ready()
    for (_, headers), lesson_id in zip(teachers, lessons, strict=True):
        for _ in range(50):  # the teacher's own request may meet the tail of the failover
            finished = await api.client.post(
                f"/teacher/lessons/{lesson_id}/finish", headers=headers
            )
            if finished.status_code != 503:
                break
            await asyncio.sleep(0.1)
        assert finished.status_code == 200, finished.text
    for _ in range(20):
        summary = await sweep_attendances(ctx)
        if not summary.errors and not await ctx.redis_client.due_lesson_ids(now=ctx.now()):
            break
        await asyncio.sleep(0.2)
    in_sql = 0
    for lesson_id in lessons:
        in_sql += (await sql_counts(ctx, lesson_id))[1]
    return {
        "nodes": f"3 primaries, {len(cluster.replica_nodes) // 3} replica(s) each",
        "wait_replicas": ctx.settings.REDIS_WAIT_REPLICAS,
        "joins": total,
        "acknowledged": sum(len(students_in) for students_in in acknowledged.values()),
        "in_sql": in_sql,
        "resumed_after_seconds": None
        if resumed_at is None or killed_at is None
        else round(resumed_at - killed_at, 2),
        "refusals_503": statuses.get(503, 0),
        "refused_for_seconds": None
        if first_refusal is None or last_refusal is None
        else round(last_refusal - first_refusal, 2),
        "other_statuses": {
            str(code): n for code, n in statuses.items() if code not in (200, 201, 503)
        },
    }
