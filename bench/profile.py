"""Where the time of a join and of a login goes: pyinstrument profiles of the app in-process.

    .venv/bin/python -m bench.profile

Drives the ASGI app directly (no sockets, so the profile shows the app, not uvicorn) against
the same databases `bench.run` picks, and writes bench/results/profile-join.txt and
profile-login.txt (pyinstrument's text tree, trimmed to frames above 2 %).
"""

from __future__ import annotations

import asyncio
import tempfile
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import httpx
import redis as sync_redis
from pyinstrument import Profiler

from attn.app import create_app
from attn.config import Settings, to_async_database_url
from attn.db.engine import create_engine
from attn.db.tables import UserRow
from attn.services.passwords import PasswordHasher
from bench.run import PASSWORD, RESULTS, environment

JOINS = 2000
LOGINS = 200


async def profile(database_url: str, redis_url: str, workdir: Path) -> None:
    sync_redis.Redis.from_url(redis_url).flushdb()
    password_hash = PasswordHasher(1).hash_sync(PASSWORD)
    now = datetime.now(UTC)
    engine = create_engine(to_async_database_url(database_url))
    async with engine.begin() as connection:
        await connection.execute(
            UserRow.__table__.insert(),
            [
                {
                    "school_number": number,
                    "full_name": number,
                    "role": "teacher" if number.startswith("T") else "student",
                    "password_hash": password_hash,
                    "created_at": now,
                }
                for number in ["TP0001"] + [f"SP{n:05d}" for n in range(JOINS)]
            ],
        )
    await engine.dispose()
    settings = Settings(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DATA_DIR=workdir,
        PUBLIC_URL="http://bench",  # the in-process client's host, so the Host check lets it in
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench/api/v1") as client:

            async def login(number: str) -> str:
                response = await client.post(
                    "/auth/login", json={"school_number": number, "password": PASSWORD}
                )
                return str(response.json()["access_token"])

            teacher = await login("TP0001")
            lesson = (
                await client.post(
                    "/teacher/lessons",
                    json={"lesson_name": "Profiled", "duration_minutes": 60},
                    headers={"Authorization": f"Bearer {teacher}"},
                )
            ).json()["lesson_id"]

            profiler = Profiler(interval=0.0005, async_mode="enabled")
            profiler.start()
            tokens = [await login(f"SP{n:05d}") for n in range(LOGINS)]
            profiler.stop()
            write(profiler, "login", f"{LOGINS} logins")
            tokens += [await login(f"SP{n:05d}") for n in range(LOGINS, JOINS)]

            profiler = Profiler(interval=0.0002, async_mode="enabled")
            profiler.start()
            for start in range(0, JOINS, 100):
                await asyncio.gather(
                    *(
                        client.post(
                            f"/student/lessons/{lesson}/attendance",
                            headers={"Authorization": f"Bearer {token}"},
                        )
                        for token in tokens[start : start + 100]
                    )
                )
            profiler.stop()
            write(profiler, "join", f"{JOINS} joins, 100 at a time")


def write(profiler: Profiler, name: str, what: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    text = profiler.output_text(unicode=True, color=False, show_all=False, time="percent_of_total")
    lines = [line for line in text.splitlines() if _share(line) is None or _share(line) >= 2.0]
    (RESULTS / f"profile-{name}.txt").write_text(f"# {what}\n" + "\n".join(lines) + "\n")
    print(f"wrote {RESULTS / f'profile-{name}.txt'}")


def _share(line: str) -> float | None:
    for token in line.replace("%", " ").split():
        try:
            return float(token)
        except ValueError:
            continue
    return None


def main() -> None:
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="attn-profile-")))
        database_url, redis_url = stack.enter_context(environment(stack, workdir))
        asyncio.run(profile(database_url, redis_url, workdir))


if __name__ == "__main__":
    main()
