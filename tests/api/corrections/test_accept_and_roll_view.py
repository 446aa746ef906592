"""The roll page's rules in the services: "accept" keeps a late check-in late and gives a
pending one what its clock earned; the roll view lists the roster students who have not
checked in yet and a change list that holds the check-ins too, with names; "add a student"
finds a roster student by name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from attn.errors import AmbiguousStudent
from attn.models import (
    AttendanceRecordRedis,
    AuditEntry,
    LessonRedis,
    RecordStatus,
    UserSessionRedis,
)
from attn.services import auth, teacher_service
from attn.tasks.sweep import sweep_attendances
from tests.support.api import Api, Headers
from tests.support.clock import Clock
from tests.support.corrections import VerifierApi, join, start


async def session_of(api: Api, headers: Headers) -> UserSessionRedis:
    return await auth.authenticate(api.context, headers["Authorization"].split()[1])


async def test_accept_keeps_late_and_gives_pending_what_its_clock_earned(
    vapi: VerifierApi, clock: Clock
) -> None:
    api = vapi.api
    _, teacher_headers = await api.user_headers("teacher")
    teacher = await session_of(api, teacher_headers)
    lesson = await start(api, teacher_headers, security=["verification"], late_after_minutes=5)
    lesson_id = lesson["lesson_id"]
    early, early_headers = await api.user_headers("student")
    assert (await join(api, early_headers, lesson_id)).json()["status"] == "pending"
    clock.advance(minutes=10)
    tardy, tardy_headers = await api.user_headers("student")
    assert (await join(api, tardy_headers, lesson_id)).json()["status"] == "pending"

    accepted = await teacher_service.accept_record(
        api.context, teacher=teacher, lesson_id=lesson_id, student_number=early.school_number
    )
    assert accepted.status is RecordStatus.PRESENT
    assert accepted.changed_by == teacher.school_number
    accepted = await teacher_service.accept_record(
        api.context, teacher=teacher, lesson_id=lesson_id, student_number=tardy.school_number
    )
    assert accepted.status is RecordStatus.LATE

    # a late record accepted stays late: confirmed by hand, not rewritten to present
    again = await teacher_service.accept_record(
        api.context, teacher=teacher, lesson_id=lesson_id, student_number=tardy.school_number
    )
    assert again.status is RecordStatus.LATE
    roll = await api.client.get(f"/teacher/lessons/{lesson_id}/records", headers=teacher_headers)
    by_number = {record["student_number"]: record for record in roll.json()}
    assert by_number[early.school_number]["status"] == "present"
    assert by_number[tardy.school_number]["status"] == "late"
    audit = await api.client.get(f"/teacher/lessons/{lesson_id}/audit", headers=teacher_headers)
    changes = [(e["student_number"], e["old_status"], e["new_status"]) for e in audit.json()]
    assert changes == [
        (early.school_number, "pending", "present"),
        (tardy.school_number, "pending", "late"),
        (tardy.school_number, "late", "late"),
    ]


def test_the_accepted_status_follows_the_join_rule() -> None:
    start_time = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    lesson = LessonRedis(
        lesson_id="a" * 32,
        lesson_name="Fizik 101",
        teacher_school_number="T1",
        teacher_full_name="Ayşe Yılmaz",
        start_time=start_time,
        end_time=start_time + timedelta(hours=1),
        late_after_minutes=5,
    )

    def record(status: RecordStatus, minutes: float | None) -> AttendanceRecordRedis:
        at = None if minutes is None else start_time + timedelta(minutes=minutes)
        return AttendanceRecordRedis(
            lesson_id=lesson.lesson_id,
            student_number="S1",
            student_full_name="Elif Kaya",
            attendance_time=at,
            status=status,
        )

    accepted = teacher_service.accepted_status
    assert accepted(lesson, record(RecordStatus.PENDING, 5)) is RecordStatus.PRESENT  # not past
    assert accepted(lesson, record(RecordStatus.PENDING, 5.01)) is RecordStatus.LATE
    assert accepted(lesson, record(RecordStatus.LATE, 1)) is RecordStatus.LATE
    assert accepted(lesson, record(RecordStatus.REJECTED, 20)) is RecordStatus.LATE
    assert accepted(lesson, record(RecordStatus.ABSENT, None)) is RecordStatus.PRESENT
    untimed = lesson.model_copy(update={"late_after_minutes": None})
    assert accepted(untimed, record(RecordStatus.PENDING, 50)) is RecordStatus.PRESENT


async def put_roster(api: Api, headers: Headers, course: str, csv: str) -> None:
    response = await api.client.put(
        f"/teacher/rosters/{course}",
        content=csv.encode(),
        headers={**headers, "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text


async def test_the_roll_view_lists_who_has_not_checked_in_and_every_change_by_name(
    api: Api, clock: Clock
) -> None:
    _, teacher_headers = await api.user_headers("teacher")
    teacher = await session_of(api, teacher_headers)
    elif_, elif_headers = await api.user_headers("student", full_name="Elif Kaya")
    can, can_headers = await api.user_headers("student", full_name="Can Öztürk")
    await put_roster(
        api,
        teacher_headers,
        "Fizik 101",
        "school_number,full_name\n"
        f"{elif_.school_number},Elif Kaya\n{can.school_number},Can Öztürk\n"
        "R9,Şule Ağır\nR8,Ali Veli\n",
    )
    lesson = await start(api, teacher_headers, "Fizik 101")
    lesson_id = lesson["lesson_id"]

    view = await teacher_service.read_roll(api.context, teacher=teacher, lesson_id=lesson_id)
    assert view.not_yet is not None
    assert [s.full_name for s in view.not_yet] == [  # by name
        "Ali Veli",
        "Can Öztürk",
        "Elif Kaya",
        "Şule Ağır",
    ]
    assert view.changes == []

    assert (await join(api, elif_headers, lesson_id)).status_code == 201
    clock.advance(seconds=30)
    assert (await join(api, can_headers, lesson_id)).status_code == 201
    clock.advance(seconds=30)
    await teacher_service.correct_record(
        api.context,
        teacher=teacher,
        lesson_id=lesson_id,
        student_number=can.school_number,
        status=RecordStatus.REJECTED,
        reason="left early",
    )
    clock.advance(seconds=30)
    await teacher_service.add_record(
        api.context,
        teacher=teacher,
        lesson_id=lesson_id,
        student_number="R9",
        status=RecordStatus.PRESENT,
        reason=None,
    )
    view = await teacher_service.read_roll(api.context, teacher=teacher, lesson_id=lesson_id)
    assert [(s.school_number, s.full_name) for s in view.not_yet or []] == [("R8", "Ali Veli")]
    assert view.lesson.counts.attended == 2  # the rejected one is not attended
    lines = [(c.student_name, c.old_status, c.new_status, c.source, c.reason) for c in view.changes]
    assert lines == [  # newest first; the check-ins are there, the teacher's add is not doubled
        ("Şule Ağır", None, RecordStatus.PRESENT, "teacher", None),
        ("Can Öztürk", RecordStatus.PRESENT, RecordStatus.REJECTED, "teacher", "left early"),
        ("Can Öztürk", None, RecordStatus.PRESENT, "student", None),
        ("Elif Kaya", None, RecordStatus.PRESENT, "student", None),
    ]

    # persisted: the roster students without a record are absent records, no longer "not yet"
    finished = await api.client.post(
        f"/teacher/lessons/{lesson_id}/finish", headers=teacher_headers
    )
    assert finished.status_code == 200
    await sweep_attendances(api.context)
    view = await teacher_service.read_roll(api.context, teacher=teacher, lesson_id=lesson_id)
    assert view.not_yet is None
    assert view.changes[0].student_name == "Ali Veli"
    assert (view.changes[0].old_status, view.changes[0].new_status) == (None, RecordStatus.ABSENT)
    assert view.changes[0].source == "system"
    assert sorted(view.roster) == sorted([elif_.school_number, can.school_number, "R8", "R9"])


def test_a_check_in_that_was_verified_later_shows_as_a_pending_join() -> None:
    at = datetime(2026, 1, 5, 9, 1, tzinfo=UTC)
    record = AttendanceRecordRedis(
        lesson_id="a" * 32,
        student_number="S1",
        student_full_name="Elif Kaya",
        attendance_time=at,
        status=RecordStatus.PRESENT,
    )
    verified = AuditEntry(
        lesson_id="a" * 32,
        student_number="S1",
        changed_by=None,
        source="verifier",
        changed_at=at + timedelta(seconds=3),
        old_status=RecordStatus.PENDING,
        new_status=RecordStatus.PRESENT,
    )
    changes = teacher_service.change_list([record], [verified], {"S1": "Elif Kaya"})
    assert [(c.old_status, c.new_status, c.source) for c in changes] == [
        (RecordStatus.PENDING, RecordStatus.PRESENT, "verifier"),
        (None, RecordStatus.PENDING, "student"),
    ]


def test_a_student_to_add_is_found_by_number_suggestion_or_name() -> None:
    roster = {"S1": "Şule Ağır", "S2": "Ali Veli", "S3": "Ali Veli", "S4": "İrem Çelik"}
    pick = teacher_service.pick_student
    assert pick(roster, "S1") == "S1"
    assert pick(roster, " Şule Ağır (S1) ") == "S1"
    assert pick(roster, "sule agir") == "S1"  # an English keyboard
    assert pick(roster, "IREM CELIK") == "S4"
    assert pick(roster, "S99") == "S99"  # not on the roster: looked up as a number
    with pytest.raises(AmbiguousStudent) as refused:
        pick(roster, "ali veli")
    assert "(S2)" in str(refused.value) and "(S3)" in str(refused.value)
