"""Name matching and time formatting rules shared by the store and the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from attn.models import AttendanceRecordRedis, format_time, normalize_name
from attn.store import keys


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("  physics   101 ", "Physics 101"),
        ("AYŞE YILMAZ", "Ayşe Yılmaz"),
        ("ayse yilmaz", "AYSE YILMAZ"),
        ("İSTANBUL", "istanbul"),
        ("\uff21\uff22\uff23", "abc"),  # full-width letters fold by NFKC
        ("Straße", "STRASSE"),
        ("a\tb\nc", "a b c"),
    ],
)
def test_names_match_case_and_space_insensitively(typed: str, stored: str) -> None:
    assert normalize_name(typed) == normalize_name(stored)
    assert keys.discovery_tag(typed, stored) == keys.discovery_tag(stored, typed)


@pytest.mark.parametrize(("one", "other"), [("Physics 1", "Physics 2"), ("Ali", "Ali Veli")])
def test_different_names_stay_different(one: str, other: str) -> None:
    assert normalize_name(one) != normalize_name(other)


def test_times_are_utc_milliseconds_with_z() -> None:
    plus_three = timezone(timedelta(hours=3))
    moment = datetime(2026, 11, 26, 20, 0, 1, 440_999, tzinfo=plus_three)
    record = AttendanceRecordRedis(
        lesson_id="0" * 32, student_number="S1", student_full_name="S", attendance_time=moment
    )
    assert record.attendance_time == datetime(2026, 11, 26, 17, 0, 1, 440_000, tzinfo=UTC)
    assert '"attendance_time":"2026-11-26T17:00:01.440Z"' in record.model_dump_json()
    assert format_time(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05.000Z"


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        AttendanceRecordRedis(
            lesson_id="0" * 32,
            student_number="S1",
            student_full_name="S",
            attendance_time=datetime(2026, 1, 1),
        )
