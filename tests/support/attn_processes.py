"""Real `attn serve` and `attn worker` processes for the tests that run several of them on one
Redis and one SQL database, and what those tests do over HTTP: sign in, read a live roll's
event stream.

Each process gets the caller's environment without any `ATTN_*` variable plus the settings
the test names (`tests.support.processes.child_environment`), listens on a port from
`free_ports` (within `ATTN_TEST_PORT_RANGE` when set) and writes its output to a log file the
test can show when something fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.api import PASSWORD
from tests.support.health import wait_until_up
from tests.support.processes import ATTN, child_environment, stop


@dataclass
class Running:
    """A started `attn` process, its port (None for a worker) and its log."""

    process: asyncio.subprocess.Process
    port: int | None
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.asynccontextmanager
async def attn_process(
    *args: str, log: Path, port: int | None = None, **settings: str | Path
) -> AsyncIterator[Running]:
    """`attn <args>` with ATTN_<name> settings; for `serve`, until it answers `/healthz`."""
    command = [*args]
    if port is not None:
        command += ["--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            ATTN,
            *command,
            env=child_environment(**settings),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
        )
    running = Running(process, port, log)
    try:
        if port is not None:
            try:
                await wait_until_up(f"{running.url}/healthz")
            except AssertionError as exc:
                raise AssertionError(
                    f"attn {args[0]} did not come up:\n{running.log_text()}"
                ) from exc
        yield running
    finally:
        await stop(process)


async def sign_in(client: httpx.AsyncClient, school_number: str) -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/login", json={"school_number": school_number, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


class RollStream:
    """A teacher's live roll event stream (`GET .../events`), read in a task of its own: the
    events so far, set `ready` once the server has subscribed."""

    def __init__(self, base_url: str, lesson_id: str, headers: dict[str, str]) -> None:
        self.url = f"{base_url}/api/v1/teacher/lessons/{lesson_id}/events"
        self.headers = headers
        self.events: list[tuple[str, str]] = []
        self.ready = asyncio.Event()
        self.changed = asyncio.Event()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        timeout = httpx.Timeout(10, read=None)
        async with (
            httpx.AsyncClient(timeout=timeout) as client,
            client.stream("GET", self.url, headers=self.headers) as response,
        ):
            assert response.status_code == 200, await response.aread()
            event = ""
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    event = line.removeprefix("event: ")
                    if event == "ready":
                        self.ready.set()
                elif line.startswith("data: "):
                    self.events.append((event, line.removeprefix("data: ")))
                    self.changed.set()

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(data) for name, data in self.events if name == "record"]

    async def wait_for_students(self, numbers: set[str], seconds: float = 10) -> None:
        """Until a record of each of `numbers` has come (fails after `seconds`)."""
        async with asyncio.timeout(seconds):
            while True:
                self.changed.clear()  # before looking, so that no event slips in between
                if numbers <= {record["student_number"] for record in self.records()}:
                    return
                if self.reader.done():
                    self.reader.result()  # its error, if it failed
                    raise AssertionError(f"the stream ended: {self.events}")
                await self.changed.wait()

    async def close(self) -> None:
        self.reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.reader
