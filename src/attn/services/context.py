"""What every service call needs: settings, the live store, the SQL database and a clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attn.config import Settings
from attn.models import utc_now
from attn.services.passwords import PasswordHasher
from attn.store.redis_client import RedisClient


@dataclass(frozen=True, slots=True)
class ServiceContext:
    settings: Settings
    redis_client: RedisClient
    db: async_sessionmaker[AsyncSession]
    hasher: PasswordHasher
    clock: Callable[[], datetime] = field(default=utc_now)

    def now(self) -> datetime:
        return self.clock()
