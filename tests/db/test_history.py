"""The history repository (`attn.db.history`) on its own: what writing a swept lesson to SQL
does, apart from the sweep that calls it."""

from __future__ import annotations

from datetime import UTC, datetime

from attn.db import history
from tests.support.api import Api
from tests.support.lessons import run_lesson
from tests.support.sweep import sql_counts


async def test_persisting_twice_writes_once(fast_api: Api) -> None:
    api = fast_api
    lesson, _, _ = await run_lesson(api, students=3)
    lesson_id = lesson["lesson_id"]
    snapshot = await api.context.redis_client.read_lesson_snapshot(lesson_id)
    assert snapshot is not None
    now = datetime.now(UTC)
    results = []
    for _ in range(2):
        async with api.context.db() as session, session.begin():
            results.append(
                await history.persist_lesson(
                    session=session,
                    lesson=snapshot.lesson,
                    records=snapshot.records,
                    version=snapshot.version,
                    now=now,
                )
            )
    assert results == [True, False]
    assert await sql_counts(api.context, lesson_id) == (1, 3)
