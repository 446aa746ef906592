"""Metrics and logs of real processes: `attn serve --workers 2` sums both workers' counts in one
scrape and writes one JSON line per request; a worker killed with open event streams leaves
the open-streams gauge; `attn worker` answers its own /metrics behind the same token."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.cli.test_serve import Server, demo_accounts, demo_lines, stop_group
from tests.support.health import wait_until_healthy
from tests.support.ports import free_ports
from tests.support.processes import ATTN, child_environment, stop_popen

pytestmark = pytest.mark.slow

TOKEN = "scrape-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
STARTUP_TIMEOUT = 60
WAIT_SECONDS = 20


@contextlib.contextmanager
def serving(env: dict[str, str], log_dir: Path, *args: str) -> Iterator[Server]:
    """`attn serve ARGS` on a free port of the test port range, until it answers /healthz."""
    [port] = free_ports(1)
    log_dir.mkdir(parents=True, exist_ok=True)
    stdout_path, stderr_path = log_dir / "stdout.txt", log_dir / "stderr.txt"
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [ATTN, "serve", "--host", "127.0.0.1", "--port", str(port), *args],
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            env=env,
            start_new_session=True,
        )
    server = Server(process, port, stdout_path, stderr_path)
    try:
        wait_until_healthy(server.base_url, process, server.output, seconds=STARTUP_TIMEOUT)
        yield server
    finally:
        stop_group(process)


def json_lines(server: Server) -> list[dict[str, Any]]:
    """Every line of the server's standard error, each parsed as JSON (all must be)."""
    lines = []
    for line in server.stderr_path.read_text().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
        else:
            assert line.startswith("attn: "), line  # the command's own words, not a log line
    return lines


def scrape(base_url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(f"{base_url}/metrics", headers=AUTH, timeout=30)
    assert response.status_code == 200, response.text
    found = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def healthz_count(base_url: str) -> float:
    labels = (("method", "GET"), ("route", "/healthz"), ("status", "200"))
    return scrape(base_url).get(("attn_http_requests_total", labels), 0.0)


def wait_until(condition: Any, what: str, server: Server) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"{what} did not happen\n{server.output()}")


def test_two_workers_counts_are_summed_and_every_request_has_a_json_line(
    data_dir: Path, tmp_path: Path
) -> None:
    env = child_environment(DATA_DIR=data_dir, METRICS_TOKEN=TOKEN, LOG_FORMAT="json")
    with serving(env, tmp_path / "logs", "--workers", "2") as server:
        assert httpx.get(f"{server.base_url}/metrics", timeout=10).status_code == 401
        sent = 0
        pids: set[int] = set()
        # a new connection for each request, which either worker may accept
        while len(pids) < 2 and sent < 400:
            response = httpx.get(f"{server.base_url}/healthz", timeout=10)
            assert response.status_code == 200
            sent += 1
            if sent % 20 == 0:
                pids = {
                    line["pid"]
                    for line in json_lines(server)
                    if line.get("event") == "request" and line["route"] == "/healthz"
                }
        assert len(pids) == 2, f"one worker answered all {sent} requests\n{server.output()}"

        def logged() -> int:  # (the startup probes of `serving` were /healthz requests too)
            return sum(
                1
                for line in json_lines(server)
                if line.get("event") == "request" and line["route"] == "/healthz"
            )

        # a worker counts and logs a request just after it has answered it
        wait_until(
            lambda: healthz_count(server.base_url) == logged() >= sent,
            "one scrape counting every worker's requests",
            server,
        )
        lines = json_lines(server)
        requests = [line for line in lines if line.get("event") == "request"]
        assert requests, server.output()
        for line in requests:
            assert line["logger"] == "attn.access"
            assert re.fullmatch(r"[0-9a-f]{16}", line["request_id"])
            assert set(line) >= {"time", "pid", "method", "route", "status", "duration_ms"}
            assert line["client"] == "127.0.0.1"
        # uvicorn's own access log is off: no other line names a request
        assert not [line for line in lines if line["logger"] == "uvicorn.access"]
        assert [line for line in lines if line.get("event") == "sweep"], server.output()


def ended(lines: Iterator[str]) -> bool:
    """Whether an event stream ended (its worker gone): a live one sends keep-alives; one
    that is only slow to (a busy machine) is not counted as ended."""
    try:
        next(line for line in lines if line.startswith(":"))
    except StopIteration:
        return True
    except httpx.TimeoutException:
        return False
    except httpx.HTTPError:
        return True
    return False


def test_a_killed_workers_open_streams_leave_the_gauge(data_dir: Path, tmp_path: Path) -> None:
    env = child_environment(
        DATA_DIR=data_dir,
        METRICS_TOKEN=TOKEN,
        LOG_FORMAT="json",
        EVENTS_KEEPALIVE_SECONDS="0.5",
        MAX_EVENT_STREAMS_PER_USER="8",
    )
    with serving(env, tmp_path / "logs", "--workers", "2", "--demo") as server:
        base = server.base_url
        number, password = demo_accounts(demo_lines(server))["teacher"][0]
        login = httpx.post(
            f"{base}/api/v1/auth/login",
            json={"school_number": number, "password": password},
            timeout=30,
        )
        assert login.status_code == 200, login.text
        teacher = {"Authorization": f"Bearer {login.json()['access_token']}"}
        lesson = httpx.post(
            f"{base}/api/v1/teacher/lessons",
            json={"lesson_name": "Metrics", "duration_minutes": 30},
            headers=teacher,
            timeout=10,
        ).json()
        url = f"{base}/api/v1/teacher/lessons/{lesson['lesson_id']}/events"
        with contextlib.ExitStack() as stack:
            streams = []
            for _ in range(6):
                client = stack.enter_context(httpx.Client(timeout=5))
                response = stack.enter_context(client.stream("GET", url, headers=teacher))
                assert response.status_code == 200
                lines = response.iter_lines()
                assert next(line for line in lines if line.startswith("event:")) == "event: ready"
                streams.append(lines)
            open_streams = ("attn_event_streams_open", ())
            assert scrape(base)[open_streams] == 6
            workers = [
                int(found[1])
                for line in json_lines(server)
                if (found := re.fullmatch(r"Started server process \[(\d+)\]", line["message"]))
            ]
            assert len(workers) == 2, server.output()
            # Which worker holds which stream is the kernel's choice: kill the first worker,
            # then, if every stream was on the other, that one too.
            for pid in workers:
                os.kill(pid, signal.SIGKILL)
                expected = sum(not ended(lines) for lines in streams)
                wait_until(
                    lambda: scrape(base).get(open_streams) == expected,  # noqa: B023
                    f"the gauge falling to the {expected} streams still open "
                    f"(it says {scrape(base).get(open_streams)})",
                    server,
                )
                if expected < len(streams):
                    break
            assert expected < len(streams), "no stream ended with its worker"
        wait_until(lambda: scrape(base).get(open_streams) == 0, "the gauge falling to 0", server)


def test_the_worker_serves_its_own_metrics_behind_the_token(
    data_dir: Path, tmp_path: Path, redis_url: str
) -> None:
    [port] = free_ports(1)
    env = child_environment(
        DATA_DIR=data_dir,
        REDIS_URL=redis_url,
        METRICS_TOKEN=TOKEN,
        METRICS_PORT=str(port),
        SWEEP_INTERVAL_SECONDS="0.2",
        LOG_FORMAT="json",
    )
    stderr_path = tmp_path / "worker-stderr.txt"
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [ATTN, "worker"], stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr, env=env
        )
    server = Server(process, port, stderr_path, stderr_path)
    base = f"http://127.0.0.1:{port}"
    try:

        def answers() -> bool:
            assert process.poll() is None, server.output()
            with contextlib.suppress(httpx.HTTPError):
                return httpx.get(f"{base}/metrics", timeout=2).status_code == 401
            return False

        wait_until(answers, "the worker's metrics listener answering", server)
        wrong = httpx.get(f"{base}/metrics", headers={"Authorization": "Bearer nope"}, timeout=5)
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"] == "Bearer"
        assert httpx.get(f"{base}/other", headers=AUTH, timeout=5).status_code == 404
        passes = ("attn_sweep_passes_total", (("result", "ok"),))
        wait_until(lambda: scrape(base).get(passes, 0) >= 2, "two sweep passes counted", server)
        found = scrape(base)
        assert ("attn_sweep_due_lessons", ()) in found
        assert ("attn_sweep_lag_seconds", ()) in found
        assert found[("attn_sweep_last_pass_timestamp_seconds", ())] > 0
        sweeps = [
            json.loads(line)
            for line in stderr_path.read_text().splitlines()
            if line.startswith("{") and '"event": "sweep"' in line
        ]
        assert sweeps and {"persisted", "records", "held", "duration_s"} <= set(sweeps[0])
    finally:
        stop_popen(process)
