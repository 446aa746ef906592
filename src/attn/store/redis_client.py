"""The Redis data-access layer: every read and write of live state goes through `RedisClient`.

Multi-key changes are Lua scripts registered with `register_script` (reloaded on
NOSCRIPT after a server restart or failover); every key one script touches shares a hash
tag (see `attn.store.keys`). Request paths use explicit indexes only, never KEYS or SCAN.
Imports only `attn.models`, `attn.store` (keys, formats, lane, live, sentinel) and the Redis
URL parsing of `attn.config`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from importlib import metadata, resources
from typing import Any, Generic, TypeVar
from urllib.parse import unquote, urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, ClusterPipeline, RedisCluster
from redis.commands.core import AsyncScript
from redis.driver_info import DriverInfo
from redis.exceptions import AskError, ClusterError, NoScriptError, RedisError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from attn.config import check_cluster_url, cluster_nodes, is_cluster_url
from attn.models import (
    AttendanceRecordRedis,
    AuditEntry,
    HeldLesson,
    LessonRedis,
    RefreshTokenRedis,
    UserSessionRedis,
    from_ms,
    normalize_name,
    to_ms,
)
from attn.store import formats, keys, sentinel
from attn.store.lane import LANE_NAME as LANE_NAME
from attn.store.lane import Lane as Lane
from attn.store.lane import _arg
from attn.store.lane import pack as pack
from attn.store.live import RollFeed

log = logging.getLogger("attn.store")

OutcomeT = TypeVar("OutcomeT", bound=StrEnum)
DataT = TypeVar("DataT")


@dataclass(frozen=True, slots=True)
class Reply(Generic[OutcomeT, DataT]):
    """What a script-backed method returns: the script's outcome and the data it carries."""

    outcome: OutcomeT
    data: DataT


class JoinOutcome(StrEnum):
    CREATED = "created"
    EXISTS = "exists"
    NOT_FOUND = "not_found"
    NOT_ACTIVE = "not_active"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    INVALID_CODE = "invalid_code"
    NETWORK_NOT_ALLOWED = "network_not_allowed"
    DEVICE_REQUIRED = "device_required"
    DEVICE_ALREADY_USED = "device_already_used"


@dataclass(frozen=True, slots=True)
class JoinRequest:
    """What the join script needs besides the record: the facts the app checked.

    `device` is the device part of a device id this server issued to the student ('' for
    none), `address` the client address compared with the other students' ('' for none).
    """

    code_ok: bool = False
    client_bits: str = ""
    device: str = ""
    address: str = ""
    verification_id: str = ""
    code_max_failures: int = 5
    code_failure_window_ms: int = 60_000


@dataclass(frozen=True, slots=True)
class Joined:
    """A join's data: the record (as stored) when there is one, the status the script chose
    for a new record, and how long a student locked out of codes must wait."""

    record_json: str | None = None
    status: str | None = None
    retry_after_ms: int = 0


class UpdateOutcome(StrEnum):
    OK = "ok"
    CONFLICT = "conflict"
    GONE = "gone"


class ClaimOutcome(StrEnum):
    CLAIMED = "claimed"
    TAKEN = "taken"


class ReleaseOutcome(StrEnum):
    RELEASED = "released"
    NOT_HELD = "not_held"


class SaveOutcome(StrEnum):
    CREATED = "created"
    EXISTS = "exists"


class DropOutcome(StrEnum):
    DELETED = "deleted"
    CHANGED = "changed"
    GONE = "gone"


class DueOutcome(StrEnum):
    CLAIMED = "claimed"


class LoginOutcome(StrEnum):
    RESERVED = "reserved"
    TOO_MANY = "too_many"


class RefreshOutcome(StrEnum):
    SAVED = "saved"
    CHANGED = "changed"  # the account was changed since the sign-in read its epoch


class RotateOutcome(StrEnum):
    ROTATED = "rotated"
    STALE = "stale"
    GONE = "gone"


@dataclass(frozen=True, slots=True)
class LessonSnapshot:
    """A lesson's whole live state, read in one MULTI."""

    lesson: LessonRedis
    records: list[AttendanceRecordRedis]
    version: int
    roster: dict[str, str]
    audit: list[AuditEntry]
    verifications: dict[str, str]


class StreamOutcome(StrEnum):
    OPENED = "opened"
    TOO_MANY = "too_many"


@dataclass(frozen=True, slots=True)
class StreamCheck:
    """What an open event stream learns at each renewal: the user's session as it is now
    (None when it ended), and whether the lesson is still live in Redis."""

    session: UserSessionRedis | None
    lesson_live: bool


@dataclass(frozen=True, slots=True)
class StoredLesson:
    """A lesson's live state as stored, not parsed: what an operator repairs it from."""

    fields: dict[str, str]
    records: dict[str, str]  # student -> record JSON
    roster: dict[str, str]
    audit: list[str]  # audit entries' JSON, oldest first
    verifications: dict[str, str]


class RetryOutcome(StrEnum):
    QUEUED = "queued"
    NOT_HELD = "not_held"


class SearchOutcome(StrEnum):
    FOUND = "found"
    MORE = "more"  # the range read holds more entries than were returned


class FinishOutcome(StrEnum):
    OK = "ok"
    NOT_FOUND = "not_found"
    NOT_ACTIVE = "not_active"


class ProjectorLinkOutcome(StrEnum):
    OK = "ok"
    NOT_FOUND = "not_found"
    NOT_ACTIVE = "not_active"


_INCLUDE = re.compile(r"^-- include: (\w+)$", re.MULTILINE)


def _script_source(name: str) -> str:
    """A script's text, with each `-- include: <part>` line replaced by `_<part>.lua`."""
    scripts = resources.files("attn.store").joinpath("scripts")
    text = scripts.joinpath(f"{name}.lua").read_text("utf-8")
    return _INCLUDE.sub(lambda found: scripts.joinpath(f"_{found[1]}.lua").read_text("utf-8"), text)


# Built once: without it every new pooled connection reads the installed packages' metadata
# to find redis-py's version (0.5 ms of CPU each, paid when a burst grows the pool).
_DRIVER_INFO = DriverInfo(lib_version=metadata.version("redis"))


# Connections per cluster node beyond the commands in flight: the live roll's subscriptions.
CLUSTER_SPARE_CONNECTIONS = 8


@contextlib.asynccontextmanager
async def _closed_under_us() -> AsyncIterator[None]:
    """redis-py 8.1 may close a connection while a command is on it when a failover changes
    the cluster's layout; the command then fails with AttributeError on the connection's
    missing stream (`None.writelines`). That is a lost connection: a ConnectionError."""
    try:
        yield
    except AttributeError as exc:
        if exc.obj is not None:
            raise
        raise RedisConnectionError("the connection was closed while in use") from exc


_HOLDS_PLACE: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "attn_holds_place", default=False
)


class BoundedCluster(RedisCluster):
    """A cluster client whose commands wait (up to `wait` seconds) for one of `concurrency`
    places instead of failing: redis-py's cluster pool raises `MaxConnectionsError` at once
    when a node's connections are all in use, so no more commands are in flight than a node
    has connections for. A pipeline takes one place (one connection on each node it spans).
    Past `wait`, a redis ConnectionError, as a full single-server pool gives. A command that
    redis-py sends again from inside a held place (a pipeline's redirected command) takes no
    second one."""

    def __init__(self, *args: Any, concurrency: int, wait: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._places = asyncio.Semaphore(concurrency)
        self._wait = wait

    @contextlib.asynccontextmanager
    async def place(self) -> AsyncIterator[None]:
        if _HOLDS_PLACE.get():
            yield
            return
        try:
            async with asyncio.timeout(self._wait):
                await self._places.acquire()
        except TimeoutError:
            raise RedisConnectionError("No connection available.") from None
        token = _HOLDS_PLACE.set(True)
        try:
            yield
        finally:
            _HOLDS_PLACE.reset(token)
            self._places.release()

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        async with self.place(), _closed_under_us():
            return await super().execute_command(*args, **kwargs)

    async def node_for(self, key: str) -> ClusterNode:
        """The primary that holds `key`'s slot (the layout read first when it is due)."""
        if self._initialize:
            await self.initialize()
        node = self.get_node_from_key(key)
        assert node is not None
        return node

    async def on_node(self, key: str, commands: Sequence[Sequence[Any]]) -> list[Any]:
        """Send `commands` on one connection of the node of `key` and read a reply to each
        (an error reply in its place, as an exception). A lost connection renews the node's
        connections and has the layout read again, as redis-py does for its own commands;
        so does a MOVED or CLUSTERDOWN reply."""
        node = await self.node_for(key)
        connection = node.acquire_connection()
        try:
            await connection.send_packed_command(connection.pack_commands(commands))
            results: list[Any] = []
            for _ in commands:
                try:
                    results.append(await connection.read_response())
                except ResponseError as error:
                    results.append(error)
        except (RedisConnectionError, RedisTimeoutError, OSError):
            await connection.disconnect()
            node.update_active_connections_for_reconnect()
            await node.disconnect_free_connections()
            self._initialize = True
            raise
        except BaseException:
            await connection.disconnect()
            raise
        finally:
            node.release(connection)
        if any(isinstance(result, AskError | ClusterError) for result in results):
            self._initialize = True
        return results

    async def multi_exec(self, queued: Sequence[tuple[tuple[Any, ...], dict[str, Any]]]) -> Any:
        """MULTI, the commands, EXEC in one round trip on the node of their slot; the replies
        parsed as redis-py parses them."""
        if not queued:
            return []
        commands = [args for args, _ in queued]
        results = await self.on_node(str(commands[0][1]), [("MULTI",), *commands, ("EXEC",)])
        for result in results[:-1]:
            if isinstance(result, Exception):
                raise result
        replies = results[-1]
        if isinstance(replies, Exception):
            raise replies
        parsed = []
        for (args, options), reply in zip(queued, replies, strict=True):
            if isinstance(reply, Exception):
                raise reply
            callback = self.response_callbacks.get(args[0])
            parsed.append(callback(reply, **options) if callback else reply)
        return parsed

    def pipeline(self, transaction: Any | None = None, shard_hint: Any | None = None) -> Any:
        if shard_hint:
            return super().pipeline(transaction, shard_hint)
        return _BoundedPipeline(self, transaction)  # type: ignore[abstract]


class _BoundedPipeline(ClusterPipeline):
    """A cluster pipeline that takes a place; with `transaction=True`, a MULTI/EXEC of its
    own on the node of its commands' one slot.

    redis-py 8.1's cluster transactions run each queued command in a thread of its own
    with an event loop of its own (`asyncio.run`): a client not yet initialised opens its
    connections on that loop, which is gone once the command is queued ("Event loop is
    closed" later), and their reply parsers are handed the cache's `keys` (TypeError).
    """

    def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        if self._transaction:
            kwargs.pop("keys", None)  # for redis-py's client-side cache, not the parsers
            self._queued_multi.append((args, kwargs))
            return self
        return super().execute_command(*args, **kwargs)

    @property
    def _queued_multi(self) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        try:
            return self.__dict__["_attn_multi"]  # type: ignore[no-any-return]
        except KeyError:
            queued: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
            self.__dict__["_attn_multi"] = queued
            return queued

    async def execute(self, raise_on_error: bool = True, allow_redirections: bool = True) -> Any:
        client = self.cluster_client
        assert isinstance(client, BoundedCluster)
        async with client.place(), _closed_under_us():
            if self._transaction:
                queued, self.__dict__["_attn_multi"] = self._queued_multi, []
                return await client.multi_exec(queued)
            return await super().execute(raise_on_error, allow_redirections)


def connect(url: str, *, max_connections: int, pool_timeout: float) -> Redis | RedisCluster:
    """A client whose pool waits (up to `pool_timeout`) for a free connection under burst.

    A `redis+cluster://` (or `rediss+cluster://`, TLS) URL gives a cluster client: at most
    `max_connections` commands in flight, each node's pool a few connections larger for the
    live roll's subscriptions. A `redis+sentinel://` URL gives one that follows the primary
    the sentinels name.
    """
    options: dict[str, Any] = {
        "decode_responses": True,
        "protocol": 2,
        "socket_timeout": 10,
        "socket_connect_timeout": 5,
        "health_check_interval": 30,
        "driver_info": _DRIVER_INFO,
    }
    if is_cluster_url(url):
        check_cluster_url(url)
        parts = urlsplit(url)
        return BoundedCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in cluster_nodes(url)],
            concurrency=max_connections,
            wait=pool_timeout,
            max_connections=max_connections + CLUSTER_SPARE_CONNECTIONS,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            ssl=parts.scheme == "rediss+cluster",
            **options,
        )
    if sentinel.is_sentinel_url(url):
        return sentinel.connect(
            url, max_connections=max_connections, pool_timeout=pool_timeout, **options
        )
    pool = BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=pool_timeout, **options
    )
    return Redis(connection_pool=pool)


_GET = b"*2\r\n" + _arg("GET")


class _NoLane:
    """The lane of a cluster client: off (the lane speaks to one server)."""

    size = 0
    full = True

    async def call(self, packed: bytes, replies: int) -> list[Any]:
        raise AssertionError("a cluster has no lane")

    async def close(self) -> None:
        return None


def _strings(values: Any) -> list[str]:
    """Replies are decoded to str (decode_responses=True); this says so to the type checker."""
    return [str(value) for value in values]


def _string(value: Any) -> str:
    return str(value)


def _pairs_to_dict(flat: Sequence[str]) -> dict[str, str]:
    return dict(zip(flat[::2], flat[1::2], strict=True))


# A student's list of live lessons outlives the longest lesson (12 h) and the sweep that moves
# it to SQL by an hour. Every listing renews it and drops entries listed longer ago than that:
# their lessons ended long since and are read from SQL.
STUDENT_LESSONS_TTL_MS = 13 * 3600 * 1000


def _listing_commands(student_number: str, lesson_id: str, when: datetime) -> list[tuple[Any, ...]]:
    """The commands that put a lesson on a student's list, sent with the join's script."""
    student_key = keys.student_lessons(student_number)
    listed_at = to_ms(when)
    return [
        ("ZADD", student_key, "NX", listed_at, lesson_id),
        ("ZREMRANGEBYSCORE", student_key, "-inf", f"({listed_at - STUDENT_LESSONS_TTL_MS}"),
        ("PEXPIRE", student_key, STUDENT_LESSONS_TTL_MS),
    ]


class RedisClient:
    """Live state of sessions, lessons and attendance records."""

    def __init__(
        self,
        redis: Redis | RedisCluster,
        *,
        lane_connections: int = 2,
        wait_replicas: int = 0,
        wait_timeout_ms: int = 1000,
    ) -> None:
        self.redis: Any = redis
        # A join is acknowledged once this many replicas have it (WAIT), 0: once the primary has.
        self.wait_replicas = wait_replicas
        self.wait_timeout_ms = wait_timeout_ms
        self.cluster = isinstance(redis, RedisCluster)
        self.feed = RollFeed(redis)
        # The lane speaks to one server; a cluster client routes every command itself.
        self.lane: Lane | _NoLane = (
            _NoLane() if isinstance(redis, RedisCluster) else Lane(redis, lane_connections)
        )
        self._claim_teacher_lesson = redis.register_script(_script_source("claim_teacher_lesson"))
        self._release_teacher_lesson = redis.register_script(
            _script_source("release_teacher_lesson")
        )
        self._save_lesson = redis.register_script(_script_source("save_lesson"))
        self._delete_lesson = redis.register_script(_script_source("delete_lesson"))
        self._add_attendance_record = redis.register_script(_script_source("add_attendance_record"))
        self._update_record = redis.register_script(_script_source("update_record"))
        self._claim_due = redis.register_script(_script_source("claim_due"))
        self._delete_persisted_lesson = redis.register_script(
            _script_source("delete_persisted_lesson")
        )
        self._reserve_login_attempt = redis.register_script(_script_source("reserve_login_attempt"))
        self._release_login_attempt = redis.register_script(_script_source("release_login_attempt"))
        self._save_refresh_token = redis.register_script(_script_source("save_refresh_token"))
        self._save_session = redis.register_script(_script_source("save_session"))
        self._end_user_sessions = redis.register_script(_script_source("end_user_sessions"))
        self._rotate_refresh_token = redis.register_script(_script_source("rotate_refresh_token"))
        self._open_event_stream = redis.register_script(_script_source("open_event_stream"))
        self._retry_held_lesson = redis.register_script(_script_source("retry_held_lesson"))
        self._set_projector_link = redis.register_script(_script_source("set_projector_link"))
        self._find_by_words = redis.register_script(_script_source("find_by_words"))

    async def start(self) -> None:
        """On a cluster: read its layout and load every script on every primary, before the
        first requests (rather than each script on first use, under a burst's NOSCRIPT
        replies, where redis-py 8.1 was seen to close connections still in use)."""
        if not self.cluster:
            return
        scripts = [value for value in vars(self).values() if isinstance(value, AsyncScript)]
        try:
            await self.redis.initialize()
            for script in scripts:
                await self.redis.script_load(script.script)
        except RedisError as exc:  # not up yet: the first commands read the layout then
            log.warning("Redis Cluster not ready at start: %s", exc)

    async def close(self) -> None:
        await self.feed.close()
        await self.lane.close()
        if self.cluster:
            await self.redis.aclose()
        else:
            await self.redis.aclose(close_connection_pool=True)

    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    async def probe_write(self, ttl_ms: int = 5000) -> None:
        """Write a short-lived key: raises when Redis refuses writes (OOM, MISCONF,
        READONLY, NOREPLICAS), which a PING would not tell."""
        await self.redis.set(keys.ready_probe(), os.getpid(), px=ttl_ms)

    async def _pipeline_with_script(
        self,
        before: Sequence[tuple[Any, ...]],
        script: AsyncScript,
        script_keys: Sequence[str],
        script_args: Sequence[Any],
        *,
        before_first: bool = False,
        replicated: bool = False,
    ) -> list[Any]:
        """Send plain commands and then one script in a single round trip.

        redis-py's own pipelines check `SCRIPT EXISTS` first, a second round trip; here the
        script is sent as EVALSHA and loaded only when the server answers NOSCRIPT.

        On a cluster a script cannot be queued in a pipeline (redis-py #2914), and the plain
        commands are often in other slots: they go as one pipeline beside the script, both
        at once (one round trip still), and the script reloads itself on a node that answers
        NOSCRIPT. With `before_first` (the plain commands are the recovery pointer of what
        the script writes) they are sent first and the script only once they succeeded.

        With `replicated` and `wait_replicas` set, the script is followed on its connection
        by `WAIT wait_replicas wait_timeout_ms`; fewer replicas in time raise NOREPLICAS.
        """
        after = self._wait_command() if replicated else []
        if self.cluster:
            if after:
                sent = await asyncio.gather(
                    self._send_plain(before),
                    self._script_on_node(script, script_keys, script_args, after),
                    return_exceptions=True,
                )
                return self._joined(sent)
            return await self._cluster_with_script(
                before, script, script_keys, script_args, before_first=before_first
            )
        if not self.lane.full:
            return await self._lane_with_script(before, script, script_keys, script_args, after)
        for _ in range(2):
            pipe = self.redis.pipeline(transaction=False)
            for command in before:
                pipe.execute_command(*command)
            pipe.execute_command(
                "EVALSHA", script.sha, len(script_keys), *script_keys, *script_args
            )
            for command in after:
                pipe.execute_command(*command)
            results: list[Any] = await pipe.execute(raise_on_error=False)
            if isinstance(results[len(before)], NoScriptError):
                script.sha = await self.redis.script_load(script.script)
                continue
            return self._checked(results, len(before) + 1)
        raise NoScriptError("script could not be loaded")

    def _wait_command(self) -> list[tuple[Any, ...]]:
        if not self.wait_replicas:
            return []
        return [("WAIT", self.wait_replicas, self.wait_timeout_ms)]

    def _checked(self, results: list[Any], kept: int) -> list[Any]:
        """The replies up to the script's (raised if one is an error), once any WAIT after
        them says enough replicas have the writes."""
        for result in results:
            if isinstance(result, Exception):
                raise result
        for acknowledged in results[kept:]:
            if int(acknowledged) < self.wait_replicas:
                raise ResponseError(
                    f"NOREPLICAS {acknowledged} of {self.wait_replicas} replicas acknowledged"
                    f" the write within {self.wait_timeout_ms} ms"
                )
        return results[:kept]

    @staticmethod
    def _joined(sent: list[Any]) -> list[Any]:
        for outcome in sent:
            if isinstance(outcome, BaseException):
                raise outcome
        results, last = sent
        return [*results, last]

    async def _script_on_node(
        self,
        script: AsyncScript,
        script_keys: Sequence[str],
        script_args: Sequence[Any],
        after: Sequence[tuple[Any, ...]],
    ) -> Any:
        """On a cluster: the script and then `after` on one connection of the node that holds
        the script's slot (WAIT counts the writes of its own connection only)."""
        tail = [len(script_keys), *script_keys, *script_args]
        async with self.redis.place(), _closed_under_us():
            for _ in range(2):
                results = await self.redis.on_node(
                    script_keys[0], [("EVALSHA", script.sha, *tail), *after]
                )
                if isinstance(results[0], NoScriptError):
                    await self.redis.script_load(script.script)  # on every primary
                    continue
                return self._checked(results, 1)[0]
        raise NoScriptError("script could not be loaded")

    async def _cluster_with_script(
        self,
        before: Sequence[tuple[Any, ...]],
        script: AsyncScript,
        script_keys: Sequence[str],
        script_args: Sequence[Any],
        *,
        before_first: bool,
    ) -> list[Any]:
        if not before:
            return [await script(keys=script_keys, args=script_args)]
        if before_first:
            results = await self._send_plain(before)
            return [*results, await script(keys=script_keys, args=script_args)]
        sent = await asyncio.gather(
            self._send_plain(before),
            script(keys=script_keys, args=script_args),
            return_exceptions=True,
        )
        return self._joined(sent)

    async def _send_plain(self, commands: Sequence[tuple[Any, ...]]) -> list[Any]:
        pipe = self.redis.pipeline(transaction=False)
        for command in commands:
            pipe.execute_command(*command)
        return list(await pipe.execute())

    async def _lane_with_script(
        self,
        before: Sequence[tuple[Any, ...]],
        script: AsyncScript,
        script_keys: Sequence[str],
        script_args: Sequence[Any],
        after: Sequence[tuple[Any, ...]] = (),
    ) -> list[Any]:
        """`_pipeline_with_script` on the lane: the same commands, packed here."""
        head = b"".join(pack(*command) for command in before)
        tail = [len(script_keys), *script_keys, *script_args]
        packed_after = b"".join(pack(*command) for command in after)
        for _ in range(2):
            results = await self.lane.call(
                head + pack("EVALSHA", script.sha, *tail) + packed_after,
                len(before) + 1 + len(after),
            )
            if isinstance(results[len(before)], NoScriptError):
                script.sha = await self.redis.script_load(script.script)
                continue
            return self._checked(results, len(before) + 1)
        raise NoScriptError("script could not be loaded")

    # --- sessions ------------------------------------------------------------------------

    async def account_epoch(self, school_number: str) -> str:
        """The account's epoch, read by a sign-in before it looks at the account in SQL and
        handed back when it opens the session (`save_user_session`)."""
        raw = await self.redis.get(keys.account_epoch(school_number))
        return "0" if raw is None else _string(raw)

    async def save_user_session(self, session: UserSessionRedis, ttl: int, *, epoch: str) -> bool:
        """Store a session for `ttl` seconds, replacing the user's previous session; False
        (nothing stored) when the account's epoch is no longer `epoch`."""
        reply = await self._save_session(
            keys=[keys.session(session.school_number), keys.account_epoch(session.school_number)],
            args=[formats.session_json(session), ttl, epoch],
        )
        return _string(reply) == "saved"

    async def end_user_sessions(self, school_number: str, *, epoch_ttl: int) -> None:
        """End the user's session and every remembered device's refresh token at once, and
        move the account's epoch on (kept `epoch_ttl` seconds)."""
        devices = keys.refresh_devices(school_number)
        listed = _strings(await self.redis.zrange(devices, 0, -1))
        reply = await self._end_user_sessions(
            keys=[
                keys.session(school_number),
                devices,
                keys.account_epoch(school_number),
                *(keys.refresh_token(school_number, device) for device in listed),
            ],
            args=[epoch_ttl * 1000, *listed],
        )
        unseen = _strings(reply)
        if unseen:
            await self.redis.delete(*(keys.refresh_token(school_number, d) for d in unseen))

    async def get_user_session(self, school_number: str) -> UserSessionRedis | None:
        key = keys.session(school_number)
        if self.lane.full:
            raw = await self.redis.get(key)
        else:
            (raw,) = await self.lane.call(_GET + _arg(key), 1)
            if isinstance(raw, Exception):
                raise raw
        return None if raw is None else formats.parse_session(raw)

    async def delete_user_session(self, school_number: str) -> bool:
        return bool(await self.redis.delete(keys.session(school_number)))

    async def save_refresh_token(
        self,
        refresh: RefreshTokenRedis,
        *,
        device_key: str,
        ttl: int,
        per_user: int,
        epoch: str,
    ) -> Reply[RefreshOutcome, list[str]]:
        """Store a remembered device's refresh token for `ttl` seconds; the user's oldest
        remembered devices beyond `per_user` are revoked (their keys are the reply's data).
        Nothing is stored (CHANGED) when the account's epoch is no longer `epoch`."""
        school_number = refresh.school_number
        devices = keys.refresh_devices(school_number)
        listed = _strings(await self.redis.zrange(devices, 0, -1))
        reply = await self._save_refresh_token(
            keys=[
                keys.refresh_token(school_number, device_key),
                devices,
                keys.account_epoch(school_number),
                *(keys.refresh_token(school_number, device) for device in listed),
            ],
            args=[
                formats.refresh_token_json(refresh),
                device_key,
                to_ms(refresh.created_at),
                ttl * 1000,
                per_user,
                epoch,
                *listed,
            ],
        )
        if _string(reply[0]) == RefreshOutcome.CHANGED:
            return Reply(RefreshOutcome.CHANGED, [])
        # Devices listed after `listed` was read are unlisted by the script; their tokens
        # were not among its keys, so they go here.
        unseen = _strings(reply[1:])
        if unseen:
            await self.redis.delete(*(keys.refresh_token(school_number, d) for d in unseen))
        return Reply(RefreshOutcome(reply[0]), unseen)

    async def get_refresh_token(
        self, school_number: str, device_key: str
    ) -> RefreshTokenRedis | None:
        raw = await self.redis.get(keys.refresh_token(school_number, device_key))
        return None if raw is None else formats.parse_refresh_token(raw)

    async def get_refresh_token_and_epoch(
        self, school_number: str, device_key: str
    ) -> tuple[RefreshTokenRedis | None, str]:
        """A remembered device's refresh token and the account's epoch, in one round trip:
        what a renewal reads before it opens a session."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(keys.refresh_token(school_number, device_key))
        pipe.get(keys.account_epoch(school_number))
        raw, epoch = await pipe.execute()
        token = None if raw is None else formats.parse_refresh_token(raw)
        return token, "0" if epoch is None else _string(epoch)

    async def put_sso_state(self, provider: str, state: str, value: str, ttl: int) -> None:
        """Keep a single sign-on attempt's state for `ttl` seconds, until the provider answers."""
        await self.redis.set(keys.sso_state(provider, state), value, ex=ttl)

    async def take_sso_state(self, provider: str, state: str) -> str | None:
        """The attempt's state, taken once: a second take (a replayed answer) is None."""
        raw = await self.redis.getdel(keys.sso_state(provider, state))
        return None if raw is None else _string(raw)

    async def first_sight(self, provider: str, item_id: str, ttl: int) -> bool:
        """Whether this is the first time the provider's one-time item is seen here; it is
        remembered `ttl` seconds (at least as long as the item is valid)."""
        return bool(await self.redis.set(keys.sso_seen(provider, item_id), "1", nx=True, ex=ttl))

    async def rotate_refresh_token(
        self, refresh: RefreshTokenRedis, *, device_key: str, old_digest: str
    ) -> Reply[RotateOutcome, None]:
        """Replace a remembered device's refresh token whose digest is `old_digest` with
        `refresh`, keeping its expiry; refused when the stored token is another or none."""
        reply = await self._rotate_refresh_token(
            keys=[keys.refresh_token(refresh.school_number, device_key)],
            args=[old_digest, formats.refresh_token_json(refresh)],
        )
        return Reply(RotateOutcome(_strings(reply)[0]), None)

    async def delete_refresh_token(self, school_number: str, device_key: str) -> bool:
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(keys.refresh_token(school_number, device_key))
        pipe.zrem(keys.refresh_devices(school_number), device_key)
        deleted, _ = await pipe.execute()
        return bool(deleted)

    async def reserve_login_attempt(
        self, school_number: str, source: str, *, per_source: int, per_account: int, window: int
    ) -> Reply[LoginOutcome, int]:
        """Count a login attempt as failed before its password is checked, unless the
        account's failures from `source` or from everywhere reached their limit in the
        window (`window` seconds). The data is how long (ms) a refused login must wait."""
        reply = await self._reserve_login_attempt(
            keys=[
                keys.login_failures_from(school_number, source),
                keys.login_failures(school_number),
            ],
            args=[per_source, per_account, window * 1000],
        )
        outcome = LoginOutcome(reply[0])
        return Reply(outcome, int(reply[1]) if outcome is LoginOutcome.TOO_MANY else 0)

    async def release_login_attempt(
        self, school_number: str, source: str, *, password_right: bool
    ) -> None:
        """Give back a reserved attempt; a right password also forgives the source's earlier
        failures."""
        await self._release_login_attempt(
            keys=[
                keys.login_failures_from(school_number, source),
                keys.login_failures(school_number),
            ],
            args=["1" if password_right else "0"],
        )

    # --- live-roll event streams ----------------------------------------------------------

    async def open_event_stream(
        self, school_number: str, stream_id: str, *, now_ms: int, lease_ms: int, most: int
    ) -> Reply[StreamOutcome, int]:
        """Count a new event stream of the user for `lease_ms`, unless `most` are open;
        TOO_MANY carries the ms until the first open one's lease ends."""
        result = await self._open_event_stream(
            keys=[keys.event_streams(school_number)],
            args=[stream_id, now_ms, now_ms + lease_ms, most],
        )
        outcome = StreamOutcome(result[0])
        return Reply(outcome, int(result[1]) if outcome is StreamOutcome.TOO_MANY else 0)

    async def renew_event_stream(
        self, school_number: str, stream_id: str, lesson_id: str, *, lease_end_ms: int
    ) -> StreamCheck:
        """Extend an open stream's lease and read what decides whether it goes on, in one
        round trip."""
        streams = keys.event_streams(school_number)
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(keys.session(school_number))
        pipe.zadd(streams, {stream_id: lease_end_ms}, xx=True)
        pipe.pexpireat(streams, lease_end_ms)
        pipe.exists(keys.lesson(lesson_id))
        raw_session, _, _, lesson_live = await pipe.execute()
        session = None if raw_session is None else formats.parse_session(raw_session)
        return StreamCheck(session=session, lesson_live=bool(lesson_live))

    async def close_event_stream(self, school_number: str, stream_id: str) -> None:
        await self.redis.zrem(keys.event_streams(school_number), stream_id)

    # --- lessons -------------------------------------------------------------------------

    async def claim_teacher_lesson(
        self, lesson: LessonRedis, *, claim: str, replace: str = ""
    ) -> Reply[ClaimOutcome, str]:
        """Take the teacher's single active-lesson slot; TAKEN with the current claim when
        another holds it.

        The claim expires at the lesson's end time, so a lesson nobody finished frees its
        teacher without help. `replace` names a claim the caller proved dead.
        """
        result = await self._claim_teacher_lesson(
            keys=[
                keys.teacher_active_lesson(lesson.teacher_school_number),
                keys.teacher_lessons(lesson.teacher_school_number),
            ],
            args=[
                lesson.lesson_id,
                to_ms(lesson.start_time),
                to_ms(lesson.end_time),
                claim,
                replace,
            ],
        )
        outcome = ClaimOutcome(result[0])
        return Reply(outcome, str(result[1]) if outcome is ClaimOutcome.TAKEN else claim)

    async def release_teacher_lesson(
        self, teacher_school_number: str, lesson_id: str, *, due: datetime
    ) -> Reply[ReleaseOutcome, None]:
        """After a finish: make the lesson due at once and free the teacher's slot.

        One round trip; the queue entry (another slot) only moves earlier (`LT`).
        """
        results = await self._pipeline_with_script(
            [("ZADD", keys.sweep_due(), "LT", to_ms(due), lesson_id)],
            self._release_teacher_lesson,
            [keys.teacher_active_lesson(teacher_school_number)],
            [lesson_id],
        )
        return Reply(ReleaseOutcome(results[-1]), None)

    async def save_lesson(
        self, lesson: LessonRedis, *, roster: dict[str, str] | None = None
    ) -> Reply[SaveOutcome, None]:
        """Create the lesson, its roster and its discovery index entry atomically.

        Its entry in the sweep queue (due at its end time) and its word index entries (the
        looser search's) are written first, in the same round trip, so a lesson can never
        exist without being due some day, nor without being found by its words.
        """
        fields = formats.lesson_to_hash(lesson, has_roster=bool(roster))
        flat = [item for pair in fields.items() for item in pair]
        roster_flat = [item for pair in (roster or {}).items() for item in pair]
        words = formats.word_entries(lesson.lesson_id, lesson.lesson_name, lesson.teacher_full_name)
        results = await self._pipeline_with_script(
            [
                ("ZADD", keys.sweep_due(), "NX", fields["end_ms"], lesson.lesson_id),
                *(
                    [("ZADD", keys.find_words(), *(item for word in words for item in (0, word)))]
                    if words
                    else []
                ),
            ],
            self._save_lesson,
            [
                keys.lesson(lesson.lesson_id),
                keys.lesson_discovery_index(lesson.lesson_id),
                keys.lesson_roster(lesson.lesson_id),
            ],
            [lesson.lesson_id, len(flat), *flat, *roster_flat],
            before_first=True,
        )
        return Reply(SaveOutcome(results[-1]), None)

    async def get_lesson(self, lesson_id: str) -> LessonRedis | None:
        """The lesson with its counters: one round trip (two for a lesson stored before the
        counters, whose records are counted)."""
        found = await self.get_lessons([lesson_id])
        return found[0] if found else None

    async def get_lessons(self, lesson_ids: Sequence[str]) -> list[LessonRedis]:
        """The lessons that still exist in Redis, in the order of `lesson_ids`."""
        if not lesson_ids:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for lesson_id in lesson_ids:
            pipe.hgetall(keys.lesson(lesson_id))
        stored: list[dict[str, str]] = [fields for fields in await pipe.execute() if fields]
        uncounted = [fields for fields in stored if not formats.has_counts(fields)]
        counted: dict[str, list[str]] = {}
        if uncounted:
            pipe = self.redis.pipeline(transaction=False)
            for fields in uncounted:
                pipe.hvals(keys.lesson_records(fields["lesson_id"]))
            replies = await pipe.execute()
            counted = {
                fields["lesson_id"]: raw for fields, raw in zip(uncounted, replies, strict=True)
            }
        return [
            formats.lesson_from_hash(fields, counted.get(fields["lesson_id"])) for fields in stored
        ]

    async def delete_lesson(
        self, lesson_id: str, *, teacher_school_number: str, now: datetime
    ) -> Reply[FinishOutcome, LessonRedis | None]:
        """End an active lesson and its discoverability in one step.

        The lesson's data stays in Redis until the persistence job has committed it to SQL.
        Its word index entries (another slot) go right after; should that step be lost,
        searches skip the finished lesson and its persistence takes the entries out.
        """
        result = await self._delete_lesson(
            keys=[keys.lesson(lesson_id), keys.lesson_discovery_index(lesson_id)],
            args=[lesson_id, teacher_school_number, to_ms(now)],
        )
        outcome = FinishOutcome(result[0])
        if outcome is not FinishOutcome.OK:
            return Reply(outcome, None)
        finished = formats.lesson_from_hash(_pairs_to_dict(result[1:]))
        words = formats.word_entries(lesson_id, finished.lesson_name, finished.teacher_full_name)
        if words:
            await self.redis.zrem(keys.find_words(), *words)
        return Reply(outcome, finished)

    async def find_lesson_ids_by_words(
        self, lesson_prefixes: Sequence[str], teacher_prefixes: Sequence[str], *, limit: int
    ) -> Reply[SearchOutcome, list[str]]:
        """Ids of the lessons found in the narrowest of the word index's ranges for these
        prefixes (folded words of a lesson name and of a teacher's name), from at most `limit`
        entries, each id once; MORE when that range holds more entries. One round trip."""
        bounds = [
            bound
            for kind, prefixes in (
                (formats.WordKind.LESSON, lesson_prefixes),
                (formats.WordKind.TEACHER, teacher_prefixes),
            )
            for prefix in prefixes
            for bound in formats.word_range(kind, prefix)
        ]
        if not bounds:
            return Reply(SearchOutcome.FOUND, [])
        reply = _strings(await self._find_by_words(keys=[keys.find_words()], args=[limit, *bounds]))
        ids = dict.fromkeys(formats.entry_lesson_id(entry) for entry in reply[1:])
        return Reply(SearchOutcome(reply[0]), list(ids))

    async def teachers_active_lessons(self, teacher_numbers: Sequence[str]) -> list[LessonRedis]:
        """The lesson each of these teachers has claimed as active (at most one each), read
        in two pipelined round trips whatever their number: the claims, then their lessons.
        A claim outlives nothing: it expires at its lesson's end and is freed at a finish."""
        if not teacher_numbers:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for number in teacher_numbers:
            pipe.get(keys.teacher_active_lesson(number))
        claims = [claim for claim in await pipe.execute() if claim]
        lesson_ids = [formats.parse_claim(str(claim))[0] for claim in claims]
        return await self.get_lessons([item for item in lesson_ids if keys.is_lesson_id(item)])

    async def find_lessons_by_name(self, lesson_name: str, teacher_name: str) -> list[LessonRedis]:
        """Every lesson still listed for this (lesson name, teacher full name) pair."""
        index_ids: set[str] = await self.redis.smembers(
            keys.discovery_index(keys.discovery_tag(lesson_name, teacher_name))
        )
        wanted = (normalize_name(lesson_name), normalize_name(teacher_name))
        return [
            lesson
            for lesson in await self.get_lessons(sorted(index_ids))
            if (normalize_name(lesson.lesson_name), normalize_name(lesson.teacher_full_name))
            == wanted
        ]

    async def teacher_lesson_ids(self, teacher_school_number: str) -> list[str]:
        """Ids of the teacher's lessons still in Redis, newest start first."""
        return _strings(
            await self.redis.zrevrange(keys.teacher_lessons(teacher_school_number), 0, -1)
        )

    async def set_projector_link(
        self, lesson_id: str, *, teacher_school_number: str, revoke: bool, now: datetime
    ) -> Reply[ProjectorLinkOutcome, int]:
        """Make the lesson's next projector link current (the lesson must be active), or
        revoke the current one; OK carries the current link's generation."""
        result = await self._set_projector_link(
            keys=[keys.lesson(lesson_id), keys.lesson_projector(lesson_id)],
            args=[teacher_school_number, "revoke" if revoke else "new", to_ms(now)],
        )
        outcome = ProjectorLinkOutcome(result[0])
        return Reply(outcome, int(result[1]) if outcome is ProjectorLinkOutcome.OK else 0)

    async def read_projector(
        self, lesson_id: str
    ) -> tuple[LessonRedis | None, formats.ProjectorLinkState]:
        """The lesson (None when it is not in live state) and its projector link, in one MULTI."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.hgetall(keys.lesson(lesson_id))
        pipe.hgetall(keys.lesson_projector(lesson_id))
        fields, link = await pipe.execute()
        lesson = formats.lesson_from_hash(fields) if fields else None
        return lesson, formats.parse_projector_link(link)

    async def read_lesson_snapshot(self, lesson_id: str) -> LessonSnapshot | None:
        """The lesson's whole live state, read together in one MULTI (one slot)."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.hgetall(keys.lesson(lesson_id))
        pipe.hvals(keys.lesson_records(lesson_id))
        pipe.hgetall(keys.lesson_roster(lesson_id))
        pipe.lrange(keys.lesson_audit(lesson_id), 0, -1)
        pipe.hgetall(keys.lesson_verifications(lesson_id))
        fields, raw_records, roster, audit, verifications = await pipe.execute()
        if not fields:
            return None
        records = [formats.parse_record(item) for item in raw_records]
        records.sort(key=formats.roll_order)
        return LessonSnapshot(
            lesson=formats.lesson_from_hash(fields, raw_records),
            records=records,
            version=int(fields.get("version", "0")),
            roster=roster,
            audit=[formats.parse_audit(entry) for entry in audit],
            verifications=verifications,
        )

    async def update_record(
        self,
        lesson_id: str,
        student_number: str,
        *,
        expected: str,
        new: str,
        audit: AuditEntry | None,
        verification: tuple[str, formats.Verification] | None = None,
    ) -> Reply[UpdateOutcome, None]:
        """Compare-and-set one record (expected '' = none yet), with its audit entry."""
        verification_id, verification_value = (
            (verification[0], verification[1].encode()) if verification else ("", "")
        )
        result = await self._update_record(
            keys=[
                keys.lesson(lesson_id),
                keys.lesson_records(lesson_id),
                keys.lesson_audit(lesson_id),
                keys.lesson_verifications(lesson_id),
            ],
            args=[
                student_number,
                expected,
                new,
                "" if audit is None else formats.audit_json(audit),
                verification_id,
                verification_value,
                keys.lesson_events(lesson_id),
            ],
        )
        return Reply(UpdateOutcome(result), None)

    async def get_raw_record(self, lesson_id: str, student_number: str) -> tuple[bool, str | None]:
        """Whether the lesson is live, and the student's record JSON as stored."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.exists(keys.lesson(lesson_id))
        pipe.hget(keys.lesson_records(lesson_id), student_number)
        exists, raw = await pipe.execute()
        return bool(exists), raw

    async def get_roster_name(self, lesson_id: str, student_number: str) -> str | None:
        name = await self.redis.hget(keys.lesson_roster(lesson_id), student_number)
        return None if name is None else str(name)

    async def get_verification(
        self, lesson_id: str, verification_id: str
    ) -> tuple[formats.Verification | None, str | None]:
        """A verification and its record's JSON as stored (None, None when there is none)."""
        value = await self.redis.hget(keys.lesson_verifications(lesson_id), verification_id)
        if value is None:
            return None, None
        verification = formats.Verification.parse(str(value))
        raw = await self.redis.hget(keys.lesson_records(lesson_id), verification.student_number)
        return verification, None if raw is None else str(raw)

    async def get_audit(self, lesson_id: str) -> list[AuditEntry]:
        entries = await self.redis.lrange(keys.lesson_audit(lesson_id), 0, -1)
        return [formats.parse_audit(entry) for entry in entries]

    # --- the persistence queue -----------------------------------------------------------

    async def claim_due_lessons(
        self, *, now: datetime, lease_ms: int, limit: int
    ) -> Reply[DueOutcome, list[str]]:
        """Claim up to `limit` due lessons that no live claim holds, until now + lease."""
        claimed = await self._claim_due(
            keys=[keys.sweep_due(), keys.sweep_claims()], args=[to_ms(now), lease_ms, limit]
        )
        return Reply(DueOutcome(claimed[0]), _strings(claimed[1:]))

    async def due_lesson_ids(self, *, now: datetime) -> list[str]:
        return _strings(await self.redis.zrangebyscore(keys.sweep_due(), "-inf", to_ms(now)))

    async def still_queued(self, lesson_ids: Sequence[str]) -> list[str]:
        """Those of `lesson_ids` that are still waiting in the persistence queue."""
        if not lesson_ids:
            return []
        scores = await self.redis.zmscore(keys.sweep_due(), list(lesson_ids))
        return [lesson_id for lesson_id, score in zip(lesson_ids, scores, strict=True) if score]

    async def release_claim(self, lesson_id: str) -> None:
        await self.release_claims([lesson_id])

    async def release_claims(self, lesson_ids: Sequence[str]) -> None:
        if lesson_ids:
            await self.redis.zrem(keys.sweep_claims(), *lesson_ids)

    async def reschedule_due(self, lesson_id: str, *, due: datetime) -> None:
        """A claimed lesson that is not due yet: back in the queue at its due time."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.zadd(keys.sweep_due(), {lesson_id: to_ms(due)}, xx=True)
        pipe.zrem(keys.sweep_claims(), lesson_id)
        await pipe.execute()

    async def forget_due(self, lesson_id: str) -> None:
        """Take a persisted (or vanished) lesson out of the queue and its claims."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.zrem(keys.sweep_due(), lesson_id)
        pipe.zrem(keys.sweep_claims(), lesson_id)
        await pipe.execute()

    async def delete_persisted_lesson(
        self, lesson: LessonRedis, *, version: int
    ) -> Reply[DropOutcome, None]:
        """Drop a lesson's live data if it is still at `version`.

        Its word index entries (another slot) go first in the same round trip, whatever the
        script decides: a lesson that is persisted is no longer active, so no search wants
        it, and a crash between the two leaves the lesson to the next sweep, not an entry
        pointing at nothing.
        """
        lesson_id = lesson.lesson_id
        lesson_keys = keys.lesson_keys(lesson_id)
        words = formats.word_entries(lesson_id, lesson.lesson_name, lesson.teacher_full_name)
        results = await self._pipeline_with_script(
            [("ZREM", keys.find_words(), *words)] if words else [],
            self._delete_persisted_lesson,
            [lesson_keys[0], keys.lesson_discovery_index(lesson_id), *lesson_keys[1:]],
            [lesson_id, version],
        )
        return Reply(DropOutcome(results[-1]), None)

    async def forget_persisted(self, lessons: Sequence[tuple[str, str]]) -> None:
        """After lessons' live data is gone: off their teachers' lists, then off the queue.

        `lessons` holds (lesson id, teacher school number) pairs. One pipeline over several
        slots, in that order: a crash in between leaves a lesson queued, and the next sweep
        finds it gone and dequeues it.
        """
        if not lessons:
            return
        pipe = self.redis.pipeline(transaction=False)
        for lesson_id, teacher_school_number in lessons:
            pipe.zrem(keys.teacher_lessons(teacher_school_number), lesson_id)
        lesson_ids = [lesson_id for lesson_id, _ in lessons]
        pipe.zrem(keys.sweep_due(), *lesson_ids)
        pipe.zrem(keys.sweep_claims(), *lesson_ids)
        await pipe.execute()

    async def hold_lesson(self, held: HeldLesson) -> None:
        """Set a claimed lesson aside: out of the queue and its claims, into the held index
        with why, in one step. Its live data stays as it is."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(keys.sweep_held(), held.lesson_id, formats.held_json(held))
        pipe.zrem(keys.sweep_due(), held.lesson_id)
        pipe.zrem(keys.sweep_claims(), held.lesson_id)
        await pipe.execute()

    async def held_lessons(self) -> list[HeldLesson]:
        """Every lesson set aside, the longest held first."""
        raw: dict[str, str] = await self.redis.hgetall(keys.sweep_held())
        return sorted(
            (formats.parse_held(value) for value in raw.values()),
            key=lambda held: (held.held_at, held.lesson_id),
        )

    async def held_count(self) -> int:
        return int(await self.redis.hlen(keys.sweep_held()))

    async def sweep_backlog(self, *, now: datetime) -> tuple[int, datetime | None, int]:
        """For the metrics, in one round trip (one slot): how many lessons are due, when the
        oldest of them became due (None without any), and how many are held."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zcount(keys.sweep_due(), "-inf", to_ms(now))
            pipe.zrange(keys.sweep_due(), 0, 0, withscores=True)
            pipe.hlen(keys.sweep_held())
            due, oldest, held = await pipe.execute()
        first = oldest[0][1] if oldest and int(due) else None
        return int(due), None if first is None else from_ms(int(first)), int(held)

    async def retry_held_lesson(
        self, lesson_id: str, *, now: datetime
    ) -> Reply[RetryOutcome, None]:
        """Put a held lesson back into the queue, due now."""
        result = await self._retry_held_lesson(
            keys=[keys.sweep_held(), keys.sweep_due(), keys.sweep_claims()],
            args=[lesson_id, to_ms(now)],
        )
        return Reply(RetryOutcome(result), None)

    async def read_stored_lesson(self, lesson_id: str) -> StoredLesson | None:
        """The lesson's live state as stored (one MULTI in its slot); None when it is gone."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.hgetall(keys.lesson(lesson_id))
        pipe.hgetall(keys.lesson_records(lesson_id))
        pipe.hgetall(keys.lesson_roster(lesson_id))
        pipe.lrange(keys.lesson_audit(lesson_id), 0, -1)
        pipe.hgetall(keys.lesson_verifications(lesson_id))
        fields, records, roster, audit, verifications = await pipe.execute()
        if not fields:
            return None
        return StoredLesson(fields, records, roster, _strings(audit), verifications)

    async def teacher_lesson_scores(
        self, teacher_school_number: str, lesson_ids: Sequence[str]
    ) -> list[int | None]:
        """When each lesson was listed (ms), None for ids not listed."""
        scores = await self.redis.zmscore(
            keys.teacher_lessons(teacher_school_number), list(lesson_ids)
        )
        return [None if score is None else int(score) for score in scores]

    async def list_student_lesson(
        self, student_number: str, lesson_id: str, when: datetime
    ) -> None:
        """Put a live lesson on the student's list (before a record is added for them)."""
        pipe = self.redis.pipeline(transaction=False)
        for command in _listing_commands(student_number, lesson_id, when):
            pipe.execute_command(*command)
        await pipe.execute()

    async def forget_teacher_lessons(
        self, teacher_school_number: str, lesson_ids: Sequence[str]
    ) -> None:
        if lesson_ids:
            await self.redis.zrem(keys.teacher_lessons(teacher_school_number), *lesson_ids)

    async def forget_student_lessons(self, student_number: str, lesson_ids: Sequence[str]) -> None:
        if lesson_ids:
            await self.redis.zrem(keys.student_lessons(student_number), *lesson_ids)

    # --- attendance records --------------------------------------------------------------

    async def add_attendance_record(
        self, record: AttendanceRecordRedis, request: JoinRequest | None = None
    ) -> Reply[JoinOutcome, Joined]:
        """Join a student to a lesson in one round trip.

        The script checks the lesson's security options against what the app established
        (`request`), decides the status (present, late or pending) and the flags, and writes
        the record (flagging an earlier record that shares its device or address too). The
        student's list of live lessons is written first in the same round trip (a different
        slot); an entry whose join was refused is removed again.
        """
        request = request or JoinRequest()
        lesson_id = record.lesson_id
        now = record.attendance_time
        assert now is not None
        results = await self._pipeline_with_script(
            _listing_commands(record.student_number, lesson_id, now),
            self._add_attendance_record,
            [
                keys.lesson(lesson_id),
                keys.lesson_records(lesson_id),
                keys.lesson_devices(lesson_id),
                keys.lesson_code_failures(lesson_id),
                keys.lesson_roster(lesson_id),
                keys.lesson_verifications(lesson_id),
                keys.lesson_addresses(lesson_id),
            ],
            [
                record.student_number,
                formats.record_head(record),
                to_ms(now),
                "1" if request.code_ok else "0",
                request.client_bits,
                request.device,
                request.verification_id,
                request.code_max_failures,
                request.code_failure_window_ms,
                keys.lesson_events(lesson_id),
                request.address,
            ],
            replicated=True,
        )
        reply = results[-1]
        outcome = JoinOutcome(reply[0])
        if outcome is JoinOutcome.CREATED:
            return Reply(outcome, Joined(str(reply[1]), str(reply[2])))
        if outcome is JoinOutcome.EXISTS:
            return Reply(outcome, Joined(str(reply[1])))
        # No record exists, so the list entry written above is dangling.
        await self.redis.zrem(keys.student_lessons(record.student_number), lesson_id)
        retry_after = int(reply[1]) if outcome is JoinOutcome.TOO_MANY_ATTEMPTS else 0
        return Reply(outcome, Joined(retry_after_ms=retry_after))

    async def get_attendance_records(self, lesson_id: str) -> list[AttendanceRecordRedis]:
        """The lesson's roll, in one round trip, ordered by attendance time."""
        raw = await self.redis.hvals(keys.lesson_records(lesson_id))
        records = [formats.parse_record(item) for item in raw]
        records.sort(key=formats.roll_order)
        return records

    async def read_roll_json(self, lesson_id: str) -> tuple[str | None, list[str]]:
        """The lesson's teacher (None when the lesson is not live) and its records as stored
        JSON, ordered by attendance time: the roll without parsing a record."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.hget(keys.lesson(lesson_id), "teacher_school_number")
        pipe.hvals(keys.lesson_records(lesson_id))
        teacher, raw_records = await pipe.execute()
        return teacher, sorted(raw_records, key=formats.raw_roll_order)

    async def get_attendance_record(
        self, lesson_id: str, student_number: str
    ) -> AttendanceRecordRedis | None:
        raw = await self.redis.hget(keys.lesson_records(lesson_id), student_number)
        return None if raw is None else formats.parse_record(raw)

    async def get_student_records(
        self, student_number: str, lesson_ids: Sequence[str]
    ) -> tuple[list[tuple[LessonRedis, AttendanceRecordRedis]], list[str]]:
        """The student's records in the given live lessons, with their lessons; and the ids
        of those lessons that are no longer in Redis."""
        if not lesson_ids:
            return [], []
        pipe = self.redis.pipeline(transaction=False)
        for lesson_id in lesson_ids:
            pipe.hgetall(keys.lesson(lesson_id))
            pipe.hget(keys.lesson_records(lesson_id), student_number)
        replies = await pipe.execute()
        found = []
        gone = []
        for lesson_id, fields, raw in zip(lesson_ids, replies[::2], replies[1::2], strict=True):
            if not fields:
                gone.append(lesson_id)
            elif raw is not None:
                found.append((formats.lesson_from_hash(fields), formats.parse_record(raw)))
        return found, gone

    async def student_lesson_ids(self, student_number: str) -> list[str]:
        """Ids of the live lessons the student joined, newest lesson first."""
        return _strings(await self.redis.zrevrange(keys.student_lessons(student_number), 0, -1))

    # --- LTI 1.3 -------------------------------------------------------------------------------

    async def put_lti_keyset(self, url: str, keyset: str, ttl: int) -> None:
        """Keep a platform's JWKS (JSON) fetched from `url` for `ttl` seconds."""
        await self.redis.set(keys.lti_keyset(url), keyset, ex=ttl)

    async def lti_keyset(self, url: str) -> str | None:
        """The platform's JWKS kept for `url`; None when there is none (or it expired)."""
        raw = await self.redis.get(keys.lti_keyset(url))
        return None if raw is None else _string(raw)
