"""Course settings in SQL: the weights of each status in a course's attendance rate, keyed
as rosters are (the teacher and the course's normalised name)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from attn.db.tables import CourseSettingsRow
from attn.models import RecordStatus, StatusWeights


def _weights(row: CourseSettingsRow) -> StatusWeights:
    return StatusWeights(
        **{status.value: getattr(row, f"weight_{status.value}") for status in RecordStatus}
    )


async def get_weights(
    *, session: AsyncSession, courses: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], StatusWeights]:
    """The weights set for these (teacher, course key) pairs; a course without is left out."""
    if not courses:
        return {}
    rows = await session.scalars(
        select(CourseSettingsRow).where(
            tuple_(CourseSettingsRow.teacher_school_number, CourseSettingsRow.course_key).in_(
                list(courses)
            )
        )
    )
    return {(row.teacher_school_number, row.course_key): _weights(row) for row in rows}


async def put_weights(
    *,
    session: AsyncSession,
    teacher_school_number: str,
    course_key: str,
    weights: StatusWeights,
    now: datetime,
) -> None:
    """Set the course's weights (insert or replace; the caller's transaction)."""
    values = {f"weight_{status.value}": weights.of(status) for status in RecordStatus}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(CourseSettingsRow).values(
        teacher_school_number=teacher_school_number,
        course_key=course_key,
        updated_at=now,
        **values,
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["teacher_school_number", "course_key"],
            set_={**values, "updated_at": now},
        )
    )
