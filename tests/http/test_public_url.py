"""Links, QR codes and the verifier's callback come from configuration, never from a request's
Host header; other Host values are refused, and `X-Forwarded-Host`/`-Proto` are believed only
from trusted proxies."""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import segno

from attn.config import ConfigError, Settings, load_settings
from attn.services import verification_service
from tests.support.api import Api
from tests.support.database import Database
from tests.support.http_server import serving

SECRET = "a-verifier-secret-of-some-length"


def host(value: str) -> dict[str, str]:
    return {"Host": value}


async def code_lesson(api: Api) -> tuple[dict[str, str], str]:
    _, headers = await api.user_headers("teacher")
    started = await api.client.post(
        "/teacher/lessons",
        json={"lesson_name": "Links", "duration_minutes": 30, "security": ["code"]},
        headers=headers,
    )
    assert started.status_code == 201, started.text
    return headers, started.json()["lesson_id"]


async def test_join_links_and_qr_codes_come_from_the_listen_address_not_the_host_header(
    make_api: Callable[..., Any],
) -> None:
    # no ATTN_PUBLIC_URL: a local run's links use the address `attn serve` listens on, even
    # when every Host is let through
    async with make_api(PUBLIC_URL=None, HOST="127.0.0.1", PORT=8123, ALLOWED_HOSTS="*") as api:
        headers, lesson_id = await code_lesson(api)
        shown = await api.client.get(
            f"/teacher/lessons/{lesson_id}/code", headers={**headers, **host("attacker.example")}
        )
        assert shown.status_code == 200
        join_url = shown.json()["join_url"]
        assert join_url.startswith(f"http://127.0.0.1:8123/join/{lesson_id}?code=")
        qr = await api.client.get(
            f"/teacher/lessons/{lesson_id}/code.svg",
            headers={**headers, **host("attacker.example")},
        )
        expected = io.BytesIO()
        segno.make(join_url, error="m").save(expected, kind="svg", scale=8, border=2, xmldecl=False)
        assert qr.content == expected.getvalue()


async def test_join_links_come_from_the_public_url_whose_host_alone_is_answered(
    make_api: Callable[..., Any],
) -> None:
    async with make_api(PUBLIC_URL="https://attn.example.edu/") as api:
        public = {"Host": "attn.example.edu"}
        teacher = await api.add_user("teacher")
        login = await api.client.post(
            "/auth/login",
            json={"school_number": teacher.school_number, "password": teacher.password},
            headers=public,
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        started = await api.client.post(
            "/teacher/lessons",
            json={"lesson_name": "Links", "duration_minutes": 30, "security": ["code"]},
            headers={**headers, **public},
        )
        lesson_id = started.json()["lesson_id"]
        shown = await api.client.get(
            f"/teacher/lessons/{lesson_id}/code", headers={**headers, **public}
        )
        assert shown.json()["join_url"].startswith(f"https://attn.example.edu/join/{lesson_id}")
        # the test client's own name is not the public URL's: refused
        refused = await api.client.get(f"/teacher/lessons/{lesson_id}/code", headers=headers)
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "host_not_allowed"


@pytest.fixture
async def verifier_posts(
    make_api: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Api, list[httpx.Request]]]:
    """An app with a verifier whose requests (the app's outgoing posts) are recorded; the
    test client's Host is allowed besides the public URL's, which it is not."""
    sent: list[httpx.Request] = []
    real = verification_service.request_verification

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(202)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as outgoing:

        async def recorded(ctx: Any, **kwargs: Any) -> bool:
            return await real(dataclasses.replace(ctx, http=outgoing), **kwargs)

        monkeypatch.setattr(verification_service, "request_verification", recorded)
        async with make_api(
            VERIFIER_URL="http://verifier.test/",
            VERIFIER_SECRET=SECRET,
            PUBLIC_URL="https://attn.example.edu",
            ALLOWED_HOSTS="attn.example.edu,testserver",
        ) as api:
            yield api, sent


async def test_the_student_host_header_does_not_decide_where_the_verifier_answers(
    verifier_posts: tuple[Api, list[httpx.Request]],
) -> None:
    api, sent = verifier_posts
    _, teacher_headers = await api.user_headers("teacher")
    started = await api.client.post(
        "/teacher/lessons",
        json={"lesson_name": "Verified", "duration_minutes": 30, "security": ["verification"]},
        headers=teacher_headers,
    )
    lesson_id = started.json()["lesson_id"]
    _, student_headers = await api.user_headers("student")
    join = f"/student/lessons/{lesson_id}/attendance"
    # a Host the service does not answer for: refused before anything is recorded or sent
    refused = await api.client.post(join, headers={**student_headers, **host("attacker.example")})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "host_not_allowed"
    assert sent == []
    mine = await api.client.get(join, headers=student_headers)
    assert mine.json()["error"]["code"] == "record_not_found"
    # an allowed Host (the test client's) still does not make the callback
    joined = await api.client.post(
        join, headers={**student_headers, "X-Forwarded-Host": "attacker.example"}
    )
    assert joined.status_code == 201
    assert [request.url.host for request in sent] == ["verifier.test"]
    callback = json.loads(sent[0].content)["callback_url"]
    assert callback.startswith("https://attn.example.edu/api/v1/verifications/")


def test_a_verifier_needs_a_public_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in {
        "ATTN_DATA_DIR": str(tmp_path),
        "ATTN_VERIFIER_URL": "http://127.0.0.1:8100/",
        "ATTN_VERIFIER_SECRET": SECRET,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ATTN_PUBLIC_URL", raising=False)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    reason = str(refused.value)
    assert "\n" not in reason
    assert "ATTN_PUBLIC_URL" in reason
    monkeypatch.setenv("ATTN_PUBLIC_URL", "https://attn.example.edu")
    assert load_settings().public_url == "https://attn.example.edu"


def test_the_defaults_are_the_listen_address_and_loopback_names() -> None:
    settings = Settings()
    assert settings.public_url == "http://127.0.0.1:8000"
    assert set(settings.allowed_hosts) == {"127.0.0.1", "localhost", "::1"}
    listed = Settings(ALLOWED_HOSTS="attn.example.edu, *.school.example")
    assert listed.allowed_hosts == ("attn.example.edu", "*.school.example")
    with pytest.raises(ValueError, match="ALLOWED_HOSTS"):
        Settings(ALLOWED_HOSTS="bad host/")


async def test_other_host_headers_get_400_in_the_error_shape(api: Api) -> None:
    for path in ("/api/v1/auth/me", "/login", "/docs", "/openapi.json", "/nowhere"):
        refused = await api.client.get(f"http://testserver{path}", headers=host("attacker"))
        assert refused.status_code == 400, path
        assert refused.json()["error"]["code"] == "host_not_allowed"
    for allowed in ("testserver", "testserver:8000", "localhost:8000", "127.0.0.1", "[::1]:80"):
        answered = await api.client.get("http://testserver/openapi.json", headers=host(allowed))
        assert answered.status_code == 200, allowed
    # an orchestrator probes a worker by its own address
    for probe in ("/healthz", "/readyz"):
        answered = await api.client.get(f"http://testserver{probe}", headers=host("10.1.2.3"))
        assert answered.status_code == 200, probe


async def test_allowed_hosts_take_wildcard_domains(make_api: Callable[..., Any]) -> None:
    async with make_api(ALLOWED_HOSTS="attn.example.edu,*.school.example") as api:
        for allowed in ("attn.example.edu", "a.school.example", "b.a.school.example:443"):
            answered = await api.client.get("http://testserver/login", headers=host(allowed))
            assert answered.status_code == 200, allowed
        for refused in ("testserver", "school.example", "evilschool.example", "localhost"):
            answered = await api.client.get("http://testserver/login", headers=host(refused))
            assert answered.status_code == 400, refused


async def test_forwarded_host_is_believed_only_from_a_trusted_proxy(
    make_api: Callable[..., Any],
) -> None:
    # the test client's address is 127.0.0.1: first not a trusted proxy, then one
    async with make_api(TRUSTED_PROXIES="10.0.0.0/8") as api:
        laundered = await api.client.get(
            "http://testserver/login",
            headers={**host("attacker"), "X-Forwarded-Host": "testserver"},
        )
        assert laundered.status_code == 400
    async with make_api(TRUSTED_PROXIES="127.0.0.1") as api:
        behind_proxy = {**host("attn-upstream:8000"), "X-Forwarded-Proto": "https"}
        answered = await api.client.get(
            "http://testserver/login",
            headers={**behind_proxy, "X-Forwarded-Host": "evil, testserver"},
        )
        assert answered.status_code == 200
        refused = await api.client.get(
            "http://testserver/login",
            headers={**behind_proxy, "X-Forwarded-Host": "testserver, attacker"},
        )
        assert refused.status_code == 400


def test_attn_serve_answers_its_listen_address_and_loopback_names_only(
    database: Database, redis_url: str, tmp_path: Path
) -> None:
    with serving(database, redis_url, tmp_path) as server:
        for allowed in (f"127.0.0.1:{server.port}", f"localhost:{server.port}"):
            answered = httpx.get(f"{server.url}/login", headers=host(allowed))
            assert answered.status_code == 200, allowed
        refused = httpx.get(f"{server.url}/login", headers=host("attacker.example"))
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "host_not_allowed"
