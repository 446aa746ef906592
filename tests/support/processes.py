"""Child `attn` processes: the executable, the environment it is given, and stopping it.

A child's environment is the test process's own without any `ATTN_*` variable, so neither a
developer's settings nor the suite's `ATTN_TEST_*` ones leak into it, plus exactly the
settings the test names.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

ATTN = str(Path(sys.executable).parent / "attn")
SHUTDOWN_TIMEOUT = 15


def child_environment(**settings: str | Path) -> dict[str, str]:
    """The caller's environment without any ATTN_* variable, plus `settings` as ATTN_*."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ATTN_")}
    env.update({f"ATTN_{name}": str(value) for name, value in settings.items()})
    return env


async def stop(process: asyncio.subprocess.Process) -> int:
    """SIGTERM, then SIGKILL if it has not exited in time; its exit code."""
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), SHUTDOWN_TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode


def stop_popen(process: subprocess.Popen[bytes]) -> None:
    """The same for a process started with `subprocess.Popen`."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(SHUTDOWN_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(SHUTDOWN_TIMEOUT)
