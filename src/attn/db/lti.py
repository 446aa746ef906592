"""LTI 1.3 in SQL: the registered platforms, the tool's signing keys, the LMS courses linked
to ATTN courses, their members, the platforms' users, the grade passback outbox and the
scores a platform accepted. Keyword-only functions; callers own the transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from attn.db.tables import (
    LtiCourseRow,
    LtiGradeJobRow,
    LtiMemberRow,
    LtiPlatformRow,
    LtiScoreRow,
    LtiToolKeyRow,
    LtiUserRow,
)

# --- platforms -------------------------------------------------------------------------------


def _strings(raw: str | None) -> list[str]:
    value = json.loads(raw or "[]")
    return [str(item) for item in value] if isinstance(value, list) else []


def deployments_of(platform: LtiPlatformRow) -> list[str]:
    return _strings(platform.deployment_ids)


def frame_origins_of(platform: LtiPlatformRow) -> list[str]:
    return _strings(platform.frame_origins)


async def add_frame_origin(*, session: AsyncSession, platform_id: int, origin: str) -> bool:
    """Add an origin the platform's pages are served from; whether it is new."""
    row = await session.get(LtiPlatformRow, platform_id)
    if row is None:
        return False
    known = frame_origins_of(row)
    if origin in known:
        return False
    row.frame_origins = json.dumps([*known, origin])
    await session.flush()
    return True


async def add_platform(
    *,
    session: AsyncSession,
    issuer: str,
    client_id: str,
    name: str,
    auth_login_url: str,
    auth_token_url: str,
    auth_audience: str | None,
    keyset_url: str,
    deployment_ids: Sequence[str],
    frame_origins: Sequence[str] = (),
    now: datetime,
) -> LtiPlatformRow:
    """Register a platform, or update the one of this issuer and client id (its deployments
    are added to those it had)."""
    row = await find_platform(session=session, issuer=issuer, client_id=client_id)
    if row is None:
        row = LtiPlatformRow(issuer=issuer, client_id=client_id, created_at=now)
        session.add(row)
        known: list[str] = []
    else:
        known = deployments_of(row)
    row.name = name
    row.auth_login_url = auth_login_url
    row.auth_token_url = auth_token_url
    row.auth_audience = auth_audience
    row.keyset_url = keyset_url
    row.deployment_ids = json.dumps(known + [d for d in deployment_ids if d not in known])
    origins = frame_origins_of(row) if row.frame_origins else []
    row.frame_origins = json.dumps(origins + [o for o in frame_origins if o not in origins])
    await session.flush()
    return row


async def list_platforms(*, session: AsyncSession) -> list[LtiPlatformRow]:
    return list(await session.scalars(select(LtiPlatformRow).order_by(LtiPlatformRow.id)))


async def get_platform(*, session: AsyncSession, platform_id: int) -> LtiPlatformRow | None:
    return await session.get(LtiPlatformRow, platform_id)


async def find_platform(
    *, session: AsyncSession, issuer: str, client_id: str
) -> LtiPlatformRow | None:
    return (
        await session.scalars(
            select(LtiPlatformRow).where(
                LtiPlatformRow.issuer == issuer, LtiPlatformRow.client_id == client_id
            )
        )
    ).first()


async def platforms_of_issuer(*, session: AsyncSession, issuer: str) -> list[LtiPlatformRow]:
    return list(
        await session.scalars(
            select(LtiPlatformRow)
            .where(LtiPlatformRow.issuer == issuer)
            .order_by(LtiPlatformRow.id)
        )
    )


async def remove_platform(*, session: AsyncSession, platform_id: int) -> bool:
    for table in (LtiScoreRow, LtiGradeJobRow, LtiMemberRow, LtiUserRow, LtiCourseRow):
        await session.execute(delete(table).where(table.platform_id == platform_id))
    result = await session.execute(delete(LtiPlatformRow).where(LtiPlatformRow.id == platform_id))
    return bool(getattr(result, "rowcount", 0))


# --- the tool's keys -------------------------------------------------------------------------


async def tool_keys(*, session: AsyncSession) -> list[LtiToolKeyRow]:
    """Every key, newest first."""
    return list(
        await session.scalars(
            select(LtiToolKeyRow).order_by(LtiToolKeyRow.created_at.desc(), LtiToolKeyRow.kid)
        )
    )


async def add_tool_key(*, session: AsyncSession, kid: str, private_pem: str, now: datetime) -> None:
    """A new signing key; the keys that signed before it are retired now."""
    await session.execute(
        update(LtiToolKeyRow).where(LtiToolKeyRow.retired_at.is_(None)).values(retired_at=now)
    )
    session.add(LtiToolKeyRow(kid=kid, private_pem=private_pem, created_at=now))
    await session.flush()


async def drop_tool_keys_retired_before(*, session: AsyncSession, before: datetime) -> None:
    await session.execute(delete(LtiToolKeyRow).where(LtiToolKeyRow.retired_at < before))


# --- linked courses --------------------------------------------------------------------------


async def link_course(
    *,
    session: AsyncSession,
    platform_id: int,
    context_id: str,
    teacher_school_number: str,
    course_key: str,
    course_name: str,
    memberships_url: str | None,
    lineitems_url: str | None,
    ags_scopes: Sequence[str],
    lineitem_url: str | None = None,
) -> LtiCourseRow:
    """The LMS course as this teacher's ATTN course, its service endpoints as the latest
    launch gave them (an endpoint a launch leaves out is kept)."""
    row = await session.get(LtiCourseRow, (platform_id, context_id, teacher_school_number))
    if row is None:
        row = LtiCourseRow(
            platform_id=platform_id,
            context_id=context_id,
            teacher_school_number=teacher_school_number,
            grades_on=True,
        )
        session.add(row)
    row.course_key = course_key
    row.course_name = course_name
    row.memberships_url = memberships_url or row.memberships_url
    row.lineitems_url = lineitems_url or row.lineitems_url
    row.ags_scopes = " ".join(ags_scopes) if ags_scopes else (row.ags_scopes or "")
    if lineitem_url and not lineitems_url and not row.lineitem_url:
        row.lineitem_url = lineitem_url  # no line items service: the link's own column
    await session.flush()
    return row


async def get_course(
    *, session: AsyncSession, platform_id: int, context_id: str, teacher_school_number: str
) -> LtiCourseRow | None:
    return await session.get(LtiCourseRow, (platform_id, context_id, teacher_school_number))


async def courses_of_context(
    *, session: AsyncSession, platform_id: int, context_id: str
) -> list[LtiCourseRow]:
    return list(
        await session.scalars(
            select(LtiCourseRow).where(
                LtiCourseRow.platform_id == platform_id, LtiCourseRow.context_id == context_id
            )
        )
    )


async def courses_of_teacher(
    *, session: AsyncSession, teacher_school_number: str, course_key: str
) -> list[LtiCourseRow]:
    return list(
        await session.scalars(
            select(LtiCourseRow).where(
                LtiCourseRow.teacher_school_number == teacher_school_number,
                LtiCourseRow.course_key == course_key,
            )
        )
    )


# --- members and users -----------------------------------------------------------------------


async def members_of(
    *, session: AsyncSession, platform_id: int, context_id: str
) -> dict[str, LtiMemberRow]:
    rows = await session.scalars(
        select(LtiMemberRow).where(
            LtiMemberRow.platform_id == platform_id, LtiMemberRow.context_id == context_id
        )
    )
    return {row.user_id: row for row in rows}


async def remember_user(
    *, session: AsyncSession, platform_id: int, user_id: str, school_number: str
) -> None:
    row = await session.get(LtiUserRow, (platform_id, user_id))
    if row is None:
        session.add(
            LtiUserRow(platform_id=platform_id, user_id=user_id, school_number=school_number)
        )
    else:
        row.school_number = school_number
    await session.flush()


async def known_users(
    *, session: AsyncSession, platform_id: int, user_ids: Sequence[str]
) -> dict[str, str]:
    """Platform user id -> school number, of the users among `user_ids` who launched."""
    found: dict[str, str] = {}
    ids = list(user_ids)
    for start in range(0, len(ids), 500):
        rows = await session.execute(
            select(LtiUserRow.user_id, LtiUserRow.school_number).where(
                LtiUserRow.platform_id == platform_id,
                LtiUserRow.user_id.in_(ids[start : start + 500]),
            )
        )
        found.update({str(user): str(number) for user, number in rows})
    return found


# --- the grade outbox ------------------------------------------------------------------------


async def queue_grade_jobs(
    *, session: AsyncSession, lessons: Sequence[tuple[str, str, str]], now: datetime
) -> int:
    """For each persisted (lesson id, teacher, course key) of a linked course whose grades are
    sent back, one job in the outbox (in the caller's transaction: the lesson's own). Returns
    how many."""
    if not lessons:
        return 0
    pairs = {(teacher, key) for _, teacher, key in lessons}
    rows = await session.scalars(
        select(LtiCourseRow).where(
            tuple_(LtiCourseRow.teacher_school_number, LtiCourseRow.course_key).in_(list(pairs)),
            LtiCourseRow.grades_on.is_(True),
        )
    )
    linked: dict[tuple[str, str], list[LtiCourseRow]] = {}
    for row in rows:
        linked.setdefault((row.teacher_school_number, row.course_key), []).append(row)
    count = 0
    for lesson_id, teacher, key in lessons:
        for course in linked.get((teacher, key), ()):
            session.add(
                LtiGradeJobRow(
                    platform_id=course.platform_id,
                    context_id=course.context_id,
                    teacher_school_number=teacher,
                    lesson_id=lesson_id,
                    created_at=now,
                    attempts=0,
                    next_attempt_at=now,
                )
            )
            count += 1
    await session.flush()
    return count


async def due_grade_jobs(
    *, session: AsyncSession, now: datetime, limit: int
) -> list[LtiGradeJobRow]:
    return list(
        await session.scalars(
            select(LtiGradeJobRow)
            .where(LtiGradeJobRow.done_at.is_(None), LtiGradeJobRow.next_attempt_at <= now)
            .order_by(LtiGradeJobRow.next_attempt_at, LtiGradeJobRow.id)
            .limit(limit)
        )
    )


async def grade_jobs(*, session: AsyncSession, pending_only: bool = False) -> list[LtiGradeJobRow]:
    statement = select(LtiGradeJobRow).order_by(LtiGradeJobRow.id)
    if pending_only:
        statement = statement.where(LtiGradeJobRow.done_at.is_(None))
    return list(await session.scalars(statement))


async def finish_grade_jobs(
    *,
    session: AsyncSession,
    platform_id: int,
    context_id: str,
    teacher: str,
    up_to: datetime,
    now: datetime,
    note: str | None = None,
) -> None:
    """Every pending job of the course queued by `up_to` is done: one passback sends the
    course's whole state."""
    await session.execute(
        update(LtiGradeJobRow)
        .where(
            LtiGradeJobRow.platform_id == platform_id,
            LtiGradeJobRow.context_id == context_id,
            LtiGradeJobRow.teacher_school_number == teacher,
            LtiGradeJobRow.done_at.is_(None),
            LtiGradeJobRow.created_at <= up_to,
        )
        .values(done_at=now, last_error=note[:500] if note else None)
    )


async def fail_grade_job(
    *, session: AsyncSession, job_id: int, error: str, retry_at: datetime
) -> None:
    job = await session.get(LtiGradeJobRow, job_id)
    if job is not None:
        job.attempts += 1
        job.last_error = error[:500]
        job.next_attempt_at = retry_at


# --- scores ----------------------------------------------------------------------------------


async def scores_of(
    *, session: AsyncSession, platform_id: int, context_id: str, teacher: str
) -> dict[str, float]:
    rows = await session.execute(
        select(LtiScoreRow.user_id, LtiScoreRow.score).where(
            LtiScoreRow.platform_id == platform_id,
            LtiScoreRow.context_id == context_id,
            LtiScoreRow.teacher_school_number == teacher,
        )
    )
    return {str(user): float(score) for user, score in rows}


async def put_score(
    *,
    session: AsyncSession,
    platform_id: int,
    context_id: str,
    teacher: str,
    user_id: str,
    score: float,
    now: datetime,
) -> None:
    row = await session.get(LtiScoreRow, (platform_id, context_id, teacher, user_id))
    if row is None:
        session.add(
            LtiScoreRow(
                platform_id=platform_id,
                context_id=context_id,
                teacher_school_number=teacher,
                user_id=user_id,
                score=score,
                posted_at=now,
            )
        )
    else:
        row.score = score
        row.posted_at = now
    await session.flush()
