"""The administrators' audit: one row per change of an account, never changed or deleted (the
database refuses that: `attn.db.append_only`). Keyword-only functions; callers commit, so an
audit row lands in the transaction of the change it records."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attn.db.tables import AdminAuditRow


def _json(snapshot: Mapping[str, Any] | None) -> str | None:
    return None if snapshot is None else json.dumps(snapshot, sort_keys=True, default=str)


async def record(
    *,
    session: AsyncSession,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> None:
    session.add(
        AdminAuditRow(
            at=at,
            actor=actor,
            action=action,
            target=target,
            before=_json(before),
            after=_json(after),
        )
    )
    await session.flush()


async def entries(
    *, session: AsyncSession, target: str | None, limit: int, offset: int
) -> list[AdminAuditRow]:
    """The newest entries first (of one account, with `target`)."""
    statement = select(AdminAuditRow)
    if target is not None:
        statement = statement.where(AdminAuditRow.target == target)
    statement = statement.order_by(AdminAuditRow.id.desc()).limit(limit).offset(offset)
    return list(await session.scalars(statement))
