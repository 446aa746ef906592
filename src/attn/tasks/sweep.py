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

A lesson the database refuses (a value it cannot store, a broken constraint: a failure of that
lesson's own data, written alone twice, not an outage) or whose live data cannot be read is
set aside rather than retried for ever: it leaves the queue for the held index with the error
(`RedisClient.hold_lesson`), its live data untouched, and the other lessons go on. An operator
lists, exports and puts it back with `attn sweep held|export|retry` (`attn.tasks.held`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from redis.exceptions import RedisError

from attn import metrics
from attn.db import history
from attn.db.refusals import refuses_write
from attn.models import (
    AttendanceRecordRedis,
    AuditEntry,
    HeldLesson,
    RecordStatus,
    normalize_name,
)
from attn.services import lti_courses
from attn.services.context import ServiceContext
from attn.store.redis_client import DropOutcome, LessonSnapshot

log = logging.getLogger("attn.sweep")

BATCH = 100  # lessons claimed at a time
LESSONS_PER_TRANSACTION = 25


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


class UnreadableLesson(Exception):
    """A lesson's live data is stored in a form that cannot be read (not a Redis outage)."""


@dataclass
class SweepSummary:
    persisted: int = 0
    records: int = 0
    retried: int = 0
    duration: float = 0.0
    errors: dict[str, str] = field(default_factory=dict)
    held: dict[str, str] = field(default_factory=dict)  # lessons set aside here, with why

    def fields(self) -> dict[str, object]:
        """The summary as log fields (`attn.logs`: a JSON line's keys)."""
        return {
            "event": "sweep",
            "persisted": self.persisted,
            "records": self.records,
            "retried": self.retried,
            "held": len(self.held),
            "failed": len(self.errors),
            "duration_s": round(self.duration, 3),
        }

    def line(self) -> str:
        return (
            f"sweep: {self.persisted} lessons persisted, {self.records} records written, "
            f"{self.retried} lessons to retry, {len(self.held)} lessons held, "
            f"{self.duration:.3f}s"
        )


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:1000]


def refused(exc: BaseException) -> bool:
    """Whether a lesson failed on its own data, which would fail again the same way."""
    return isinstance(exc, UnreadableLesson) or refuses_write(exc)


async def _snapshot(ctx: ServiceContext, lesson_id: str) -> LessonSnapshot | None:
    try:
        return await ctx.redis_client.read_lesson_snapshot(lesson_id)
    except (RedisError, OSError):
        raise
    except Exception as exc:  # a stored value its reader refuses: the lesson's own data
        raise UnreadableLesson(f"its live data cannot be read: {_one_line(exc)}") from exc


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


async def persist_batch(
    ctx: ServiceContext, lesson_ids: Sequence[str]
) -> list[tuple[Outcome, int]]:
    """Persist claimed lessons together; per lesson, the outcome and the records written.

    Every lesson is read on its own (one MULTI in its slot), the due ones are written in one
    SQL transaction, and each one's live data is deleted only if it is still at the version
    that was read. A failure anywhere fails the whole batch: the caller then retries the
    lessons one by one, so one bad lesson never holds back the others.
    """
    redis_client = ctx.redis_client
    outcomes: dict[str, tuple[Outcome, int]] = {}
    await checkpoint("claimed")
    snapshots = await asyncio.gather(*(_snapshot(ctx, lesson_id) for lesson_id in lesson_ids))
    now = ctx.now()
    due: list[history.LessonWrite] = []
    for lesson_id, snapshot in zip(lesson_ids, snapshots, strict=True):
        if snapshot is None:
            await redis_client.forget_due(lesson_id)  # persisted before, or never saved
            outcomes[lesson_id] = (Outcome.GONE, 0)
        elif snapshot.lesson.is_active(now):
            await redis_client.reschedule_due(lesson_id, due=snapshot.lesson.end_time)
            outcomes[lesson_id] = (Outcome.NOT_DUE, 0)
        else:
            records, audit = final_records(snapshot, now)
            due.append(
                history.LessonWrite(
                    lesson=snapshot.lesson, records=records, audit=audit, version=snapshot.version
                )
            )
    if due:
        await checkpoint("read")
        async with ctx.db() as session, session.begin():
            written = await history.persist_lessons(session=session, lessons=due, now=now)
            # grade passback of linked LMS courses: queued with the lessons, sent by the worker
            await lti_courses.queue_grades(
                session,
                [
                    (
                        write.lesson.lesson_id,
                        write.lesson.teacher_school_number,
                        normalize_name(write.lesson.lesson_name),
                    )
                    for write in due
                    if write.lesson.lesson_id in written
                ],
                now,
            )
            await checkpoint("written")
        await checkpoint("committed")
        deleted = await asyncio.gather(
            *(
                redis_client.delete_persisted_lesson(write.lesson, version=write.version)
                for write in due
            )
        )
        unlist = []
        for write, reply in zip(due, deleted, strict=True):
            lesson_id = write.lesson.lesson_id
            if reply.outcome is DropOutcome.CHANGED:
                await redis_client.release_claim(lesson_id)
                outcomes[lesson_id] = (Outcome.CHANGED, 0)
                continue
            if lesson_id in written:
                outcomes[lesson_id] = (Outcome.PERSISTED, len(write.records))
            else:
                outcomes[lesson_id] = (Outcome.ALREADY, 0)
            unlist.append((lesson_id, write.lesson.teacher_school_number))
        await checkpoint("deleted")
        # Unlist them from their teachers' lessons, then take them off the queue, in one
        # round trip. The students' lists are left to their readers, which drop lessons that
        # left Redis: one ZREM per record here was a fifth of the job's time.
        await redis_client.forget_persisted(unlist)
        await checkpoint("done")
    return [outcomes[lesson_id] for lesson_id in lesson_ids]


async def persist_one(ctx: ServiceContext, lesson_id: str) -> tuple[Outcome, int]:
    """Persist one claimed lesson; the outcome and how many records were written."""
    [result] = await persist_batch(ctx, [lesson_id])
    return result


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

    def count(lesson_id: str, outcome: Outcome, written: int) -> None:
        if outcome in (Outcome.PERSISTED, Outcome.ALREADY):
            summary.persisted += 1
            summary.records += written
            summary.errors.pop(lesson_id, None)
        elif outcome is Outcome.CHANGED:
            summary.retried += 1

    async def handle_one(lesson_id: str, *, failed_before: bool) -> None:
        # A lesson is set aside only when it was refused written alone after it had been
        # refused once already (in its batch, or alone the first time): then the failure is
        # its own data's, not a passing one. Any other failure keeps the claim, for a retry.
        for attempt in range(1 if failed_before else 2):
            try:
                outcome, written = await persist_one(ctx, lesson_id)
            except Exception as exc:
                if refused(exc) and attempt == 0 and not failed_before:
                    continue
                if refused(exc) and await hold(lesson_id, exc):
                    return
                # Keep the claim: the lesson is retried when the lease runs out.
                metrics.backend_error(exc)
                log.warning("sweep: lesson %s failed: %s", lesson_id, _one_line(exc))
                summary.errors[lesson_id] = _one_line(exc)
                summary.retried += 1
                return
            count(lesson_id, outcome, written)
            return

    async def hold(lesson_id: str, exc: BaseException) -> bool:
        error = _one_line(exc)
        try:
            await ctx.redis_client.hold_lesson(
                HeldLesson(lesson_id=lesson_id, error=error, held_at=ctx.now())
            )
        except Exception as hold_failed:
            log.warning("sweep: lesson %s could not be held: %s", lesson_id, hold_failed)
            return False
        log.error("sweep: lesson %s is held, the database refuses it: %s", lesson_id, error)
        summary.held[lesson_id] = error
        return True

    async def handle(lesson_ids: list[str]) -> None:
        async with limit:
            if len(lesson_ids) == 1:
                await handle_one(lesson_ids[0], failed_before=False)
                return
            try:
                results = await persist_batch(ctx, lesson_ids)
            except Exception as exc:
                # Nothing of a failed batch is counted as done; find the culprit alone.
                log.info(
                    "sweep: a batch of %d failed (%s), retrying one by one",
                    len(lesson_ids),
                    _one_line(exc),
                )
                for lesson_id in lesson_ids:
                    await handle_one(lesson_id, failed_before=True)
                return
            for lesson_id, (outcome, written) in zip(lesson_ids, results, strict=True):
                count(lesson_id, outcome, written)

    while True:
        claimed = (
            await ctx.redis_client.claim_due_lessons(now=ctx.now(), lease_ms=lease_ms, limit=BATCH)
        ).data
        # A lesson is tried at most twice a pass, and not again after it failed: its claim
        # stays until the lease runs out, and the next pass retries it.
        fresh = [
            lesson_id
            for lesson_id in claimed
            if attempts.get(lesson_id, 0) < 2
            and lesson_id not in summary.errors
            and lesson_id not in summary.held
        ]
        for lesson_id in claimed:
            attempts[lesson_id] = attempts.get(lesson_id, 0) + 1
        if not fresh:
            break
        # Spread the lessons over the lanes, each lane writing its share in transactions
        # of at most LESSONS_PER_TRANSACTION lessons.
        size = min(LESSONS_PER_TRANSACTION, -(-len(fresh) // concurrency))
        await asyncio.gather(*(handle(fresh[i : i + size]) for i in range(0, len(fresh), size)))
    summary.duration = time.perf_counter() - started
    log.info(summary.line(), extra=summary.fields())
    metrics.SWEEP_PASSES.labels("ok").inc()
    metrics.SWEEP_PERSISTED.inc(summary.persisted)
    metrics.SWEEP_RECORDS.inc(summary.records)
    metrics.SWEEP_HELD.inc(len(summary.held))
    metrics.SWEEP_SECONDS.observe(summary.duration)
    metrics.SWEEP_LAST_PASS.set(time.time())
    return summary


async def sweep_until_done(
    ctx: ServiceContext, *, poll_seconds: float = 0.25
) -> tuple[SweepSummary, list[str]]:
    """`attn sweep --once`: persist every lesson due now, waiting for (or taking over) work
    that other sweepers hold. Returns the summary and the lessons still left in the queue
    (a lesson set aside as held is not left: the summary names it)."""
    started = time.perf_counter()
    due_now = await ctx.redis_client.due_lesson_ids(now=ctx.now())
    total = SweepSummary()
    deadline = time.monotonic() + ctx.settings.SWEEP_LEASE_SECONDS + 5
    while True:
        summary = await sweep_attendances(ctx)
        total.persisted += summary.persisted
        total.records += summary.records
        total.errors.update(summary.errors)
        total.held.update(summary.held)
        left = await ctx.redis_client.still_queued(due_now)
        total.retried = len(left)
        if not left:
            total.errors.clear()
            break
        # What this sweeper itself failed to write will not succeed by waiting.
        if all(lesson_id in total.errors for lesson_id in left) or time.monotonic() > deadline:
            break
        await asyncio.sleep(poll_seconds)
    # This sweeper stops here: what it failed to write is free for the next one at once,
    # rather than after the lease (a retried `attn sweep --once` need not wait for it).
    failed = [lesson_id for lesson_id in left if lesson_id in total.errors]
    if failed:
        with contextlib.suppress(Exception):
            await ctx.redis_client.release_claims(failed)
    total.duration = time.perf_counter() - started
    return total, left
