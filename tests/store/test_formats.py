"""The stored value formats round-trip: a record as the join and update scripts store it is
the API's Record JSON byte for byte, for every status and flag; the lesson hash, the
verification entry and id, the teacher's claim and audit entries read back as written."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis

from attn.http.schemas import RecordOut
from attn.models import (
    AttendanceRecordRedis,
    AuditEntry,
    Counts,
    LessonRedis,
    RecordStatus,
    SecurityOption,
    format_time,
)
from attn.store import formats, keys
from attn.store.redis_client import (
    JoinOutcome,
    JoinRequest,
    RedisClient,
    SaveOutcome,
    UpdateOutcome,
    connect,
)

# Names that JSON must escape or keep as UTF-8: quotes, a backslash, Turkish letters, an emoji.
NAMES = ['Ayşe "Ayşo" Yılmaz', "Çağrı \\ Öztürk", "İlkay Ğü 📚"]


@pytest.fixture
async def store(redis: aioredis.Redis, redis_url: str) -> AsyncIterator[RedisClient]:
    client = RedisClient(connect(redis_url, max_connections=10, pool_timeout=5))
    yield client
    await client.close()


def lesson_with(*, late: bool, verification: bool, roster: bool) -> LessonRedis:
    start = datetime.now(UTC) - timedelta(minutes=30 if late else 0)
    options = (SecurityOption.VERIFICATION,) if verification else ()
    return LessonRedis(
        lesson_id=keys.new_lesson_id("Fizik 101", "Ayşe Yılmaz"),
        lesson_name="Fizik 101",
        teacher_school_number="T1",
        teacher_full_name="Ayşe Yılmaz",
        start_time=start,
        end_time=start + timedelta(hours=2),
        security=options,
        late_after_minutes=10 if late else None,
    )


def assert_api_record(raw: str) -> None:
    """The stored JSON is what the API's Record schema writes for it, byte for byte."""
    assert RecordOut.model_validate_json(raw).model_dump_json() == raw
    assert formats.record_json(formats.parse_record(raw)) == raw


@pytest.mark.parametrize(
    ("late", "verification", "roster", "name"),
    [
        (late, verification, roster, NAMES[index % len(NAMES)])
        for index, (late, verification, roster) in enumerate(
            itertools.product([False, True], repeat=3)
        )
    ],
)
async def test_a_record_the_join_script_writes_is_the_api_record(
    store: RedisClient, late: bool, verification: bool, roster: bool, name: str
) -> None:
    lesson = lesson_with(late=late, verification=verification, roster=roster)
    saved = await store.save_lesson(lesson, roster={"S0": "Someone Else"} if roster else None)
    assert saved.outcome is SaveOutcome.CREATED
    now = datetime.now(UTC)
    record = AttendanceRecordRedis(
        lesson_id=lesson.lesson_id,
        student_number="S1",
        student_full_name=name,
        attendance_time=now.replace(microsecond=now.microsecond // 1000 * 1000),
    )
    reply = await store.add_attendance_record(
        record, JoinRequest(verification_id=formats.new_verification_id(lesson.lesson_id))
    )
    assert reply.outcome is JoinOutcome.CREATED and reply.data.record_json is not None
    raw = reply.data.record_json
    assert_api_record(raw)
    stored = formats.parse_record(raw)
    expected = (
        RecordStatus.PENDING
        if verification
        else (RecordStatus.LATE if late else RecordStatus.PRESENT)
    )
    assert stored.status is expected
    assert stored.flags == (("not_on_roster",) if roster else ())
    assert stored.model_copy(update={"status": RecordStatus.PRESENT, "flags": ()}) == record
    # what the script wrote sorts as the roll does
    assert stored.attendance_time is not None
    assert formats.raw_roll_order(raw) == (False, format_time(stored.attendance_time), "S1")


@pytest.mark.parametrize("status", list(RecordStatus))
async def test_a_record_every_status_stores_is_the_api_record(
    store: RedisClient, status: RecordStatus
) -> None:
    lesson = lesson_with(late=False, verification=False, roster=False)
    await store.save_lesson(lesson)
    joined = await store.add_attendance_record(
        AttendanceRecordRedis(
            lesson_id=lesson.lesson_id,
            student_number="S1",
            student_full_name=NAMES[0],
            attendance_time=datetime.now(UTC),
        )
    )
    raw = joined.data.record_json
    assert raw is not None
    now = datetime.now(UTC).replace(microsecond=0)  # stored times keep milliseconds
    decided = formats.parse_record(raw).model_copy(
        update={
            "status": status,
            "reason": 'Arkadaşı imzaladı "dedi"' if status is RecordStatus.REJECTED else None,
            "changed_by": "T1",
            "changed_at": now,
            "flags": ("not_on_roster",),
        }
    )
    updated = await store.update_record(
        lesson.lesson_id, "S1", expected=raw, new=formats.record_json(decided), audit=None
    )
    assert updated.outcome is UpdateOutcome.OK
    snapshot = await store.read_lesson_snapshot(lesson.lesson_id)
    assert snapshot is not None
    (_, raw_roll) = await store.read_roll_json(lesson.lesson_id)
    assert_api_record(raw_roll[0])
    assert snapshot.records == [decided]
    # the update script moves the record from its old status's counter to its new one's
    assert snapshot.lesson.counts == Counts.of([status])
    assert formats.record_status(raw_roll[0]) is status
    assert snapshot.lesson.attendee_count == (status in (RecordStatus.PRESENT, RecordStatus.LATE))


def test_the_lesson_hash_round_trips() -> None:
    lesson = LessonRedis(
        lesson_id=keys.new_lesson_id("Fizik", "Ayşe"),
        lesson_name="Fizik",
        teacher_school_number="T1",
        teacher_full_name="Ayşe",
        start_time=datetime(2026, 12, 1, 9, 0, 0, 123000, tzinfo=UTC),
        end_time=datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
        finished_at=datetime(2026, 12, 1, 9, 45, tzinfo=UTC),
        counts=Counts(present=2, late=1, rejected=4),
        security=(SecurityOption.CODE, SecurityOption.NETWORK),
        allowed_subnets=("10.1.2.0/24", "2001:db8::/64"),
        late_after_minutes=15,
    )
    fields = formats.lesson_to_hash(lesson, has_roster=True)
    assert formats.lesson_from_hash(fields) == lesson
    assert fields["sec_code"] == "1" and fields["sec_device"] == "0"
    assert fields["has_roster"] == "1"
    assert fields["networks"].split(",")[0] == "4:" + format(10 << 16 | 1 << 8 | 2, "024b")


def test_verifications_and_claims_round_trip() -> None:
    lesson_id = keys.new_lesson_id("Fizik", "Ayşe")
    verification_id = formats.new_verification_id(lesson_id)
    assert formats.verification_lesson_id(verification_id) == lesson_id
    for bad in ("", lesson_id, verification_id + "0", verification_id.upper(), "g" * 48):
        assert formats.verification_lesson_id(bad) is None
    entry = formats.Verification("S1", "late", formats.VerificationState.OPEN)
    assert entry.encode() == "S1|late|open"  # as the join script writes it
    assert formats.Verification.parse(entry.encode()) == entry
    assert entry.answered().encode() == "S1|late|answered"
    claimed_at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    claim = formats.claim_value(lesson_id, claimed_at)
    assert claim.startswith(lesson_id + "|")  # what release_teacher_lesson.lua matches
    assert formats.parse_claim(claim) == (lesson_id, int(claimed_at.timestamp() * 1000))


def test_audit_entries_round_trip() -> None:
    entry = AuditEntry(
        lesson_id=keys.new_lesson_id("Fizik", "Ayşe"),
        student_number="S1",
        changed_by=None,
        source="verifier",
        changed_at=datetime(2026, 12, 1, 9, 0, 1, tzinfo=UTC),
        old_status=RecordStatus.PENDING,
        new_status=RecordStatus.REJECTED,
        reason="verification_failed",
    )
    assert formats.parse_audit(formats.audit_json(entry)) == entry
    assert '"changed_at":"2026-12-01T09:00:01.000Z"' in formats.audit_json(entry)


def test_a_started_oidc_sign_in_round_trips() -> None:
    pending = formats.OidcPending(
        nonce="n" * 43, verifier="v" * 64, target="/join/ab?code=123456", remember=True
    )
    raw = formats.dump_oidc_pending(pending)
    assert formats.load_oidc_pending(raw) == pending
    assert json.loads(raw) == {
        "nonce": "n" * 43,
        "verifier": "v" * 64,
        "target": "/join/ab?code=123456",
        "remember": True,
    }
