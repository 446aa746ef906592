"""`attn serve` as a real process: the demo on embedded defaults survives a restart, a signal
stops the embedded Valkey too, and two workers share one Valkey."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.cli import child_cmdlines, valkey_pids
from tests.support.health import wait_until_healthy
from tests.support.ports import free_port
from tests.support.processes import ATTN, child_environment

# Every test runs `attn serve` as a real process, and stops it: seconds each.
pytestmark = pytest.mark.slow

STARTUP_TIMEOUT = 30
SHUTDOWN_TIMEOUT = 10
API = "/api/v1"


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    stdout_path: Path
    stderr_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return (
            f"stdout:\n{self.stdout_path.read_text(errors='replace')}\n"
            f"stderr:\n{self.stderr_path.read_text(errors='replace')}"
        )


@contextlib.contextmanager
def serving(env: dict[str, str], log_dir: Path, *args: str) -> Iterator[Server]:
    """Run `attn serve ARGS` on a free port of 127.0.0.1 until it answers /healthz."""
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    stdout_path = log_dir / "stdout.txt"
    stderr_path = log_dir / "stderr.txt"
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [str(ATTN), "serve", "--host", "127.0.0.1", "--port", str(port), *args],
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


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """Make sure a server and everything in its session is gone."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=SHUTDOWN_TIMEOUT)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=SHUTDOWN_TIMEOUT)


def kill_leftover_valkey(data_dir: Path) -> None:
    for pid in valkey_pids(data_dir):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def stop_and_check(server: Server, data_dir: Path, signum: signal.Signals) -> None:
    """Signal the serve process: it exits within the timeout and leaves no Valkey behind."""
    server.process.send_signal(signum)
    try:
        server.process.wait(timeout=SHUTDOWN_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"attn serve did not exit after {signum.name}\n{server.output()}")
    deadline = time.monotonic() + 2
    while valkey_pids(data_dir) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not valkey_pids(data_dir), (
        f"valkey-server outlived attn serve after {signum.name}\n{server.output()}"
    )


def demo_lines(server: Server) -> list[str]:
    lines = server.stdout_path.read_text().splitlines()
    return [line for line in lines if line.startswith("demo ")]


def demo_accounts(lines: list[str]) -> dict[str, list[tuple[str, str]]]:
    accounts: dict[str, list[tuple[str, str]]] = {}
    for line in lines:
        parts = line.split(" ")
        assert len(parts) == 4, line
        _, role, number, password = parts
        assert role in ("teacher", "student", "admin"), line
        accounts.setdefault(role, []).append((number, password))
    return accounts


def login(client: httpx.Client, number: str, password: str) -> tuple[dict[str, str], Any]:
    response = client.post(
        f"{API}/auth/login", json={"school_number": number, "password": password}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return {"Authorization": f"Bearer {body['access_token']}"}, body["user"]


def start_find_and_join(
    client: httpx.Client, teacher: tuple[str, str], student: tuple[str, str], lesson_name: str
) -> dict[str, Any]:
    teacher_headers, teacher_user = login(client, *teacher)
    student_headers, _ = login(client, *student)
    response = client.post(
        f"{API}/teacher/lessons",
        json={"lesson_name": lesson_name, "duration_minutes": 60},
        headers=teacher_headers,
    )
    assert response.status_code == 201, response.text
    lesson: dict[str, Any] = response.json()
    assert lesson["status"] == "active"

    response = client.get(
        f"{API}/student/lessons",
        params={"lesson_name": lesson_name.upper(), "teacher_name": teacher_user["full_name"]},
        headers=student_headers,
    )
    assert response.status_code == 200, response.text
    assert [found["lesson_id"] for found in response.json()] == [lesson["lesson_id"]]

    response = client.post(
        f"{API}/student/lessons/{lesson['lesson_id']}/attendance",
        json={},
        headers=student_headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["student_number"] == student[0]
    return lesson


def test_serve_demo_with_embedded_defaults_and_restart(data_dir: Path, tmp_path: Path) -> None:
    env = child_environment(DATA_DIR=data_dir)
    socket_path = data_dir / "valkey" / "valkey.sock"
    assert len(str(socket_path)) <= 100  # short enough to live inside the data directory
    try:
        # First run: demo accounts are created and printed before the server answers.
        with serving(env, tmp_path / "run1", "--demo") as server:
            first_lines = demo_lines(server)  # read only after /healthz answered
            accounts = demo_accounts(first_lines)
            assert accounts.get("teacher"), server.output()
            assert accounts.get("student"), server.output()
            teacher, student = accounts["teacher"][0], accounts["student"][0]

            assert socket_path.is_socket()
            assert len(valkey_pids(data_dir)) == 1

            with httpx.Client(base_url=server.base_url, timeout=10) as client:
                lesson = start_find_and_join(client, teacher, student, "Embedded Demo")
                assert client.get("/readyz").status_code == 200
            stop_and_check(server, data_dir, signal.SIGINT)

        # Second run on the same data directory: the same accounts, the lesson survives.
        with serving(env, tmp_path / "run2", "--demo") as server:
            assert sorted(demo_lines(server)) == sorted(first_lines)
            with httpx.Client(base_url=server.base_url, timeout=10) as client:
                teacher_headers, _ = login(client, *teacher)
                student_headers, _ = login(client, *student)
                response = client.get(
                    f"{API}/teacher/lessons/{lesson['lesson_id']}", headers=teacher_headers
                )
                assert response.status_code == 200, response.text
                assert response.json()["status"] == "active"
                assert response.json()["attendee_count"] == 1
                response = client.get(
                    f"{API}/teacher/lessons/{lesson['lesson_id']}/records",
                    headers=teacher_headers,
                )
                assert response.status_code == 200, response.text
                assert [r["student_number"] for r in response.json()] == [student[0]]
                response = client.post(
                    f"{API}/student/lessons/{lesson['lesson_id']}/attendance",
                    json={},
                    headers=student_headers,
                )
                assert response.status_code == 200, response.text
                assert client.get("/readyz").status_code == 200
            stop_and_check(server, data_dir, signal.SIGINT)
    finally:
        kill_leftover_valkey(data_dir)


@pytest.mark.parametrize("signum", [signal.SIGTERM], ids=["SIGTERM"])
def test_serve_signal_stops_embedded_valkey(
    data_dir: Path, tmp_path: Path, signum: signal.Signals
) -> None:
    """`kill PID` (what systemd, docker stop and CI runners send) stops the embedded server too."""
    env = child_environment(DATA_DIR=data_dir)
    try:
        with serving(env, tmp_path / "run") as server:
            assert len(valkey_pids(data_dir)) == 1
            with httpx.Client(base_url=server.base_url, timeout=10) as client:
                assert client.get("/readyz").status_code == 200
            stop_and_check(server, data_dir, signum)
    finally:
        kill_leftover_valkey(data_dir)


def test_serve_two_workers_share_embedded_valkey(data_dir: Path, tmp_path: Path) -> None:
    env = child_environment(DATA_DIR=data_dir)
    try:
        with serving(env, tmp_path / "run", "--demo", "--workers", "2") as server:
            accounts = demo_accounts(demo_lines(server))
            assert accounts.get("teacher"), server.output()
            assert len(accounts.get("student", [])) >= 2, server.output()

            workers = [c for c in child_cmdlines(server.process.pid) if "spawn_main" in c]
            assert len(workers) == 2, child_cmdlines(server.process.pid)
            assert len(valkey_pids(data_dir)) == 1

            # A fresh connection per request, so requests spread over both workers.
            limits = httpx.Limits(max_keepalive_connections=0)
            with httpx.Client(base_url=server.base_url, timeout=10, limits=limits) as client:
                lesson = start_find_and_join(
                    client, accounts["teacher"][0], accounts["student"][0], "Two Workers"
                )
                student_headers, _ = login(client, *accounts["student"][1])
                response = client.post(
                    f"{API}/student/lessons/{lesson['lesson_id']}/attendance",
                    json={},
                    headers=student_headers,
                )
                assert response.status_code == 201, response.text
                teacher_headers, _ = login(client, *accounts["teacher"][0])
                for _ in range(6):
                    response = client.get(
                        f"{API}/teacher/lessons/{lesson['lesson_id']}", headers=teacher_headers
                    )
                    assert response.status_code == 200, response.text
                    assert response.json()["attendee_count"] == 2
                    assert client.get("/readyz").status_code == 200
            stop_and_check(server, data_dir, signal.SIGTERM)
    finally:
        kill_leftover_valkey(data_dir)


def test_serve_with_granian_joins_and_stops(data_dir: Path, tmp_path: Path) -> None:
    """`--server granian`: the same app (a join, a live roll's first event, the edge's
    headers) and a signal stops it and the embedded Valkey."""
    pytest.importorskip("granian", reason="--server granian needs granian (pip install granian)")
    env = child_environment(DATA_DIR=data_dir)
    try:
        with serving(env, tmp_path / "granian", "--demo", "--server", "granian") as server:
            accounts = demo_accounts(demo_lines(server))
            teacher, student = accounts["teacher"][0], accounts["student"][0]
            with httpx.Client(base_url=server.base_url, timeout=10) as client:
                lesson = start_find_and_join(client, teacher, student, "Granian")
                teacher_headers, _ = login(client, *teacher)
                with client.stream(
                    "GET",
                    f"{API}/teacher/lessons/{lesson['lesson_id']}/events",
                    headers=teacher_headers,
                ) as events:
                    assert events.status_code == 200
                    assert events.headers["x-content-type-options"] == "nosniff"
                    assert next(events.iter_lines()).startswith("retry: ")
                refused = client.get(f"{API}/auth/me", headers={"Host": "elsewhere.example"})
                assert refused.status_code == 400, refused.text
            stop_and_check(server, data_dir, signal.SIGTERM)
    finally:
        kill_leftover_valkey(data_dir)
