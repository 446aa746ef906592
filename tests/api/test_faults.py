"""A backing store that does not answer gives 503 in the error shape, never a 500."""

from __future__ import annotations

from pathlib import Path
from typing import Any


async def test_an_unreachable_database_is_503(make_api: Any, tmp_path: Path) -> None:
    async with make_api(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none") as api:
        login = await api.client.post(
            "/auth/login", json={"school_number": "S1", "password": "whatever"}
        )
        assert login.status_code == 503
        assert login.json()["error"]["code"] == "service_unavailable"
        assert login.headers["Retry-After"] == "1"
        ready = await api.client.get("http://testserver/readyz")
        assert ready.status_code == 503
        assert "database" in ready.json()["error"]["message"]


async def test_an_unreachable_redis_is_503(make_api: Any) -> None:
    async with make_api(REDIS_URL="redis://127.0.0.1:1/0", REDIS_POOL_TIMEOUT_SECONDS=1) as api:
        me = await api.client.get("/auth/me", headers={"Authorization": "Bearer S1.secret"})
        assert me.status_code == 503
        assert me.json()["error"]["code"] == "service_unavailable"
        ready = await api.client.get("http://testserver/readyz")
        assert ready.status_code == 503
        assert "redis" in ready.json()["error"]["message"]
