"""Server CPU per request, measured from /proc: the cost of a join next to the floor.

    .venv/bin/python -m bench.cpu

Starts `attn serve` with one worker, puts student sessions straight into Redis (no argon2 in
the way), and reports the server process's CPU time per request for `GET /auth/me` (the
floor) and a join, each at 100 concurrent connections. Linux only.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import redis as sync_redis

from attn.config import cluster_nodes, is_cluster_url
from attn.models import Role, UserSessionRedis
from attn.store import keys
from bench.proc import cpu_seconds
from bench.run import environment, seed_users, server

REQUESTS = 3000


def server_cpu_seconds(port: int) -> float:
    return cpu_seconds(lambda _, command: f"--port {port}" in command and "attn" in command)


def client(url: str) -> Any:
    """A synchronous client of the URL: a RedisCluster for a `redis+cluster://` one."""
    if is_cluster_url(url):
        nodes = [sync_redis.cluster.ClusterNode(host, port) for host, port in cluster_nodes(url)]
        return sync_redis.RedisCluster(startup_nodes=nodes, decode_responses=True)
    return sync_redis.Redis.from_url(url, decode_responses=True)


def sessions(redis_url: str, count: int, role: Role = Role.STUDENT) -> list[str]:
    """Tokens of `count` live sessions written straight into Redis (a single server or a
    cluster): students S00000..., or teachers T0000... (the seeded accounts)."""
    redis = client(redis_url)
    now = datetime.now(UTC)
    tokens = []
    pipe = redis.pipeline(transaction=False)
    for n in range(count):
        number = f"T{n:04d}" if role is Role.TEACHER else f"S{n:05d}"
        secret = secrets.token_urlsafe(32)
        session = UserSessionRedis(
            school_number=number,
            full_name=f"{role.value.title()} {n}",
            role=role,
            token_digest=hashlib.sha256(secret.encode()).hexdigest(),
            created_at=now,
            expires_at=now + timedelta(hours=1),
        )
        pipe.set(keys.session(number), session.model_dump_json(), ex=3600)
        tokens.append(f"{number}.{secret}")
    pipe.execute()
    redis.close()
    return tokens


async def run(base: str, port: int, tokens: list[str], teacher_token: str) -> None:
    connector = aiohttp.TCPConnector(limit=100, keepalive_timeout=3)
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.post(
            f"{base}/api/v1/teacher/lessons",
            json={"lesson_name": "CPU", "duration_minutes": 60},
            headers={"Authorization": f"Bearer {teacher_token}"},
        ) as response:
            lesson = (await response.json())["lesson_id"]

        async def measure(name: str, method: str, path: str) -> None:
            async def one(token: str) -> int:
                async with session.request(
                    method, base + path, headers={"Authorization": f"Bearer {token}"}
                ) as response:
                    await response.read()
                    return response.status

            before, started = server_cpu_seconds(port), time.perf_counter()
            statuses = await asyncio.gather(*(one(token) for token in tokens))
            elapsed = time.perf_counter() - started
            cpu = server_cpu_seconds(port) - before
            print(
                f"{name:<10} {len(tokens) / elapsed:8.0f} req/s, server CPU "
                f"{cpu / len(tokens) * 1e6:5.0f} us/request, statuses {sorted(set(statuses))}"
            )

        await measure("floor", "GET", "/api/v1/auth/me")
        await measure("join", "POST", f"/api/v1/student/lessons/{lesson}/attendance")
        await measure("rejoin", "POST", f"/api/v1/student/lessons/{lesson}/attendance")


def main() -> None:
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="attn-cpu-")))
        database_url, redis_url = stack.enter_context(environment(stack, workdir))
        asyncio.run(seed_users(database_url))
        with server(database_url, redis_url, 1, workdir) as base:
            sync_redis.Redis.from_url(redis_url).flushdb()
            tokens = sessions(redis_url, REQUESTS)
            teacher_token = teacher_session(redis_url)
            port = int(base.rsplit(":", 1)[1])
            asyncio.run(run(base, port, tokens, teacher_token))


def teacher_session(redis_url: str) -> str:
    client = sync_redis.Redis.from_url(redis_url)
    now, secret = datetime.now(UTC), secrets.token_urlsafe(32)
    session = UserSessionRedis(
        school_number="T0000",
        full_name="Teacher 0",
        role=Role.TEACHER,
        token_digest=hashlib.sha256(secret.encode()).hexdigest(),
        created_at=now,
        expires_at=now + timedelta(hours=1),
    )
    client.set(keys.session("T0000"), session.model_dump_json(), ex=3600)
    client.close()
    return f"T0000.{secret}"


if __name__ == "__main__":
    main()
