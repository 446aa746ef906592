"""What every service call needs: settings, the live store, the SQL database and a clock;
and `open_context`, which connects them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attn.config import Settings, secret_key
from attn.db.engine import create_engine, session_factory
from attn.models import utc_now
from attn.services.passwords import PasswordHasher
from attn.store import embedded
from attn.store.redis_client import RedisClient, connect


@dataclass(frozen=True, slots=True)
class ServiceContext:
    settings: Settings
    redis_client: RedisClient
    db: async_sessionmaker[AsyncSession]
    hasher: PasswordHasher
    clock: Callable[[], datetime] = field(default=utc_now)
    secret_key: bytes = b""
    http: httpx.AsyncClient | None = None  # for the external verifier, when one is set

    def now(self) -> datetime:
        return self.clock()


@asynccontextmanager
async def open_context(
    settings: Settings, *, clock: Callable[[], datetime] = utc_now
) -> AsyncIterator[ServiceContext]:
    """Connect to Redis (starting the embedded server when no URL is set) and the database."""
    async with AsyncExitStack() as stack:
        redis_url = stack.enter_context(embedded.redis_url(settings))
        redis_client = RedisClient(
            connect(
                redis_url,
                max_connections=settings.REDIS_MAX_CONNECTIONS,
                pool_timeout=settings.REDIS_POOL_TIMEOUT_SECONDS,
            ),
            lane_connections=settings.REDIS_LANE_CONNECTIONS,
            wait_replicas=settings.REDIS_WAIT_REPLICAS,
            wait_timeout_ms=settings.REDIS_WAIT_TIMEOUT_MS,
        )
        stack.push_async_callback(redis_client.close)
        await redis_client.start()
        engine = create_engine(
            settings.async_database_url,
            statement_timeout=settings.DB_STATEMENT_TIMEOUT_SECONDS,
            lock_timeout=settings.DB_LOCK_TIMEOUT_SECONDS,
        )
        stack.push_async_callback(engine.dispose)
        http = None
        if settings.VERIFIER_URL:
            http = httpx.AsyncClient(timeout=settings.VERIFIER_TIMEOUT_SECONDS)
            stack.push_async_callback(http.aclose)
        yield ServiceContext(
            settings=settings,
            redis_client=redis_client,
            db=session_factory(engine),
            hasher=PasswordHasher(settings.PASSWORD_HASH_THREADS),
            clock=clock,
            secret_key=secret_key(settings),
            http=http,
        )
