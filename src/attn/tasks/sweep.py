"""`sweep_attendances`: move every due lesson from Redis (live state) into SQL (history).

A lesson becomes due when its teacher finishes it or its end time passes; the persistence
queue holds every lesson from the moment it is started. A pass claims due lessons (a claim
is a lease that runs out after `SWEEP_LEASE_SECONDS`, so work of a sweeper that died is taken
over) and handles each on its own:

1. read the lesson, its records and its version together;
2. in one SQL transaction upsert the users, then the lesson, then its records;
3. only after the commit, delete the live data, and only if the version did not change
   (otherwise the lesson stays due and is swept again);
4. drop it from the teacher's and students' live lists, then from the queue.

A process killed between any two steps leaves the lesson due, and the next pass repeats the
idempotent write. Correctness never depends on the lease: it only saves duplicate work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from attn.db import history
from attn.models import AttendanceRecordRedis, AuditEntry, RecordStatus
from attn.services.context import ServiceContext
from attn.store.redis_client import LessonSnapshot

log = logging.getLogger("attn.sweep")

BATCH = 64


async def _no_fault(step: str) -> None:
    return None


# Awaited with a step name between the steps of persisting one lesson; fault-injection tests
# replace it to crash, kill the process or look at the data at that point.
checkpoint: Callable[[str], Awaitable[None]] = _no_fault


class Outcome(StrEnum):
    PERSISTED = "persisted"
    ALREADY = "already persisted"
    CHANGED = "changed meanwhile"
    NOT_DUE = "not due"
    GONE = "gone"
    FAILED = "failed"


@dataclass
class SweepSummary:
    persisted: int = 0
    records: int = 0
    retried: int = 0
    duration: float = 0.0
    errors: dict[str, str] = field(default_factory=dict)

    def line(self) -> str:
        return (
            f"sweep: {self.persisted} lessons persisted, {self.records} records written, "
            f"{self.retried} lessons to retry, {self.duration:.3f}s"
        )


def final_records(
    snapshot: LessonSnapshot, now: datetime
) -> tuple[list[AttendanceRecordRedis], list[AuditEntry]]:
    """The records and audit trail a lesson ends with.

    A check-in still waiting for its verifier is rejected (`verification_timeout`), and every
    roster student without a record is marked absent; both changes are audited.
    """
    records: list[AttendanceRecordRedis] = []
    audit = list(snapshot.audit)

    def automatic(record: AttendanceRecordRedis, old: RecordStatus | None) -> None:
        audit.append(
            AuditEntry(
                lesson_id=record.lesson_id,
                student_number=record.student_number,
                changed_by=None,
                source="system",
                changed_at=now,
                old_status=old,
                new_status=record.status,
                reason=record.reason,
            )
        )

    for record in snapshot.records:
        if record.status is RecordStatus.PENDING:
            timed_out = record.model_copy(
                update={"status": RecordStatus.REJECTED, "reason": "verification_timeout"}
            )
            automatic(timed_out, RecordStatus.PENDING)
            record = timed_out
        records.append(record)
    present = {record.student_number for record in records}
    for number, full_name in sorted(snapshot.roster.items()):
        if number not in present:
            absent = AttendanceRecordRedis(
                lesson_id=snapshot.lesson.lesson_id,
                student_number=number,
                student_full_name=full_name,
                status=RecordStatus.ABSENT,
                attendance_time=None,
            )
            automatic(absent, None)
            records.append(absent)
    return records, audit


async def persist_one(ctx: ServiceContext, lesson_id: str) -> tuple[Outcome, int]:
    """Persist one claimed lesson; the outcome and how many records were written."""
    redis_client = ctx.redis_client
    await checkpoint("claimed")
    snapshot = await redis_client.read_lesson_snapshot(lesson_id)
    if snapshot is None:
        await redis_client.forget_due(lesson_id)  # persisted before, or never saved
        return Outcome.GONE, 0
    lesson, version = snapshot.lesson, snapshot.version
    now = ctx.now()
    if lesson.is_active(now):
        await redis_client.reschedule_due(lesson_id, due=lesson.end_time)
        return Outcome.NOT_DUE, 0
    records, audit = final_records(snapshot, now)
    await checkpoint("read")
    async with ctx.db() as session, session.begin():
        written = await history.persist_lesson(
            session=session, lesson=lesson, records=records, audit=audit, version=version, now=now
        )
        await checkpoint("written")
    await checkpoint("committed")
    if await redis_client.delete_persisted_lesson(lesson_id, version=version) == 0:
        await redis_client.release_claim(lesson_id)
        return Outcome.CHANGED, 0
    await checkpoint("deleted")
    # Unlist it from the teacher's lessons, then take it off the queue, in one round trip.
    # The students' lists are left to their readers, which drop lessons that left Redis:
    # one ZREM per record here was a fifth of the job's time.
    await redis_client.forget_persisted(
        lesson_id, teacher_school_number=lesson.teacher_school_number
    )
    await checkpoint("done")
    return (Outcome.PERSISTED, len(records)) if written else (Outcome.ALREADY, 0)


async def sweep_attendances(ctx: ServiceContext, *, concurrency: int | None = None) -> SweepSummary:
    """One pass: persist every due lesson this sweeper can claim."""
    started = time.perf_counter()
    summary = SweepSummary()
    lease = timedelta(seconds=ctx.settings.SWEEP_LEASE_SECONDS)
    lease_ms = int(lease.total_seconds() * 1000)
    if concurrency is None:
        concurrency = 1 if ctx.settings.async_database_url.startswith("sqlite") else 4
    limit = asyncio.Semaphore(concurrency)
    attempts: dict[str, int] = {}

    async def handle(lesson_id: str) -> None:
        async with limit:
            try:
                outcome, written = await persist_one(ctx, lesson_id)
            except Exception as exc:
                # Keep the claim: the lesson is retried when the lease runs out.
                log.warning("sweep: lesson %s failed: %s: %s", lesson_id, type(exc).__name__, exc)
                summary.errors[lesson_id] = f"{type(exc).__name__}: {exc}".splitlines()[0]
                summary.retried += 1
                return
            if outcome in (Outcome.PERSISTED, Outcome.ALREADY):
                summary.persisted += 1
                summary.records += written
                summary.errors.pop(lesson_id, None)
            elif outcome is Outcome.CHANGED:
                summary.retried += 1

    while True:
        claimed = await ctx.redis_client.claim_due_lessons(
            now=ctx.now(), lease_ms=lease_ms, limit=BATCH
        )
        # A lesson is tried at most twice a pass, and not again after it failed: its claim
        # stays until the lease runs out, and the next pass retries it.
        fresh = [
            lesson_id
            for lesson_id in claimed
            if attempts.get(lesson_id, 0) < 2 and lesson_id not in summary.errors
        ]
        for lesson_id in claimed:
            attempts[lesson_id] = attempts.get(lesson_id, 0) + 1
        if not fresh:
            break
        await asyncio.gather(*(handle(lesson_id) for lesson_id in fresh))
    summary.duration = time.perf_counter() - started
    log.info(summary.line())
    return summary


async def sweep_until_done(
    ctx: ServiceContext, *, poll_seconds: float = 0.25
) -> tuple[SweepSummary, list[str]]:
    """`attn sweep --once`: persist every lesson due now, waiting for (or taking over) work
    that other sweepers hold. Returns the summary and the lessons still left."""
    started = time.perf_counter()
    due_now = await ctx.redis_client.due_lesson_ids(now=ctx.now())
    total = SweepSummary()
    deadline = time.monotonic() + ctx.settings.SWEEP_LEASE_SECONDS + 5
    while True:
        summary = await sweep_attendances(ctx)
        total.persisted += summary.persisted
        total.records += summary.records
        total.errors.update(summary.errors)
        left = await ctx.redis_client.still_queued(due_now)
        total.retried = len(left)
        if not left:
            total.errors.clear()
            break
        # What this sweeper itself failed to write will not succeed by waiting.
        if all(lesson_id in total.errors for lesson_id in left) or time.monotonic() > deadline:
            break
        await asyncio.sleep(poll_seconds)
    total.duration = time.perf_counter() - started
    return total, left


async def run_forever(ctx: ServiceContext, stop: asyncio.Event) -> None:
    """Run a pass every `SWEEP_INTERVAL_SECONDS` until `stop` is set."""
    interval = ctx.settings.SWEEP_INTERVAL_SECONDS
    while not stop.is_set():
        try:
            await sweep_attendances(ctx)
        except Exception as exc:
            log.warning("sweep: pass failed: %s: %s", type(exc).__name__, exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
