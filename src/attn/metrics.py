"""The service's Prometheus metrics, and `/metrics`' text.

Every metric is a direct prometheus-client counter, gauge or histogram, observed where the
thing happens (a few microseconds each; no middleware measures anything). Labels take only
bounded values: a route's template (never the raw path), a method among the known ones, a
status, an outcome or error code from a fixed set.

Several worker processes (`attn serve --workers N`) share one directory,
`PROMETHEUS_MULTIPROC_DIR`, where each process keeps its values in its own files; a scrape
sums them. `attn serve` sets it (`ATTN_DATA_DIR/metrics-<port>` unless it is set already)
and wipes it at start (`use_directory`). The open-streams gauge counts only live processes:
a worker that stops drops its files (`process_stopped`), and a scrape drops those of any
process that is gone without stopping cleanly (`forget_dead_processes`). Counters of a
stopped worker stay in the sum, so totals never go down while the server runs.

prometheus-client picks its storage when a metric is made, so the metrics are made on first
use (the module's `__getattr__`), after `use_directory` has run in the process that serves.
Imports nothing from the rest of the package.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The methods a route can answer; any other is counted as "other" (a label takes no free text).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# The route label of a request that matched no route (a 404, a probe of random paths).
UNMATCHED = "unmatched"
# Join latency buckets, seconds: a join is one Redis round trip, a millisecond or two.
JOIN_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
SWEEP_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)

# Made on first use; see the module's text.
REQUESTS: Counter
JOIN_SECONDS: Histogram
JOINS: Counter
EVENT_STREAMS: Gauge
LOGINS: Counter
BACKEND_ERRORS: Counter
SWEEP_PASSES: Counter
SWEEP_PERSISTED: Counter
SWEEP_RECORDS: Counter
SWEEP_HELD: Counter
SWEEP_SECONDS: Histogram
SWEEP_LAST_PASS: Gauge

_registry = CollectorRegistry(auto_describe=True)
_made: dict[str, Any] = {}


def _make() -> dict[str, Any]:
    reg = _registry
    return {
        "REQUESTS": Counter(
            "attn_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=reg,
        ),
        "JOIN_SECONDS": Histogram(
            "attn_join_duration_seconds",
            "Time to answer a student's join (API and page): from the request to its last byte.",
            buckets=JOIN_BUCKETS,
            registry=reg,
        ),
        "JOINS": Counter(
            "attn_joins",
            "Joins by outcome: created, already (joined before) or the refusal's error code.",
            ["outcome"],
            registry=reg,
        ),
        "EVENT_STREAMS": Gauge(
            "attn_event_streams_open",
            "Live roll event streams (SSE) open now.",
            registry=reg,
            multiprocess_mode="livesum",
        ),
        "LOGINS": Counter(
            "attn_logins",
            "Password logins by outcome: success or the refusal's error code.",
            ["outcome"],
            registry=reg,
        ),
        "BACKEND_ERRORS": Counter(
            "attn_backend_errors",
            "Requests and sweep passes a backing store failed (redis or database), by error.",
            ["store", "error"],
            registry=reg,
        ),
        "SWEEP_PASSES": Counter(
            "attn_sweep_passes",
            "Sweep passes, by result (ok or failed).",
            ["result"],
            registry=reg,
        ),
        "SWEEP_PERSISTED": Counter(
            "attn_sweep_lessons_persisted",
            "Finished lessons the sweep wrote to SQL.",
            registry=reg,
        ),
        "SWEEP_RECORDS": Counter(
            "attn_sweep_records_written",
            "Attendance records the sweep wrote to SQL.",
            registry=reg,
        ),
        "SWEEP_HELD": Counter(
            "attn_sweep_lessons_set_aside",
            "Lessons the sweep set aside (held) because the database refuses them.",
            registry=reg,
        ),
        "SWEEP_SECONDS": Histogram(
            "attn_sweep_pass_duration_seconds",
            "Duration of a sweep pass.",
            buckets=SWEEP_BUCKETS,
            registry=reg,
        ),
        "SWEEP_LAST_PASS": Gauge(
            "attn_sweep_last_pass_timestamp_seconds",
            "When the last sweep pass ended (Unix time).",
            registry=reg,
            multiprocess_mode="max",
        ),
    }


def _get(name: str) -> Any:
    return _made[name] if _made else __getattr__(name)


def __getattr__(name: str) -> Any:
    if name in __annotations__ and not _made:
        _made.update(_make())
        globals().update(_made)
        return _made[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- several processes -------------------------------------------------------------------


def use_directory(directory: Path) -> Path:
    """Make this process, and the processes it starts, keep their metrics in `directory`
    (created, and emptied of an earlier run's files)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    for path in directory.glob("*.db"):
        path.unlink()
    os.environ[MULTIPROC_ENV] = str(directory)
    _restart()
    return directory


def use_memory() -> None:
    """Keep this process's metrics in its memory, scraped alone (`attn worker`)."""
    os.environ.pop(MULTIPROC_ENV, None)
    _restart()


def _restart() -> None:
    """Make the metrics anew, on their next use, with the storage the environment names."""
    global _registry
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
    for name in _made:
        globals().pop(name, None)
    _made.clear()
    _outcomes.clear()
    _registry = CollectorRegistry(auto_describe=True)


def multiprocess_directory() -> str | None:
    directory = os.environ.get(MULTIPROC_ENV)
    return directory if directory and os.path.isdir(directory) else None


def process_stopped() -> None:
    """This process stops: its live gauges (open streams) leave the sum."""
    directory = multiprocess_directory()
    if directory is not None:
        multiprocess.mark_process_dead(os.getpid(), directory)  # type: ignore[no-untyped-call]


_LIVE_FILE = re.compile(r"gauge_live\w+?_(\d+)\.db")


def forget_dead_processes(directory: str) -> None:
    """Drop the live gauges of processes that are gone (a worker killed, not stopped)."""
    for name in os.listdir(directory):
        found = _LIVE_FILE.fullmatch(name)
        if found is not None and not _alive(int(found[1])):
            multiprocess.mark_process_dead(int(found[1]), directory)  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_directory(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)


# --- what is counted ---------------------------------------------------------------------


_REDIS_MODULES = ("redis", "valkey")
_DATABASE_MODULES = ("sqlalchemy", "asyncpg", "sqlite3", "aiosqlite", "psycopg")


def _store_of_module(module: str) -> str | None:
    if module.startswith(_REDIS_MODULES):
        return "redis"
    if module.startswith(_DATABASE_MODULES):
        return "database"
    return None


def store_of(exc: BaseException) -> str:
    """Which backing store an error comes from: redis, database or other. By the library of
    its class, else (a plain OSError, say a refused connection) by the first store library
    its traceback goes through."""
    found = _store_of_module(type(exc).__module__)
    traceback = exc.__traceback__
    while found is None and traceback is not None:
        module = traceback.tb_frame.f_globals.get("__name__", "")
        found = _store_of_module(module) if isinstance(module, str) else None
        traceback = traceback.tb_next
    return found or "other"


def backend_error(exc: BaseException) -> None:
    _get("BACKEND_ERRORS").labels(store_of(exc), type(exc).__name__).inc()


_outcomes: dict[tuple[str, str], Any] = {}


def outcome(name: str, label: str) -> None:
    """Count one under `label` in the one-label counter `name` (JOINS, LOGINS), its child
    found without prometheus-client's label lookup (the labels are error codes: bounded)."""
    child = _outcomes.get((name, label))
    if child is None:
        child = _outcomes[(name, label)] = _get(name).labels(label)
    child.inc()


def method_label(method: str) -> str:
    return method if method in METHODS else "other"


# --- the scrape --------------------------------------------------------------------------


class _Live:
    """Gauges read at scrape time (from Redis), not kept in any process."""

    def __init__(self, gauges: Iterable[tuple[str, str, float]]) -> None:
        self.gauges = list(gauges)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for name, documentation, value in self.gauges:
            yield GaugeMetricFamily(name, documentation, value=value)


def render(live: Iterable[tuple[str, str, float]] = ()) -> bytes:
    """The text of a scrape: every process's metrics (summed in multiprocess mode) and the
    gauges `live` gives as (name, help, value)."""
    directory = multiprocess_directory()
    _get("REQUESTS")  # every metric made, so that each is in the text, at 0 if need be
    if directory is not None:
        forget_dead_processes(directory)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    else:
        registry = _registry
    extra = CollectorRegistry()
    extra.register(_Live(live))
    return generate_latest(registry) + generate_latest(extra)
