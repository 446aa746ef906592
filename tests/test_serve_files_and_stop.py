"""`attn serve` with the embedded defaults, run as the real executable: its data directory and
files are its owner's alone (password hashes, the server key, live lessons), and Ctrl-C or
SIGTERM stops it cleanly: the request in flight is answered, the embedded Valkey is stopped,
and it exits 0 with one line, no traceback."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ATTN = Path(sys.executable).parent / "attn"
STARTUP_TIMEOUT = 30
STOP_TIMEOUT = 20


def env_for(data_dir: Path) -> dict[str, str]:
    """The caller's environment without ATTN_* settings: the embedded defaults in `data_dir`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ATTN_")}
    env["ATTN_DATA_DIR"] = str(data_dir)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def valkey_pids(data_dir: Path) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "valkey-server" in cmdline and str(data_dir) in cmdline:
            pids.append(int(entry.name))
    return pids


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_dir: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stderr(self) -> str:
        return (self.log_dir / "stderr.txt").read_text(errors="replace")

    def stdout(self) -> str:
        return (self.log_dir / "stdout.txt").read_text(errors="replace")


@contextlib.contextmanager
def serving(data_dir: Path, log_dir: Path) -> Iterator[Server]:
    """`attn serve --demo` on a free port until it answers; always stopped afterwards."""
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / "stdout.txt").open("wb") as out, (log_dir / "stderr.txt").open("wb") as err:
        process = subprocess.Popen(
            [str(ATTN), "serve", "--demo", "--host", "127.0.0.1", "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=env_for(data_dir),
            start_new_session=True,
        )
    server = Server(process, port, log_dir)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            assert process.poll() is None, f"attn serve exited early\n{server.stderr()}"
            assert time.monotonic() < deadline, f"attn serve did not answer\n{server.stderr()}"
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{server.base_url}/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT)
        for pid in valkey_pids(data_dir):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def demo_login(server: Server) -> dict[str, str]:
    """A demo student's school number and password, as `--demo` printed them."""
    for line in server.stdout().splitlines():
        parts = line.split()
        if parts[:2] == ["demo", "student"]:
            return {"school_number": parts[2], "password": parts[3]}
    raise AssertionError(server.stdout())


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_data_files_are_private_after_serve_demo_starts(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    data_dir = tmp_path_factory.mktemp("attn-data")
    with serving(data_dir, tmp_path / "run") as server:
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            login = client.post("/api/v1/auth/login", json=demo_login(server))
            assert login.status_code == 200, login.text
            assert client.get("/readyz").status_code == 200
        database = data_dir / "attn.sqlite3"
        private = {
            data_dir: 0o700,
            data_dir / "secret-key": 0o600,
            database: 0o600,
            data_dir / "demo-accounts.txt": 0o600,
            data_dir / "valkey": 0o700,
            data_dir / "valkey" / "appendonlydir": 0o700,
        }
        # SQLite's side files, there while the service has the database open
        private.update({Path(f"{database}{end}"): 0o600 for end in ("-wal", "-shm")})
        # every file Valkey keeps (append-only files, its log, its config)
        for root, directories, files in os.walk(data_dir / "valkey"):
            private.update({Path(root) / name: 0o700 for name in directories})
            private.update(
                {Path(root) / name: 0o600 for name in files if not (Path(root) / name).is_socket()}
            )
        socket_path = data_dir / "valkey" / "valkey.sock"
        assert socket_path.is_socket()
        found = {str(path.relative_to(data_dir.parent)): oct(mode(path)) for path in private}
        wanted = {
            str(path.relative_to(data_dir.parent)): oct(bits) for path, bits in private.items()
        }
        assert found == wanted
        assert any(
            name.endswith(".aof") for name in os.listdir(data_dir / "valkey" / "appendonlydir")
        )
        # nobody else may even reach the socket
        assert mode(socket_path.parent) & 0o077 == 0


# Records, through an audit hook, every moment the key (or a file about to become it) exists
# in the data directory with access for others: the moment a file is chmod-ed, linked, renamed
# or replaced, the file is looked at first.
SECRET_KEY_CHILD = """
import os, stat, sys
from pathlib import Path
data_dir = Path(sys.argv[1])
seen = []
def hook(event, args):
    if event in ("os.chmod", "os.link", "os.rename", "os.replace") and data_dir.exists():
        for entry in data_dir.iterdir():
            if entry.is_file() and stat.S_IMODE(entry.stat().st_mode) & 0o077:
                seen.append(f"{event}: {entry.name} {oct(stat.S_IMODE(entry.stat().st_mode))}")
sys.addaudithook(hook)
os.umask(0)  # the loosest umask an operator could run with
from attn.config import Settings, secret_key
key = secret_key(Settings(DATA_DIR=data_dir))
print(len(key), oct(stat.S_IMODE((data_dir / "secret-key").stat().st_mode)))
print(oct(stat.S_IMODE(data_dir.stat().st_mode)))
print(sorted(p.name for p in data_dir.iterdir()))
print(seen)
"""


def test_the_secret_key_is_created_private_at_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {key: value for key, value in os.environ.items() if not key.startswith("ATTN_")}
    result = subprocess.run(
        [sys.executable, "-c", SECRET_KEY_CHILD, str(data_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    size_and_mode, directory_mode, names, seen = result.stdout.splitlines()
    assert size_and_mode == "64 0o600"
    assert directory_mode == "0o700"
    assert names == "['secret-key']"  # no candidate file left behind
    assert seen == "[]", seen


def send_half_a_login(port: int, body: bytes) -> socket.socket:
    """A login whose headers and first half of body are sent: a request in flight."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = (
        f"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    sock.sendall(head + body[: len(body) // 2])
    return sock


def read_response(sock: socket.socket) -> bytes:
    received = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        received += chunk
        head, _, rest = received.partition(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            None,
        )
        if length is not None and len(rest) >= length:
            break
    return received


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_stops_cleanly_on_a_signal_answering_the_request_in_flight(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, signum: signal.Signals
) -> None:
    data_dir = tmp_path_factory.mktemp("attn-data")
    with serving(data_dir, tmp_path / "run") as server:
        assert len(valkey_pids(data_dir)) == 1
        body = json.dumps(demo_login(server)).encode()
        sock = send_half_a_login(server.port, body)
        time.sleep(0.3)  # the server has the headers: the request is in flight
        server.process.send_signal(signum)
        time.sleep(0.5)
        sock.sendall(body[len(body) // 2 :])
        answer = read_response(sock)
        sock.close()
        assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
        assert b'"access_token"' in answer
        try:
            code = server.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"attn serve did not stop after {signum.name}\n{server.stderr()}")
        stderr = server.stderr()
        assert code == 0, stderr
        assert "Traceback" not in stderr, stderr
        assert stderr.rstrip().splitlines()[-1] == "attn: stopped", stderr
        deadline = time.monotonic() + 5
        while valkey_pids(data_dir) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert valkey_pids(data_dir) == [], stderr
