"""When the sweep runs: every `ATTN_SWEEP_INTERVAL_SECONDS`, in `attn worker`'s own process or
in one thread of `attn serve` (one sweeper for all of its web workers)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

from attn import metrics
from attn.config import Settings
from attn.services import lti_courses
from attn.services.context import ServiceContext, open_context
from attn.tasks.sweep import sweep_attendances

log = logging.getLogger("attn.sweep")


async def run_forever(ctx: ServiceContext, stop: asyncio.Event) -> None:
    """Run a pass every `SWEEP_INTERVAL_SECONDS` until `stop` is set."""
    interval = ctx.settings.SWEEP_INTERVAL_SECONDS
    while not stop.is_set():
        try:
            await sweep_attendances(ctx)
        except Exception as exc:
            metrics.SWEEP_PASSES.labels("failed").inc()
            metrics.backend_error(exc)
            log.warning("sweep: pass failed: %s: %s", type(exc).__name__, exc)
        try:
            # the grade passback outbox of linked LMS courses (LTI), after the lessons
            await lti_courses.drain_grades(ctx)
        except Exception as exc:
            log.warning("lti: grade passback pass failed: %s: %s", type(exc).__name__, exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)


class SweeperThread(threading.Thread):
    """The in-process scheduler of `attn serve`: its own event loop and service context."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(name="attn-sweeper", daemon=True)
        self.settings = settings
        self._loop: asyncio.AbstractEventLoop | None = None
        # not `_stop`: threading.Thread has a method of that name, which join() calls
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()

    def run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self._ready.set()
        try:
            async with open_context(self.settings) as ctx:
                await run_forever(ctx, self._stopping)
        except Exception as exc:
            log.error("sweeper stopped: %s: %s", type(exc).__name__, str(exc).splitlines()[0])

    def stop(self, timeout: float = 10) -> None:
        """Ask the sweeper to finish its pass and wait for it (at most `timeout` s)."""
        self._ready.wait(timeout)
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self.join(timeout)
