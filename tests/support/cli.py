"""Running the `attn` command as the real executable, and what tests check about it: that it
worked, that it failed with a one-line reason, and which processes it left running.

Every run is bounded by a timeout and gets the environment the test gives it (see
`tests.support.processes.child_environment`).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.processes import ATTN

CLI_TIMEOUT = 30


def attn(
    *args: str, env: dict[str, str], stdin: str | bytes | None = None
) -> subprocess.CompletedProcess[str]:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    result = subprocess.run(
        [str(ATTN), *args],
        input=data if data is not None else b"",
        env=env,
        capture_output=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )
    return subprocess.CompletedProcess(
        result.args,
        result.returncode,
        result.stdout.decode("utf-8", "replace"),
        result.stderr.decode("utf-8", "replace"),
    )


def assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)


def assert_one_line_failure(result: subprocess.CompletedProcess[str]) -> str:
    """Non-zero exit and a single non-empty line on stderr (no traceback, no usage box)."""
    assert result.returncode != 0, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected a one-line reason on stderr, got:\n{result.stderr}"
    assert "Traceback" not in result.stderr
    return lines[0]


def valkey_pids(data_dir: Path) -> list[int]:
    """valkey-server processes whose command line mentions `data_dir`."""
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


def child_cmdlines(pid: int) -> list[str]:
    """Command lines of the direct children of `pid`."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            children.append(cmdline)
    return children
