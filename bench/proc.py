"""CPU time of processes on this machine, read from /proc (Linux)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def cpu_seconds(matches: Callable[[str, str], bool], pids: set[int] | None = None) -> float:
    """The CPU time (user + system) of every process whose (name, command line) matches
    (among `pids`, when given)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or (pids is not None and int(proc.name) not in pids):
            continue
        try:
            name = (proc / "comm").read_text().strip()
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if not matches(name, command):
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime, in ticks
    return total


def database_cpu_seconds() -> float | None:
    """CPU time of the machine's PostgreSQL and Redis/Valkey processes; None off Linux."""
    if not Path("/proc/self/stat").exists():
        return None
    servers = ("postgres", "redis-server", "valkey-server")
    return cpu_seconds(lambda name, _: name.startswith(servers))


def tree_cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) of a process and its live descendants (its workers)."""
    parents: dict[int, int] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(proc.name)] = int(fields[1])
    tree = {pid}
    grew = True
    while grew:
        grew = False
        for child, parent in parents.items():
            if parent in tree and child not in tree:
                tree.add(child)
                grew = True
    return cpu_seconds(lambda _, __: True, pids=tree)
