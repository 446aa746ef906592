"""The two hottest routes as a small ASGI handler in front of FastAPI: a student's join
(`POST /api/v1/student/lessons/{lesson_id}/attendance`) and the token check (`GET
/api/v1/auth/me`).

A lecture's start is a burst of joins; FastAPI's per-request machinery (dependency
resolution, request and response objects, its middleware) costs more CPU than the join's own
work. This handler answers those two requests itself when it is sure of the answer (a valid
token of the right role, a body the route would accept) and hands every other request, and
every refusal it would have to word, to the FastAPI routes unchanged, a body it read
included. Once the join has run, it answers whatever happens, through the same exception
handlers (`attn.api.errors.response_for`), so every answer is the one the route gives.

It runs inside the HTTP edge (`attn.http.edge.Edge`), whose limits, Host check and security
headers cover it as they cover everything, and it applies the body limit itself (a body over
`ATTN_MAX_BODY_BYTES` goes to FastAPI, whose `BodySizeLimit` refuses it). The FastAPI routes
stay declared, so the OpenAPI document is the same. `ATTN_LEAN_ROUTES=false` serves both
through FastAPI only.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError
from starlette.background import BackgroundTasks
from starlette.requests import Request, cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from attn.api.errors import response_for
from attn.errors import AttnError
from attn.http.deps import DEVICE_COOKIE, valid_device_id
from attn.http.edge import ROUTE_KEY
from attn.http.schemas import JoinIn, MeOut, UserOut
from attn.models import DEVICE_ID_PATTERN, Role, UserSessionRedis
from attn.services import auth, network, student_service, verification_service
from attn.services.context import ServiceContext
from attn.services.student_service import CheckIn

ME_PATH = "/api/v1/auth/me"
JOIN_ROUTE = "/api/v1/student/lessons/{lesson_id}/attendance"
_JOIN_PATH = re.compile(r"/api/v1/student/lessons/([^/]+)/attendance")
_DEVICE_ID = re.compile(DEVICE_ID_PATTERN)
_FORWARDED = b"x-forwarded-for"
_JSON_HEADERS = [(b"content-type", b"application/json")]


class _Fallback(Exception):
    """The request is FastAPI's to answer."""


class LeanRoutes:
    """See the module's text. `app` is the FastAPI stack; `state` holds the service
    context the lifespan opens (`state.context`)."""

    def __init__(self, app: ASGIApp, *, state: Any, max_body_bytes: int) -> None:
        self.app = app
        self.state = state
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            method, path = scope["method"], scope["path"]
            if method == "POST" and path.startswith("/api/v1/student/lessons/"):
                found = _JOIN_PATH.fullmatch(path)
                if found is not None:
                    scope[ROUTE_KEY] = JOIN_ROUTE  # the route label of metrics and logs
                    await self._join(scope, receive, send, found[1])
                    return
            elif method == "GET" and path == ME_PATH:
                scope[ROUTE_KEY] = ME_PATH
                await self._me(scope, receive, send)
                return
        await self.app(scope, receive, send)

    # --- the token check -----------------------------------------------------------------

    async def _session(self, ctx: ServiceContext, scope: Scope) -> UserSessionRedis:
        """The caller's session, as `attn.http.deps.current_session` finds it; _Fallback for
        anything but a live one (the route words the refusal)."""
        authorization = _header(scope, b"authorization")
        if authorization is None:
            raise _Fallback
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        token = token.strip()
        if not token or scheme.lower() != "bearer":
            raise _Fallback
        try:
            return await auth.authenticate(ctx, token)
        except Exception as exc:  # refused, or the store did not answer: the route says so
            raise _Fallback from exc

    async def _me(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx: ServiceContext = self.state.context
        try:
            user_session = await self._session(ctx, scope)
        except _Fallback:
            await self.app(scope, receive, send)
            return
        await _send_json(send, 200, _me_json(user_session))

    # --- the join ------------------------------------------------------------------------

    async def _join(self, scope: Scope, receive: Receive, send: Send, lesson_id: str) -> None:
        ctx: ServiceContext = self.state.context
        read: list[Message] = []
        try:
            raw = await self._body(scope, receive, read)
            body = _join_body(scope, raw)
            student = await self._session(ctx, scope)
            if student.role is not Role.STUDENT:
                raise _Fallback
        except _Fallback:
            await self.app(scope, _replay(read, receive), send)
            return
        address = network.client_address(
            scope["client"][0] if scope.get("client") else None,
            [value.decode("latin-1") for name, value in scope["headers"] if name == _FORWARDED],
            ctx.settings.trusted_proxies,
        )
        device = valid_device_id(ctx.secret_key, student.school_number, _sent_device_ids(scope))
        background = BackgroundTasks()
        try:
            check_in = CheckIn(code=body.code if body else None, client=address, device_id=device)
            result = await student_service.join_attendance(
                ctx, student=student, lesson_id=lesson_id, check_in=check_in
            )
            verification_service.request_after_join(background.add_task, ctx, result)
        except Exception as exc:
            response = await response_for(Request(scope), exc)
            await response(scope, receive, send)
            if not isinstance(exc, AttnError) and response.status_code == 500:
                raise
            return
        await _send_json(send, 201 if result.created else 200, result.record_json.encode())
        if background.tasks:
            await background()

    async def _body(self, scope: Scope, receive: Receive, read: list[Message]) -> bytes:
        """The request's body, each message kept in `read`; _Fallback past the limit."""
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            raise _Fallback
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            read.append(message)
            if message["type"] != "http.request":
                raise _Fallback
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _Fallback
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _header(scope: Scope, wanted: bytes) -> bytes | None:
    """The first value of a header, as Starlette's `Headers.get` finds it."""
    for name, value in scope["headers"]:
        if name == wanted:
            return bytes(value)
    return None


def _sent_device_ids(scope: Scope) -> tuple[str, ...]:
    """The well-formed device ids the request carries, as `deps.sent_device_ids` reads them."""
    header = _header(scope, b"x-attn-device")
    cookies = _header(scope, b"cookie")
    sent = (
        None if header is None else header.decode("latin-1"),
        None if cookies is None else cookie_parser(cookies.decode("latin-1")).get(DEVICE_COOKIE),
    )
    return tuple(value for value in sent if value and _DEVICE_ID.fullmatch(value))


def _join_body(scope: Scope, raw: bytes) -> JoinIn | None:
    """The join's body as the route reads it (`JoinIn | None`, JSON with or without a
    Content-Type); _Fallback for anything the route would refuse or read otherwise."""
    if not raw:
        return None
    content_type = _header(scope, b"content-type")
    if content_type is not None and content_type.lower() != b"application/json":
        raise _Fallback
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # the route words it (nesting too deep: 422)
        raise _Fallback from exc
    if value is None or value == {}:  # no code: as the route reads `{}`
        return None
    if not isinstance(value, dict):
        raise _Fallback
    try:
        return JoinIn.model_validate(value)
    except ValidationError as exc:
        raise _Fallback from exc


def _me_json(user_session: UserSessionRedis) -> bytes:
    return (
        MeOut(
            user=UserOut(
                school_number=user_session.school_number,
                full_name=user_session.full_name,
                role=user_session.role,
            ),
            session_expires_at=user_session.expires_at,
        )
        .model_dump_json()
        .encode()
    )


async def _send_json(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-length", str(len(body)).encode()), *_JSON_HEADERS],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _replay(read: list[Message], receive: Receive) -> Receive:
    """`receive` that first gives back the messages already read."""
    pending = list(read)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
