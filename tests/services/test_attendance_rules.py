"""The rate rule itself: weights per status, a status weighted None left out of the
denominator, whole percentages rounded half up, and the rule's terms as pages put them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from attn.models import Counts, RecordStatus, StatusWeights
from attn.services.attendance import DEFAULT_WEIGHTS, AttendanceRate, rate_of, rule_terms

P, L, E, A, R, W = (
    RecordStatus.PRESENT,
    RecordStatus.LATE,
    RecordStatus.EXCUSED,
    RecordStatus.ABSENT,
    RecordStatus.REJECTED,
    RecordStatus.PENDING,
)


def test_the_default_weights() -> None:
    assert rate_of([P, L, A], DEFAULT_WEIGHTS) == AttendanceRate(2.0, 3)
    # excused lessons leave the denominator; rejected and pending earn nothing
    assert rate_of([P, E, E], DEFAULT_WEIGHTS) == AttendanceRate(1.0, 1)
    assert rate_of([R, W, P, P], DEFAULT_WEIGHTS).percent == 50
    # no lesson counted: no rate at all, not 0 %
    assert rate_of([E], DEFAULT_WEIGHTS).percent is None
    assert rate_of([], DEFAULT_WEIGHTS).share is None


def test_custom_weights() -> None:
    half_late = StatusWeights(late=0.5, excused=1.0, rejected=None)
    assert rate_of([L, L, E, R], half_late) == AttendanceRate(2.0, 3)
    assert rate_of([L, A, A], half_late).percent == 17  # 0.5 / 3 = 16.7
    assert rate_of([L, A, A, A], half_late).percent == 13  # 12.5 rounds up


@pytest.mark.parametrize(
    ("earned", "expected", "percent"),
    [(1, 3, 33), (2, 3, 67), (1, 8, 13), (0.75, 2, 38), (0.15, 1, 15), (0, 4, 0), (5, 5, 100)],
)
def test_percentages_round_half_up(earned: float, expected: int, percent: int) -> None:
    assert AttendanceRate(earned, expected).percent == percent


def test_weights_are_shares_of_a_lesson() -> None:
    for bad in ({"present": None}, {"absent": None}, {"late": 1.01}, {"late": -1}, {"x": 1}):
        with pytest.raises(ValidationError):
            StatusWeights.model_validate(bad)
    assert StatusWeights.model_validate({"late": 0}).of(L) == 0.0


def test_the_rule_in_words_names_what_earns_and_what_is_left_out() -> None:
    assert rule_terms(DEFAULT_WEIGHTS) == ([("present", 1.0), ("late", 1.0)], ["excused"])
    custom = StatusWeights(late=0.5, pending=None, excused=0.0)
    assert rule_terms(custom) == ([("present", 1.0), ("late", 0.5)], ["pending"])


def test_counts_name_every_status_and_attended() -> None:
    counts = Counts.of([P, L, L, W, E, R, A, A])
    assert counts.by_status() == {
        "present": 1,
        "late": 2,
        "pending": 1,
        "excused": 1,
        "rejected": 1,
        "absent": 2,
        "attended": 3,
    }
    assert counts.total == 8
