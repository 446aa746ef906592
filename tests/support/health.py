"""Waiting for what runs beside a test: a condition polled until it holds, and servers polled
on `/healthz` (or `/readyz`) until they answer.

These waits are for real processes and sockets, which no test clock can move; they poll every
100 ms and give up after a deadline, so a server that never comes up fails the test, with its
output when there is some, instead of hanging it.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Awaitable, Callable

import httpx
import pytest

POLL_SECONDS = 0.1
STARTUP_TIMEOUT = 30


async def wait_for(predicate: Callable[[], Awaitable[bool]], seconds: float) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if await predicate():
            return
        await asyncio.sleep(POLL_SECONDS)
    raise AssertionError("condition not met in time")


async def wait_until_up(*urls: str, seconds: float = STARTUP_TIMEOUT) -> None:
    """Until every one of `urls` answers 200 (a server's `/healthz`, a fake's own page)."""
    async with httpx.AsyncClient(timeout=10) as client:

        async def up() -> bool:
            try:
                return all([(await client.get(url)).status_code == 200 for url in urls])
            except httpx.TransportError:
                return False

        await wait_for(up, seconds)


def wait_until_healthy(
    base_url: str,
    process: subprocess.Popen[bytes],
    output: Callable[[], str],
    *,
    path: str = "/healthz",
    seconds: float = STARTUP_TIMEOUT,
) -> None:
    """Until `attn serve` at `base_url` answers `path`; fails at once if the process exits."""
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            pytest.fail(f"attn serve exited with {process.returncode}:\n{output()}")
        try:
            if httpx.get(f"{base_url}{path}", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"attn serve did not answer {path} in {seconds} s:\n{output()}")
        time.sleep(POLL_SECONDS)
