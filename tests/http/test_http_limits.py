"""The HTTP layer's limits on a real `attn serve`: request heads too large or too many, slow
and idle connections, slow bodies, connections per worker, and a 500 that says it closes.

The server runs with short timeouts (2 s for a head and a body, 1 s of keep-alive idleness)
and a cap of 4 connections, so each limit shows within seconds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from tests.support.database import Database
from tests.support.http_server import Server, head_and_body, read_until_closed, serving

HEADER_TIMEOUT = 2
BODY_TIMEOUT = 2
KEEPALIVE_TIMEOUT = 1
MAX_CONNECTIONS = 4
# how much later than its limit a connection may be closed (a loaded 2-core machine)
SLACK = 1.5


@pytest.fixture(scope="module")
def server(
    database: Database, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with serving(
        database,
        redis_url,
        tmp_path_factory.mktemp("limits"),
        HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT),
        BODY_TIMEOUT_SECONDS=str(BODY_TIMEOUT),
        KEEPALIVE_TIMEOUT_SECONDS=str(KEEPALIVE_TIMEOUT),
        MAX_CONNECTIONS=str(MAX_CONNECTIONS),
    ) as running:
        yield running


def request_head(server: Server, path: str = "/healthz", *extra: str) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def error_of(body: bytes) -> dict[str, Any]:
    error: dict[str, Any] = json.loads(body)["error"]
    assert set(error) >= {"code", "message"}
    return error


def test_a_20_mb_request_header_gets_431_before_the_server_buffers_it(server: Server) -> None:
    with server.connect() as connection:
        connection.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n".encode())
        connection.sendall(b"X-Big: ")
        sent, answer = 0, b""
        connection.settimeout(0.05)
        chunk = b"a" * 65536
        while sent < 20 * 1024 * 1024:
            try:
                connection.sendall(chunk)
                sent += len(chunk)
                answer = connection.recv(65536)
                if answer:
                    break
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
        rest, _ = read_until_closed(connection, 5)
    status, headers, body = head_and_body(answer + rest)
    assert status.startswith("HTTP/1.1 431"), answer + rest
    assert headers["connection"] == "close"
    assert error_of(body)["code"] == "request_header_fields_too_large"
    # refused after the documented 32 KiB and a read or two, not after 20 MB
    assert sent < 2 * 1024 * 1024


def test_too_many_or_too_large_request_headers_get_431_in_the_error_shape(
    server: Server,
) -> None:
    many = {f"x-h{number}": "1" for number in range(101)}
    response = httpx.get(f"{server.url}/healthz", headers=many)
    assert response.status_code == 431
    assert response.json()["error"]["code"] == "request_header_fields_too_large"
    large = {"x-large": "a" * (33 * 1024)}
    response = httpx.get(f"{server.url}/api/v1/auth/me", headers=large)
    assert response.status_code == 431
    assert response.headers["connection"] == "close"
    # under the limits a request is answered as usual
    assert httpx.get(f"{server.url}/healthz", headers={"x-fine": "a" * 8000}).status_code == 200


def test_a_connection_sending_one_header_byte_per_second_is_closed_in_time(
    server: Server,
) -> None:
    head = request_head(server)
    with server.connect() as connection:
        started = time.monotonic()
        connection.settimeout(1)
        closed_after = None
        for byte in head[:-4]:  # never the blank line that ends the head
            try:
                connection.sendall(bytes([byte]))
                answer = connection.recv(65536)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                closed_after = time.monotonic() - started
                break
            closed_after = time.monotonic() - started
            status, _, body = head_and_body(answer)
            assert status.startswith("HTTP/1.1 408"), answer
            assert error_of(body)["code"] == "request_timeout"
            break
    assert closed_after is not None, "the slow connection was never closed"
    assert closed_after < HEADER_TIMEOUT + SLACK


def test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout(
    server: Server,
) -> None:
    with server.connect() as connection:
        answer, seconds = read_until_closed(connection, HEADER_TIMEOUT + 5)
    assert answer == b""  # nothing was asked, so nothing is answered
    assert HEADER_TIMEOUT - 0.5 < seconds < HEADER_TIMEOUT + SLACK


def test_an_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout(
    server: Server,
) -> None:
    with server.connect() as connection:
        connection.sendall(request_head(server))
        connection.settimeout(5)
        first = connection.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        rest, seconds = read_until_closed(connection, KEEPALIVE_TIMEOUT + 5)
    # the rest of the one answer, if it came apart, and nothing after it
    assert (first + rest).count(b"HTTP/1.1 ") == 1
    assert seconds < KEEPALIVE_TIMEOUT + SLACK


def test_a_request_body_sent_one_byte_per_second_is_cut_off_after_the_body_timeout(
    server: Server,
) -> None:
    body = json.dumps({"school_number": "S1", "password": "x"}).encode()
    head = (
        f"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with server.connect() as connection:
        connection.sendall(head)
        started = time.monotonic()
        closed_after = None
        connection.settimeout(1)
        for byte in body[:-1]:
            try:
                connection.sendall(bytes([byte]))
                if connection.recv(65536) == b"":
                    closed_after = time.monotonic() - started
                    break
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                closed_after = time.monotonic() - started
                break
    assert closed_after is not None, "the slow body was read to its end"
    assert closed_after < BODY_TIMEOUT + SLACK


def test_connections_past_the_cap_per_worker_get_503_in_the_error_shape(server: Server) -> None:
    # uvicorn counts the asking connection too: with a cap of 4, three others fill it
    others = [server.connect() for _ in range(MAX_CONNECTIONS - 1)]
    try:
        time.sleep(0.2)
        with server.connect() as connection:
            connection.sendall(request_head(server, "/healthz"))
            answer, _ = read_until_closed(connection, 5)
        status, headers, body = head_and_body(answer)
        assert status.startswith("HTTP/1.1 503"), answer
        assert headers["content-type"] == "application/json"
        assert headers["retry-after"] == "1"
        assert error_of(body)["code"] == "service_unavailable"
    finally:
        for other in others:
            other.close()
    time.sleep(0.2)
    assert httpx.get(f"{server.url}/healthz").status_code == 200


async def test_a_500_says_connection_close_and_the_connection_is_closed(
    server: Server, redis: aioredis.Redis
) -> None:
    # a session the server cannot read: an unexpected error, so a 500
    await redis.set("attn:session:{u:S500}", "not a session")
    with server.connect() as connection:
        connection.sendall(request_head(server, "/api/v1/auth/me", "Authorization: Bearer S500.x"))
        answer, seconds = read_until_closed(connection, 5)
    status, headers, body = head_and_body(answer)
    assert status.startswith("HTTP/1.1 500"), answer
    assert headers["connection"] == "close"
    assert error_of(body)["code"] == "internal_error"
    assert seconds < 5  # closed, not left for the keep-alive timeout to find


def test_every_limit_and_timeout_is_in_the_readme_and_the_api_document() -> None:
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text()
    contract = (root / "docs" / "api.md").read_text()
    for name in (
        "ATTN_MAX_HEADER_BYTES",
        "ATTN_MAX_HEADER_COUNT",
        "ATTN_HEADER_TIMEOUT_SECONDS",
        "ATTN_BODY_TIMEOUT_SECONDS",
        "ATTN_KEEPALIVE_TIMEOUT_SECONDS",
        "ATTN_MAX_CONNECTIONS",
        "ATTN_MAX_EVENT_STREAMS_PER_USER",
        "ATTN_EVENTS_KEEPALIVE_SECONDS",
    ):
        assert f"`{name}`" in readme, name
        assert f"`{name}`" in contract, name
