"""Fixtures of the check-in security tests.

Every test tries an attack on a join (a guessed, stale, future or malformed code; brute
force; a forged X-Forwarded-For; a shared device) and asserts the exact status and error
code, and that a refused join writes nothing. Time is frozen here (`clock` only moves when a
test advances it), so code windows and rate-limit windows are hit to the second.
"""

from __future__ import annotations

import pytest

from tests.support.clock import FrozenClock


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()
