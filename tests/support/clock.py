"""The clocks tests give the app (`create_app(settings, clock=...)`), so that a lesson's end,
a code window, a rate-limit window or a sweep lease passes when the test says so.

These move only what the app computes from its clock. Redis key TTLs (sessions, refresh
tokens) run on the Redis server's own time and do not follow them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    """The real time plus an offset that tests move forward by hand."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


class FrozenClock(Clock):
    """The Clock without the real time running underneath: time moves only by `advance`, so
    a test can stand on the exact second a code window changes."""

    def __init__(self) -> None:
        super().__init__()
        self.base = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.base + self.offset

    def advance_to(self, moment: datetime) -> None:
        delta = moment - self()
        assert delta >= timedelta(0), "time only moves forward"
        self.advance(microseconds=delta // timedelta(microseconds=1))
