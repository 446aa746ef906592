"""A real `attn serve` for the tests that need its sockets: started on a free 127.0.0.1 port
with the test database and Redis and the settings a test names, stopped (its whole process
group) afterwards. Raw-socket helpers for talking HTTP/1.1 to it byte by byte."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.database import Database

ATTN = Path(sys.executable).parent / "attn"
STARTUP_TIMEOUT = 30


@dataclass(frozen=True)
class Server:
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def connect(self, timeout: float = 10) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def serving(
    database: Database, redis_url: str, data_dir: Path, **settings: str
) -> Iterator[Server]:
    """`attn serve --no-sweep` with `ATTN_<name>=<value>` for each of `settings`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("ATTN_")}
    env.update(
        ATTN_DATABASE_URL=database.url,
        ATTN_REDIS_URL=redis_url,
        ATTN_DATA_DIR=str(data_dir / "data"),
        ATTN_LOG_LEVEL="warning",
    )
    env.update({f"ATTN_{name}": value for name, value in settings.items()})
    log = data_dir / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(ATTN), "serve", "--no-sweep", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(port, log)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            assert process.poll() is None, f"attn serve exited:\n{server.log_text()}"
            assert time.monotonic() < deadline, f"attn serve did not answer:\n{server.log_text()}"
            try:
                if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


def read_until_closed(connection: socket.socket, limit: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection (or `limit` seconds pass),
    and the seconds that took."""
    started = time.monotonic()
    received = b""
    connection.settimeout(0.2)
    while time.monotonic() - started < limit:
        try:
            chunk = connection.recv(65536)
        except TimeoutError:
            continue
        except (ConnectionResetError, BrokenPipeError):
            break
        if not chunk:
            break
        received += chunk
    return received, time.monotonic() - started


def head_and_body(answer: bytes) -> tuple[str, dict[str, str], bytes]:
    """The status line, the headers (lowercase names) and the body of one raw response."""
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


@contextlib.contextmanager
def static_site(page: str, path: str = "/") -> Iterator[str]:
    """Another web server on this host, on a free port of its own (its own origin), that
    serves `page` for every GET; yields the URL of `path` there."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tests.support.ports import free_ports

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = page.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_ports(1)[0]), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{path}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
