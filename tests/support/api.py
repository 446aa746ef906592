"""A running app as the API tests drive it, and the words they use with it: add a user, log
in, get a user's headers, start a lesson.

`Api` wraps an app whose lifespan is entered (so `api.context` is the live service context)
and an httpx client on `/api/v1` that talks to it in process.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx
from fastapi import FastAPI

from attn.models import NewAccount, utc_now
from attn.services import accounts
from attn.services.administration import CLI_ACTOR

PASSWORD = "correct horse battery staple"
Headers = dict[str, str]


class Api:
    """A running app (lifespan entered) and helpers to create users and log them in."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        self.app = app
        self.client = client

    @property
    def context(self) -> Any:
        return self.app.state.context

    async def add_user(
        self, role: str, school_number: str | None = None, full_name: str | None = None
    ) -> NewAccount:
        prefix = {"teacher": "T", "student": "S", "admin": "A"}[role]
        entry = NewAccount(
            school_number=school_number or f"{prefix}{secrets.token_hex(4)}",
            full_name=full_name or f"{role.title()} {secrets.token_hex(3)}",
            role=role,  # type: ignore[arg-type]
            password=PASSWORD,
        )
        await accounts.add_users(
            db=self.context.db,
            hasher=self.context.hasher,
            entries=[entry],
            actor=CLI_ACTOR,
            at=utc_now(),
        )
        return entry

    async def login(self, user: NewAccount) -> dict[str, str]:
        response = await self.client.post(
            "/auth/login", json={"school_number": user.school_number, "password": user.password}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def user_headers(self, role: str, **kwargs: Any) -> tuple[NewAccount, dict[str, str]]:
        user = await self.add_user(role, **kwargs)
        return user, await self.login(user)

    async def start_lesson(
        self, headers: dict[str, str], lesson_name: str = "Algorithms", duration_minutes: int = 60
    ) -> dict[str, Any]:
        response = await self.client.post(
            "/teacher/lessons",
            json={"lesson_name": lesson_name, "duration_minutes": duration_minutes},
            headers=headers,
        )
        assert response.status_code == 201, response.text
        lesson: dict[str, Any] = response.json()
        return lesson
