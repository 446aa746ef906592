"""A Sentinel failover in the middle of a stream of check-ins.

Either the primary is killed (SIGKILL) while students keep joining one lesson, and the
sentinels promote the replica about three seconds later; or the sentinels are told to fail
over (`SENTINEL FAILOVER`), which demotes the running primary to a replica of the promoted
one. Meanwhile a request is answered 503 `service_unavailable` with Retry-After, never 500,
and the students' retries get through by themselves once the replica is promoted. The sweep
worker running beside them survives the outage and persists the lesson when it is finished.
The live roll feed that was open across the failover is told that it may have missed records
(or, when its connection lived on, heard them all), and one opened after it hears the new
primary's check-ins.

Replication is asynchronous: a join acknowledged in the last moments before the failure may
not have reached the replica. The test makes sure (Redis `WAIT`) that what was acknowledged
up to a point shortly before the failure reached it, requires all of that on the promoted
primary, and reports what, if anything, was acknowledged after that point and lost (run with
`-s` to see the figures).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from attn.services.live_roll import FEED_LOST
from attn.tasks.scheduler import run_forever
from tests.support.api import Api
from tests.support.health import wait_for
from tests.support.redis_sentinel import PRIMARY_NAME, SentinelSet
from tests.support.sweep import sql_counts

pytestmark = pytest.mark.slow

STUDENTS = 60
JOINERS = 4  # requests in flight at once
KILL_AFTER = 15  # acknowledged joins before the primary is killed
RETRY_PAUSE = 0.05
PACE = 0.02  # a joiner's pause after each join: a stream, not a burst over before the failure


@dataclass
class Stream:
    """What the stream of check-ins saw."""

    acknowledged: dict[str, float] = field(default_factory=dict)  # student -> when
    attempts: list[tuple[float, float, int]] = field(default_factory=list)  # sent, answered, status
    failed_at: float = 0.0
    # set at the KILL_AFTER-th acknowledgement: the failure comes then, not after all of them
    enough: asyncio.Event = field(default_factory=asyncio.Event)
    page_statuses: list[int] = field(default_factory=list)  # the student page, in the outage

    def refusals(self) -> list[float]:
        """When each 503 came."""
        return [answered for _, answered, status in self.attempts if status == 503]

    def outage(self) -> float | None:
        """Seconds from the failure to the first join accepted that was sent after the first
        503 (None when nothing was refused)."""
        refusals = self.refusals()
        if not refusals:
            return None
        recovered = min(
            answered
            for sent, answered, status in self.attempts
            if status != 503 and sent > min(refusals)
        )
        return recovered - self.failed_at


async def join_until_accepted(
    api: Api, lesson_id: str, student: str, headers: dict[str, str], seen: Stream
) -> None:
    """Join as a student retrying after each 503 (as a phone would), until it is accepted."""
    while True:
        sent = time.monotonic()
        response = await api.client.post(
            f"/student/lessons/{lesson_id}/attendance", headers=headers
        )
        seen.attempts.append((sent, time.monotonic(), response.status_code))
        if response.status_code in (200, 201):
            seen.acknowledged[student] = time.monotonic()
            if len(seen.acknowledged) >= KILL_AFTER:
                seen.enough.set()
            await asyncio.sleep(PACE)
            return
        assert response.status_code == 503, (response.status_code, response.text)
        assert response.json()["error"]["code"] == "service_unavailable"
        assert int(response.headers["Retry-After"]) >= 1
        if not seen.page_statuses:
            seen.page_statuses.append(await student_page_status(api, headers))
        await asyncio.sleep(RETRY_PAUSE)


async def student_page_status(api: Api, headers: dict[str, str]) -> int:
    """The student's page as a browser asks for it: 200, or a 503 page with Retry-After."""
    token = headers["Authorization"].removeprefix("Bearer ")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app),
        base_url="http://testserver",
        headers={"Accept": "text/html"},
        cookies={"attn_session": token},
    ) as pages:
        page = await pages.get("/student")
    assert page.status_code in (200, 503), (page.status_code, page.text)
    if page.status_code == 503:
        assert page.headers["content-type"].startswith("text/html")
        assert int(page.headers["Retry-After"]) >= 1
    return page.status_code


@pytest.mark.parametrize("failure", ["kill", "demote"])
async def test_check_ins_get_503_during_a_failover_and_recover_by_themselves(
    failure: str,
    fresh_sentinels: SentinelSet,
    make_sentinel_api: Callable[..., Any],
    record_property: Callable[[str, object], None],
) -> None:
    servers = fresh_sentinels
    async with make_sentinel_api(servers, SWEEP_INTERVAL_SECONDS=0.2) as api:
        ctx = api.context
        _, teacher_headers = await api.user_headers("teacher")
        lesson = await api.start_lesson(teacher_headers, lesson_name="Failover")
        lesson_id = lesson["lesson_id"]
        students = [await api.user_headers("student") for _ in range(STUDENTS)]
        late_student, late_headers = await api.user_headers("student")

        # the sweep worker runs through it all, as `attn worker` would
        stop_sweeping = asyncio.Event()
        sweeper = asyncio.create_task(run_forever(ctx, stop_sweeping))
        try:
            seen = Stream()
            safe: set[str] = set()
            waiting = asyncio.Queue[tuple[str, dict[str, str]]]()
            for user, headers in students:
                waiting.put_nowait((user.school_number, headers))

            async def joiner() -> None:
                while not waiting.empty():
                    student, headers = waiting.get_nowait()
                    await join_until_accepted(api, lesson_id, student, headers, seen)

            async with ctx.redis_client.feed.listen(lesson_id) as old_feed:
                joiners = [asyncio.create_task(joiner()) for _ in range(JOINERS)]
                await asyncio.wait_for(seen.enough.wait(), 30)
                # Everything acknowledged so far is on the replica once WAIT returns; what is
                # acknowledged from here to the kill may not be.
                safe = set(seen.acknowledged)
                with servers.client(servers.primary_port) as primary:
                    primary.set("attn-test:replicated", "1")
                    assert primary.execute_command("WAIT", 1, 2000) == 1
                seen.failed_at = time.monotonic()
                if failure == "kill":
                    servers.kill(servers.primary_port)
                else:  # the sentinels promote the replica and demote the primary, still running
                    with servers.client(servers.sentinel_ports[0]) as sentinel:
                        sentinel.execute_command("SENTINEL", "FAILOVER", PRIMARY_NAME)
                await asyncio.wait_for(asyncio.gather(*joiners), 60)
                promoted = await asyncio.to_thread(servers.wait_for_failover)
                assert promoted == servers.replica_port
                roll = await ctx.redis_client.get_attendance_records(lesson_id)
                present = {record.student_number for record in roll}
                # The feed says it may have missed records (redis-py's retries may take a few
                # seconds to give up or to reconnect), or, only when its connection lived on (the
                # sentinels leave a demoted primary's subscribers connected, and as a replica it
                # relays what the promoted one publishes), hears every record.
                heard = await asyncio.wait_for(heard_until_lost_or(present, old_feed), 30)
                if FEED_LOST not in heard:
                    assert failure == "demote"

            # a feed opened now hears check-ins on the promoted primary
            async with ctx.redis_client.feed.listen(lesson_id) as new_feed:
                joined = await api.client.post(
                    f"/student/lessons/{lesson_id}/attendance", headers=late_headers
                )
                assert joined.status_code == 201, joined.text
                heard_now = await asyncio.wait_for(new_feed.get(), 10)
                assert late_student.school_number in heard_now

            roll = await ctx.redis_client.get_attendance_records(lesson_id)
            present = {record.student_number for record in roll} - {late_student.school_number}
            assert safe <= present
            lost = set(seen.acknowledged) - present  # acknowledged after the WAIT, if any
            refusals = seen.refusals()
            if failure == "kill":
                assert refusals, "the kill went unnoticed: no request was refused"
            outage = seen.outage()

            finished = await api.client.post(
                f"/teacher/lessons/{lesson_id}/finish", headers=teacher_headers
            )
            assert finished.status_code == 200, finished.text
            # the sweep worker, which ran through the outage, persists it by itself
            await wait_for(lambda: _equal(sql_counts(ctx, lesson_id), (1, len(roll))), seconds=30)
        finally:
            stop_sweeping.set()
            await asyncio.wait_for(sweeper, 10)

        figures = {
            "failure": failure,
            "seconds_until_joins_accepted_again": None if outage is None else round(outage, 2),
            "seconds_between_first_and_last_503": round(max(refusals) - min(refusals), 2)
            if refusals
            else 0,
            "refused_503": len(refusals),
            "requests": len(seen.attempts),
            "student_page_in_the_outage": seen.page_statuses[0] if seen.page_statuses else None,
            "acknowledged": len(seen.acknowledged),
            "acknowledged_after_wait": len(set(seen.acknowledged) - safe),
            "acknowledged_and_lost": len(lost),
        }
        for name, value in figures.items():
            record_property(name, value)
        print(f"\nsentinel failover: {figures}")


async def heard_until_lost_or(students: set[str], feed: asyncio.Queue[str]) -> list[str]:
    """What the feed hands over until it says it lost records, or every one of `students`'
    records has come."""
    heard: list[str] = []
    while FEED_LOST not in heard and not students <= {
        json.loads(item)["student_number"] for item in heard if item != FEED_LOST
    }:
        heard.append(await feed.get())
    return heard


async def _equal(counts: Any, expected: tuple[int, int]) -> bool:
    return bool(await counts == expected)
