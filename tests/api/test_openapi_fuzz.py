"""Schemathesis against the real server: no 5xx, and every response as the OpenAPI document says.

`attn serve` runs as a subprocess on a free loopback port, on the session's test database and
Redis. The document is read from its own `/openapi.json`; every operation is fuzzed with
positive and negative data, once with a teacher's token and once with a student's, and on
lesson routes also with the id of a real lesson. Failures are collected over the whole run
and reported together, each with a curl command that reproduces it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import CheckContext, not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.api import PASSWORD
from tests.support.database import Database
from tests.support.health import wait_until_healthy
from tests.support.ports import free_port
from tests.support.processes import ATTN, child_environment, stop_popen

# Fuzzing, against `attn serve` run as a real process.
pytestmark = pytest.mark.slow

MAX_EXAMPLES = 25
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")


@dataclass
class Server:
    url: str
    log: Path
    numbers: dict[str, str]  # role -> school number
    lesson_id: str

    def login(self, role: str) -> dict[str, str]:
        response = httpx.post(
            f"{self.url}/api/v1/auth/login",
            json={"school_number": self.numbers[role], "password": PASSWORD},
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def add_user(env: dict[str, str], role: str, number: str, full_name: str) -> None:
    done = subprocess.run(
        [
            str(ATTN),
            "users",
            "add",
            "--school-number",
            number,
            "--full-name",
            full_name,
            "--role",
            role,
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def server(
    database: Database, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("attn-serve")
    port = free_port()
    env = child_environment(
        DATABASE_URL=database.url,
        REDIS_URL=redis_url,
        DATA_DIR=data_dir,
        HOST="127.0.0.1",
        PORT=str(port),
        WORKERS="1",
        LOG_LEVEL="warning",
    )
    suffix = os.urandom(4).hex()
    numbers = {"teacher": f"TF{suffix}", "student": f"SF{suffix}"}
    add_user(env, "teacher", numbers["teacher"], "Fuzz Teacher")
    add_user(env, "student", numbers["student"], "Fuzz Student")

    log = data_dir / "serve.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [str(ATTN), "serve"], env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, log.read_text)
        running = Server(url, log, numbers, lesson_id="")
        started = httpx.post(
            f"{url}/api/v1/teacher/lessons",
            json={"lesson_name": "Fuzzing", "duration_minutes": 60},
            headers=running.login("teacher"),
        )
        assert started.status_code == 201, started.text
        running.lesson_id = started.json()["lesson_id"]
        joined = httpx.post(
            f"{url}/api/v1/student/lessons/{running.lesson_id}/attendance",
            json={},
            headers=running.login("student"),
        )
        assert joined.status_code == 201, joined.text
        yield running
    finally:
        stop_popen(process)


def error_body_shape(ctx: CheckContext, response: Any, case: Case) -> bool | None:
    """Every 4xx and 5xx is `{"error": {"code": <snake_case>, "message": <str>}}`."""
    if response.status_code < 400:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"error body is not JSON: {response.content[:200]!r}") from None
    assert isinstance(body, dict), f"error body is not an object: {body!r}"
    assert set(body) == {"error"}, f"error body has keys {sorted(body)}"
    error = body["error"]
    assert isinstance(error, dict), f"error is not an object: {error!r}"
    assert isinstance(error.get("code"), str), f"error code is not a string: {error!r}"
    assert SNAKE_CASE.fullmatch(error["code"]), f"error code is not snake_case: {error['code']!r}"
    assert isinstance(error.get("message"), str), f"error message is not a string: {error!r}"
    if response.status_code == 422:
        assert error["code"] == "validation_error", f"422 with code {error['code']!r}"
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    error_body_shape,
]


@dataclass
class Outcome:
    failures: dict[tuple[str, str, int], str]  # (operation, failure, status) -> report
    statuses: dict[str, set[int]]  # operation -> every status it answered with


def fuzz_operation(
    operation: Any, strategy: st.SearchStrategy[Case], headers: dict[str, str], outcome: Outcome
) -> None:
    """Send one operation's examples and record every distinct failure with a reproduction."""
    http = requests.Session()

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Case) -> None:
        response = case.call(session=http, headers=headers, timeout=15)
        outcome.statuses.setdefault(operation.label, set()).add(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                key = (operation.label, failure.title, response.status_code)
                outcome.failures.setdefault(key, str(group))

    try:
        run()
    finally:
        http.close()


# Answers each run must have seen, so that a run that only ever got 401s cannot pass.
REACHED = {
    "teacher": {
        ("GET /api/v1/teacher/lessons", 200),
        ("GET /api/v1/teacher/lessons/{lesson_id}", 200),
        ("GET /api/v1/teacher/lessons/{lesson_id}/records", 200),
        ("GET /api/v1/student/attendance", 403),
    },
    "student": {
        ("GET /api/v1/student/lessons", 200),
        ("GET /api/v1/student/lessons/{lesson_id}/attendance", 200),
        ("GET /api/v1/student/attendance", 200),
        ("GET /api/v1/teacher/lessons", 403),
    },
}


@pytest.mark.parametrize("role", ["teacher", "student"])
def test_openapi_fuzz(server: Server, role: str) -> None:
    headers = server.login(role)
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    # The live roll is an endless event stream, which a request/response fuzzer cannot read
    # to its end; tests/api/test_events.py covers it.
    operations = [
        operation
        for operation in (result.ok() for result in schema.get_all_operations())
        if not operation.path.endswith("/events")
    ]
    # Finishing the real lesson first lets a teacher start one; logging out ends the session
    # the other operations run on, so it goes last.
    first, last = "/api/v1/teacher/lessons/{lesson_id}/finish", "/api/v1/auth/logout"
    operations.sort(key=lambda operation: (operation.path != first, operation.path == last))
    assert len(operations) >= 14, [operation.label for operation in operations]

    outcome = Outcome(failures={}, statuses={})
    for operation in operations:
        strategies = [
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        ]
        if "{lesson_id}" in operation.path:
            strategies.append(
                operation.as_strategy(
                    GenerationMode.POSITIVE, path_parameters={"lesson_id": server.lesson_id}
                )
            )
        fuzz_operation(operation, st.one_of(strategies), headers, outcome)

    failures = outcome.failures
    assert not failures, f"{len(failures)} distinct failures:\n\n" + "\n\n".join(
        f"{label} | {title} | {status}\n{report}"
        for (label, title, status), report in sorted(failures.items())
    )
    missed = {
        (label, status)
        for label, status in REACHED[role]
        if status not in outcome.statuses.get(label, set())
    }
    assert not missed, f"never answered {sorted(missed)}; saw {outcome.statuses}"
    log = server.log_text()
    assert "Traceback" not in log, log


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
def test_oversized_body_over_http_is_413(server: Server, streamed: bool) -> None:
    """The body limit holds on a real socket too, for a declared and for a streamed body."""
    body = json.dumps({"lesson_name": "x" * 2 * 1024 * 1024, "duration_minutes": 30}).encode()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    teacher = server.login("teacher")
    lessons = httpx.get(f"{server.url}/api/v1/teacher/lessons", headers=teacher).json()
    headers = {**teacher, "Content-Type": "application/json"}
    paths = [
        "/api/v1/auth/login",
        "/api/v1/teacher/lessons",
        f"/api/v1/student/lessons/{server.lesson_id}/attendance",
    ]
    for path in paths:
        response = httpx.post(
            f"{server.url}{path}", content=chunks() if streamed else body, headers=headers
        )
        assert response.status_code == 413, f"{path}: {response.status_code} {response.text}"
        assert response.json()["error"]["code"] == "payload_too_large", response.text
        assert set(response.json()) == {"error"}, response.text
    assert httpx.get(f"{server.url}/api/v1/teacher/lessons", headers=teacher).json() == lessons
    assert httpx.get(f"{server.url}/healthz").status_code == 200
