"""A sweeper process killed with SIGKILL at any step of a pass loses and duplicates nothing;
`attn sweep --once` then takes the work over and exits 0 only when all of it is in SQL."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from attn.store import keys
from tests.support.api import Api
from tests.support.database import Database
from tests.support.lessons import run_lesson
from tests.support.processes import ATTN, child_environment
from tests.support.sweep import STEPS, live_keys, sql_counts

# Each test kills a sweeper process, then runs `attn sweep --once`: seconds apiece.
pytestmark = pytest.mark.slow

VICTIM = """
import asyncio, os, signal, sys
from attn.config import load_settings
from attn.services.context import open_context
from attn.tasks import sweep

async def die(step):
    if step == sys.argv[1]:
        os.kill(os.getpid(), signal.SIGKILL)

sweep.checkpoint = die

async def main():
    async with open_context(load_settings()) as ctx:
        await sweep.sweep_attendances(ctx)

asyncio.run(main())
"""


async def run(*command: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


def environment(database_url: str, redis_url: str, tmp_path: Path) -> dict[str, str]:
    return child_environment(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DATA_DIR=tmp_path / "data",
        SWEEP_LEASE_SECONDS="0.5",
    )


@pytest.mark.parametrize("step", STEPS)
async def test_sigkill_at_each_step_then_sweep_once(
    api: Api,
    redis: aioredis.Redis,
    clean_database: Database,
    redis_url: str,
    tmp_path: Path,
    step: str,
) -> None:
    lesson, teacher_headers, _ = await run_lesson(api, students=4)
    lesson_id = lesson["lesson_id"]
    env = environment(clean_database.url, redis_url, tmp_path)

    code, _, err = await run(sys.executable, "-c", VICTIM, step, env=env)
    assert code == -signal.SIGKILL, err

    code, out, err = await run(ATTN, "sweep", "--once", env=env)
    assert code == 0, err
    assert "lessons persisted" in out
    assert await sql_counts(api.context, lesson_id) == (1, 4)
    roll = await api.client.get(f"/teacher/lessons/{lesson_id}/records", headers=teacher_headers)
    assert len(roll.json()) == 4
    leftovers = await live_keys(redis, lesson_id)
    # a kill after the live data was deleted can leave list entries, which readers drop
    assert set(leftovers) <= {keys.teacher_lessons(lesson["teacher_school_number"])} | {
        name for name in leftovers if name.startswith("attn:student-lessons:")
    }
    assert not await redis.exists(keys.lesson(lesson_id))
    assert await redis.zscore(keys.sweep_due(), lesson_id) is None


async def test_sweep_once_fails_and_says_what_is_left_when_the_database_is_down(
    api: Api, redis_url: str, tmp_path: Path, make_settings: Callable[..., Any]
) -> None:
    lessons = [(await run_lesson(api, students=1, name=f"L{i}"))[0] for i in range(2)]
    database_url = (
        "postgresql://nobody@127.0.0.1:1/none"
        if api.context.settings.async_database_url.startswith("postgresql")
        else f"sqlite:///{tmp_path}/no/such/dir/db.sqlite3"
    )
    env = environment(database_url, redis_url, tmp_path)
    code, _, err = await run(ATTN, "sweep", "--once", env=env)
    assert code != 0
    assert "2 due lessons are left" in err
    for lesson in lessons:
        assert lesson["lesson_id"] in err
