"""The "limit": a bare ASGI app that does exactly what a join must, and nothing else.

    python -m bench.limit PORT   (ATTN_REDIS_URL names the Redis)

It reads the request (path, bearer token, body), makes one `GET` for the token's session
(parsed with `json`, its digest compared), builds the record's head and sends one `EVALSHA`
of the real join script, then answers with the record JSON. Both commands go through the
lean Redis path the service's join uses (`attn.store.redis_client.Lane`). No framework, no
edge, no student-list commands, no security options: what the join's cost is measured
against (`bench.goals`). It is served as `attn serve` serves the app (uvicorn, uvloop, the
same bounded httptools protocol and limits, the same garbage collector settings), so that
only the app differs. It is a bench
fixture, not a service.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import json
import os
import re
from datetime import UTC, datetime
from typing import Any

from attn.app import SERVED_GC_THRESHOLDS
from attn.models import AttendanceRecordRedis, to_ms
from attn.store import formats, keys
from attn.store.redis_client import Lane, _script_source, connect, pack

_JOIN = re.compile(r"/api/v1/student/lessons/([^/]+)/attendance")


class Limit:
    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        self.redis: Any = None
        self.lane: Any = None
        self.sha = ""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    self.redis = connect(self.redis_url, max_connections=64, pool_timeout=5)
                    self.sha = await self.redis.script_load(_script_source("add_attendance_record"))
                    self.lane = Lane(self.redis, 2)
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await self.lane.close()
                    await self.redis.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        more = True
        while more:  # the body, read and dropped
            message = await receive()
            more = message.get("more_body", False)
        found = _JOIN.fullmatch(scope["path"])
        token = next((v for n, v in scope["headers"] if n == b"authorization"), b"")[7:].decode()
        number, _, secret = token.rpartition(".")
        raw = None
        if found and number:
            (raw,) = await self.lane.call(pack("GET", keys.session(number)), 1)
        session = json.loads(raw) if raw else None
        if (
            found is None
            or session is None
            or not hmac.compare_digest(
                session["token_digest"], hashlib.sha256(secret.encode()).hexdigest()
            )
        ):
            await self._answer(send, 401, b'{"error":{"code":"not_authenticated"}}')
            return
        lesson_id, now = found[1], datetime.now(UTC)
        record = AttendanceRecordRedis(
            lesson_id=lesson_id,
            student_number=number,
            student_full_name=session["full_name"],
            attendance_time=now,
        )
        packed = pack(
            "EVALSHA",
            self.sha,
            7,
            keys.lesson(lesson_id),
            keys.lesson_records(lesson_id),
            keys.lesson_devices(lesson_id),
            keys.lesson_code_failures(lesson_id),
            keys.lesson_roster(lesson_id),
            keys.lesson_verifications(lesson_id),
            keys.lesson_addresses(lesson_id),
            number,
            formats.record_head(record),
            to_ms(now),
            "0",
            "",
            "",
            formats.new_verification_id(lesson_id),
            5,
            60_000,
            keys.lesson_events(lesson_id),
            "",
        )
        (reply,) = await self.lane.call(packed, 1)
        await self._answer(send, 201 if reply[0] == "created" else 200, str(reply[1]).encode())

    async def _answer(self, send: Any, status: int, body: bytes) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-length", str(len(body)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def create() -> Limit:
    """The app, with the collector set as `attn.app.served_app` sets a served worker's."""
    limit = Limit(os.environ["ATTN_REDIS_URL"])
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVED_GC_THRESHOLDS)
    return limit


def main() -> None:
    import sys

    import uvicorn

    from attn.config import Settings
    from attn.http.connections import protocol_factory

    settings = Settings()
    uvicorn.run(
        "bench.limit:create",
        factory=True,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        loop="uvloop",
        http=protocol_factory(settings),
        ws="none",
        proxy_headers=False,
        limit_concurrency=settings.MAX_CONNECTIONS,
        timeout_keep_alive=settings.KEEPALIVE_TIMEOUT_SECONDS,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
