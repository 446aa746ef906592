"""Redis Sentinel: `redis+sentinel://` URLs and a client that follows the primary.

`redis+sentinel://[:password@]host:port[,host:port...]/primary-name[?db=N&sentinel_password=P]`
names the sentinels to ask and the name they monitor the primary under. The client's pool asks
a sentinel for the primary's address before each new connection, so after a failover new
connections reach the promoted replica. A connection still open to a demoted primary is
dropped when that server answers READONLY (redis-py turns it into a ConnectionError) or when
the sentinels disconnect its clients as they reconfigure it. Until the sentinels agree on a new
primary, commands raise `MasterNotFoundError` or `ConnectionError`: the service answers 503.

Imports only redis-py.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool

SCHEME = "redis+sentinel"
DEFAULT_PORT = 26379
# A sentinel that does not answer is skipped for the next one after this long.
SENTINEL_TIMEOUT_SECONDS = 1.0


class InvalidSentinelUrl(ValueError):
    """A `redis+sentinel://` URL that cannot be understood."""


@dataclass(frozen=True, slots=True)
class SentinelUrl:
    sentinels: list[tuple[str, int]]
    primary_name: str
    password: str | None = None
    db: int = 0
    sentinel_password: str | None = None


def is_sentinel_url(url: str) -> bool:
    return url.startswith(f"{SCHEME}://")


def _address(item: str) -> tuple[str, int]:
    host, colon, port = item.rpartition(":")
    if not colon:
        host, port = item, str(DEFAULT_PORT)
    host = host.strip("[]")  # an IPv6 address in brackets
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidSentinelUrl(f"{item!r} is not a sentinel's host:port")
    return host, int(port)


def parse_sentinel_url(url: str) -> SentinelUrl:
    """The parts of a `redis+sentinel://` URL (urlsplit cannot read several hosts)."""
    if not is_sentinel_url(url):
        raise InvalidSentinelUrl(f"must start with {SCHEME}://")
    rest = url[len(SCHEME) + 3 :]
    rest, _, query = rest.partition("?")
    hosts, slash, name = rest.partition("/")
    password = None
    if "@" in hosts:
        credentials, _, hosts = hosts.rpartition("@")
        password = unquote(credentials.partition(":")[2]) or None
    name = unquote(name.strip("/"))
    if not slash or not name or "/" in name:
        raise InvalidSentinelUrl("must name the primary: redis+sentinel://host:port/name")
    sentinels = [_address(item) for item in hosts.split(",") if item]
    if not sentinels:
        raise InvalidSentinelUrl("must name at least one sentinel (host:port)")
    options = {key: values[-1] for key, values in parse_qs(query).items()}
    unknown = set(options) - {"db", "sentinel_password"}
    if unknown:
        raise InvalidSentinelUrl(
            f"unknown option {sorted(unknown)[0]!r} (known: db, sentinel_password)"
        )
    db = options.get("db", "0")
    if not db.isdigit():
        raise InvalidSentinelUrl("db must be a database number")
    return SentinelUrl(sentinels, name, password, int(db), options.get("sentinel_password"))


class Sentinels(Sentinel):
    """redis-py's Sentinel, asking for the primary once at a time: its look-up moves the
    sentinel that answered to the front of its list across an await, and concurrent look-ups
    (every new connection makes one) lose a sentinel's client from that list, never to be
    asked or closed again. Closes every client it made."""

    def __init__(self, sentinels: list[tuple[str, int]], **options: Any) -> None:
        super().__init__(sentinels, **options)  # type: ignore[no-untyped-call]
        self._clients = list(self.sentinels)
        self._lookup = asyncio.Lock()

    async def discover_master(self, service_name: str) -> Any:
        async with self._lookup:
            return await super().discover_master(service_name)

    async def aclose(self) -> None:
        self.sentinels = self._clients
        await super().aclose()


class BlockingSentinelPool(SentinelConnectionPool, BlockingConnectionPool):
    """The sentinel pool with the blocking pool's wait for a free connection (redis-py's own
    sentinel pool raises at once when its connections are all in use), and that closes its
    sentinel clients with itself."""

    async def aclose(self) -> None:
        try:
            await super().aclose()
        finally:
            await self.sentinel_manager.aclose()


def connect(url: str, *, max_connections: int, pool_timeout: float, **options: Any) -> Redis:
    """A client of the primary the sentinels in `url` name; `options` are every connection's."""
    parsed = parse_sentinel_url(url)
    sentinel_options: dict[str, Any] = {
        "socket_timeout": SENTINEL_TIMEOUT_SECONDS,
        "socket_connect_timeout": SENTINEL_TIMEOUT_SECONDS,
        "decode_responses": True,
        "protocol": 2,
    }
    if parsed.sentinel_password:
        sentinel_options["password"] = parsed.sentinel_password
    manager = Sentinels(parsed.sentinels, sentinel_kwargs=sentinel_options)
    client: Redis = manager.master_for(
        parsed.primary_name,
        connection_pool_class=BlockingSentinelPool,
        max_connections=max_connections,
        timeout=pool_timeout,
        password=parsed.password,
        db=parsed.db,
        **options,
    )
    return client
