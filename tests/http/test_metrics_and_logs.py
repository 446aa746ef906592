"""`/metrics` behind its token, what it counts (by route template, never the raw path), the
request id, and the one JSON log line per request, which holds no password, token or query.

In one test process the metrics live in its memory and add up over the tests, so each test
compares a scrape after its requests with one before them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from attn.logs import JsonFormatter, logging_config
from attn.tasks.sweep import sweep_attendances
from tests.support.api import PASSWORD, Api

TOKEN = "metrics-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JOIN_ROUTE = "/api/v1/student/lessons/{lesson_id}/attendance"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    """Every sample of a scrape, by name and labels."""
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
async def metered(make_api: Callable[..., Any]) -> AsyncIterator[Api]:
    async with make_api(METRICS_TOKEN=TOKEN, TRUSTED_PROXIES="127.0.0.1") as running:
        yield running


def root_client(api: Api) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app, client=("127.0.0.1", 50000)),
        base_url="http://testserver",
    )


async def scrape(api: Api) -> Samples:
    async with root_client(api) as client:
        response = await client.get("/metrics", headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return samples(response.text)


async def test_metrics_are_off_without_their_token(api: Api) -> None:
    async with root_client(api) as client:
        response = await client.get("/metrics", headers=AUTH)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_metrics_refuse_a_scrape_without_the_token(metered: Api) -> None:
    async with root_client(metered) as client:
        for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}, {"X": "y"}):
            response = await client.get("/metrics", headers=headers)
            assert response.status_code == 401, headers
            assert response.json()["error"]["code"] == "not_authenticated"
            assert response.headers["www-authenticate"] == "Bearer"
            assert "attn_" not in response.text
        response = await client.get("/metrics", headers=AUTH)
    assert response.status_code == 200
    assert "attn_http_requests_total" in response.text


async def test_requests_joins_and_logins_are_counted_by_route_template(metered: Api) -> None:
    before = await scrape(metered)
    _, teacher = await metered.user_headers("teacher")
    student, headers = await metered.user_headers("student")
    lesson = await metered.start_lesson(teacher)
    lesson_id = lesson["lesson_id"]
    url = f"/student/lessons/{lesson_id}/attendance"
    assert (await metered.client.post(url, headers=headers)).status_code == 201
    assert (await metered.client.post(url, headers=headers)).status_code == 200
    missing = "/student/lessons/L0000000000000000000000/attendance"
    assert (await metered.client.post(missing, headers=headers)).status_code == 404
    wrong = {"school_number": student.school_number, "password": "not the password"}
    assert (await metered.client.post("/auth/login", json=wrong)).status_code == 401
    assert (await metered.client.get(f"/teacher/lessons/{lesson_id}", headers=teacher)).is_success
    after = await scrape(metered)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "attn_http_requests_total"
    assert grew(requests, route=JOIN_ROUTE, method="POST", status="201") == 1
    assert grew(requests, route=JOIN_ROUTE, method="POST", status="200") == 1
    assert grew(requests, route=JOIN_ROUTE, method="POST", status="404") == 1
    assert grew(requests, route="/api/v1/auth/login", method="POST", status="200") == 2
    assert grew(requests, route="/api/v1/auth/login", method="POST", status="401") == 1
    lesson_route = "/api/v1/teacher/lessons/{lesson_id}"
    assert grew(requests, route=lesson_route, method="GET", status="200") == 1
    assert grew("attn_joins_total", outcome="created") == 1
    assert grew("attn_joins_total", outcome="already") == 1
    assert grew("attn_joins_total", outcome="lesson_not_found") == 1
    assert grew("attn_join_duration_seconds_count") == 3
    assert grew("attn_logins_total", outcome="success") == 2
    assert grew("attn_logins_total", outcome="invalid_credentials") == 1
    # no label holds a raw path: the lesson id is in no sample
    assert not [key for key in after if any(lesson_id in v for _, v in key[1])]


async def test_a_path_no_route_has_is_counted_as_unmatched(metered: Api) -> None:
    before = await scrape(metered)
    async with root_client(metered) as client:
        for n in range(3):
            assert (await client.get(f"/no/such/path/{n}")).status_code == 404
        assert (await client.request("BREW", "/coffee")).status_code in (404, 405)
        assert (await client.get("/login?next=/teacher")).status_code == 200
    after = await scrape(metered)
    page = {"route": "/login", "method": "GET", "status": "200"}
    assert value(after, "attn_http_requests_total", **page) == (
        value(before, "attn_http_requests_total", **page) + 1
    )
    route = {"route": "unmatched", "status": "404"}
    grown = value(after, "attn_http_requests_total", method="GET", **route) - value(
        before, "attn_http_requests_total", method="GET", **route
    )
    assert grown == 3
    assert not [key for key in after if any("/no/such" in v for _, v in key[1])]
    assert not [key for key in after if ("method", "BREW") in key[1]]


async def test_the_sweep_backlog_lag_and_passes_are_scraped(metered: Api) -> None:
    _, teacher = await metered.user_headers("teacher")
    lesson = await metered.start_lesson(teacher)
    finished = await metered.client.post(
        f"/teacher/lessons/{lesson['lesson_id']}/finish", headers=teacher
    )
    assert finished.status_code == 200
    due = await scrape(metered)
    assert value(due, "attn_sweep_due_lessons") >= 1
    assert value(due, "attn_sweep_lag_seconds") >= 0
    assert ("attn_sweep_held_lessons", ()) in due
    summary = await sweep_attendances(metered.context)
    assert summary.persisted >= 1
    swept = await scrape(metered)
    assert value(swept, "attn_sweep_due_lessons") == 0
    assert value(swept, "attn_sweep_lag_seconds") == 0
    assert value(swept, "attn_sweep_passes_total", result="ok") == (
        value(due, "attn_sweep_passes_total", result="ok") + 1
    )
    assert value(swept, "attn_sweep_lessons_persisted_total") >= (
        value(due, "attn_sweep_lessons_persisted_total") + 1
    )
    assert value(swept, "attn_sweep_last_pass_timestamp_seconds") > 0


async def test_every_answer_has_a_request_id_a_trusted_proxy_may_give(metered: Api) -> None:
    async with root_client(metered) as client:
        made = await client.get("/healthz")
        assert len(made.headers["x-request-id"]) == 16
        again = await client.get("/healthz")
        assert again.headers["x-request-id"] != made.headers["x-request-id"]
        kept = await client.get("/healthz", headers={"X-Request-ID": "edge-42.abc"})
        assert kept.headers["x-request-id"] == "edge-42.abc"
        for insane in ("a b", "x" * 200, "semi;colon", 'quote"d'):
            replaced = await client.get("/healthz", headers={"X-Request-ID": insane})
            assert replaced.headers["x-request-id"] != insane
    stranger = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=metered.app, client=("192.0.2.7", 50000)),
        base_url="http://testserver",
    )
    async with stranger:
        ignored = await stranger.get("/healthz", headers={"X-Request-ID": "edge-42.abc"})
    assert ignored.headers["x-request-id"] != "edge-42.abc"


class Lines(logging.Handler):
    """The JSON lines `attn.logs.JsonFormatter` writes, parsed."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.raw: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # not the test client's own lines (the service keeps httpx's at WARNING: see below)
        if record.name != "httpx":
            self.raw.append(self.format(record))

    def parsed(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.raw]


@pytest.fixture
def log_lines() -> Any:
    handler = Lines()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


async def test_one_json_line_per_request_and_no_secret_in_any(
    metered: Api, log_lines: Lines
) -> None:
    student = await metered.add_user("student")
    login = await metered.client.post(
        "/auth/login",
        json={"school_number": student.school_number, "password": PASSWORD},
        headers={"X-Request-ID": "login-1"},
    )
    assert login.status_code == 200
    token = login.json()["access_token"]
    me = await metered.client.get(
        "/auth/me?access_token=query-secret-value",
        headers={"Authorization": f"Bearer {token}", "Cookie": "attn_session=cookie-secret"},
    )
    assert me.status_code == 200
    async with root_client(metered) as client:
        await client.get("/metrics", headers=AUTH)
    lines = log_lines.parsed()
    requests = [line for line in lines if line.get("event") == "request"]
    assert [line["route"] for line in requests] == [
        "/api/v1/auth/login",
        "/api/v1/auth/me",
        "/metrics",
    ]
    for line in requests:
        assert line["logger"] == "attn.access"
        assert line["level"] == "info"
        assert set(line) >= {"time", "request_id", "method", "route", "status", "duration_ms"}
        assert line["client"] == "127.0.0.1"
        assert isinstance(line["duration_ms"], float)
    assert requests[0]["status"] == 200 and requests[0]["method"] == "POST"
    assert requests[0]["request_id"] == login.headers["x-request-id"]
    assert requests[1]["request_id"] == me.headers["x-request-id"]
    everything = "\n".join(log_lines.raw)
    for secret in (PASSWORD, token, token.split(".", 1)[1], "query-secret", "cookie-secret", TOKEN):
        assert secret not in everything


def test_the_service_logs_no_url_its_http_client_fetches() -> None:
    config = logging_config("info", "json")
    assert config["loggers"]["httpx"]["level"] == "WARNING"
    assert config["loggers"]["uvicorn.access"]["propagate"] is False
    assert config["formatters"]["attn"] == {"()": "attn.logs.JsonFormatter"}
    assert "()" not in logging_config("info", "text")["formatters"]["attn"]


async def test_the_sweep_summary_is_logged_as_fields(metered: Api, log_lines: Lines) -> None:
    await sweep_attendances(metered.context)
    [summary] = [line for line in log_lines.parsed() if line.get("event") == "sweep"]
    assert summary["logger"] == "attn.sweep"
    assert summary["message"].startswith("sweep: ")
    for field in ("persisted", "records", "retried", "held", "failed"):
        assert isinstance(summary[field], int)
    assert isinstance(summary["duration_s"], float)


async def test_store_failures_are_counted_and_the_scrape_still_answers(
    make_api: Callable[..., Any],
) -> None:
    async with make_api(
        METRICS_TOKEN=TOKEN, REDIS_URL="redis://127.0.0.1:1/0", REDIS_POOL_TIMEOUT_SECONDS=1
    ) as down:
        before = await scrape(down)
        me = await down.client.get("/auth/me", headers={"Authorization": "Bearer S1.secret"})
        assert me.status_code == 503
        after = await scrape(down)  # without the gauges Redis would have given
    grown = {
        labels: count - before.get((name, labels), 0.0)
        for (name, labels), count in after.items()
        if name == "attn_backend_errors_total"
    }
    assert sum(n for labels, n in grown.items() if ("store", "redis") in labels) >= 2
    assert ("attn_sweep_due_lessons", ()) not in after
    assert (
        value(
            after, "attn_http_requests_total", route="/api/v1/auth/me", method="GET", status="503"
        )
        >= 1
    )


async def test_a_database_failure_is_counted(make_api: Callable[..., Any]) -> None:
    async with make_api(
        METRICS_TOKEN=TOKEN, DATABASE_URL="postgresql://nobody@127.0.0.1:1/none"
    ) as down:
        before = await scrape(down)
        login = await down.client.post(
            "/auth/login", json={"school_number": "S1", "password": "whatever"}
        )
        assert login.status_code == 503
        after = await scrape(down)
    database = {
        labels: count - before.get((name, labels), 0.0)
        for (name, labels), count in after.items()
        if name == "attn_backend_errors_total" and ("store", "database") in labels
    }
    assert sum(database.values()) == 1
    assert value(after, "attn_logins_total", outcome="error") == (
        value(before, "attn_logins_total", outcome="error") + 1
    )
