"""A real LTI 1.3 platform for the tests, on a loopback port: `lti1p3platform` signs its ID
tokens and checks the tool's client assertions at its token endpoint; around it, a small
HTTP server (Starlette under uvicorn, in a thread) serves its JWKS, the OIDC authorization
endpoint (which answers the auto-posting form a platform sends the browser), the OAuth 2
token endpoint, Names and Role Provisioning (paged, `Link: rel="next"`), Assignment and
Grade Services (line items, scores), and Dynamic Registration (its OpenID configuration and
registration endpoint). `down` makes every service answer 503.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.registration import Registration
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
CLIENT_ID = "attn-client"
DEPLOYMENT_ID = "deployment-1"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
TA = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
PAGE_SIZE = 50


def new_private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


class PlatformConf(LTI1P3PlatformConfAbstract):  # type: ignore[misc]
    """lti1p3platform's platform configuration: one registration, the tool's keys given."""

    def init_platform_config(self, **kwargs: Any) -> None:
        self._registration = kwargs["registration"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        return self._registration


@dataclass
class Member:
    user_id: str
    name: str
    sourcedid: str
    roles: list[str]
    status: str = "Active"

    def json(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "name": self.name,
            "lis_person_sourcedid": self.sourcedid,
            "roles": self.roles,
            "status": self.status,
        }


@dataclass
class LtiTestPlatform:
    port: int
    key: str = field(default_factory=new_private_key)
    client_id: str = CLIENT_ID
    deployment_id: str = DEPLOYMENT_ID
    members: dict[str, list[Member]] = field(default_factory=dict)  # context -> members
    line_items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    scores: list[dict[str, Any]] = field(default_factory=list)
    member_pages: int = 0
    keyset_requests: int = 0
    down: bool = False
    tool_jwks: dict[str, Any] = field(default_factory=dict)
    registrations: list[dict[str, Any]] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    # what the next authorization request launches, by login_hint
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return self.url

    def registration(self, key: str | None = None) -> Registration:
        pem = key or self.key
        registration = (
            Registration()
            .set_iss(self.issuer)
            .set_client_id(self.client_id)
            .set_deployment_id(self.deployment_id)
            .set_platform_private_key(pem)
            .set_platform_public_key(public_pem(pem))
        )
        if self.tool_jwks:
            registration.set_tool_key_set(self.tool_jwks)
        return registration

    # --- what a test asks -------------------------------------------------------------------

    def login_params(
        self, login_hint: str, target: str = "http://testserver/lti/launch"
    ) -> dict[str, str]:
        return {
            "iss": self.issuer,
            "login_hint": login_hint,
            "target_link_uri": target,
            "lti_message_hint": f"hint-{login_hint}",
            "client_id": self.client_id,
            "lti_deployment_id": self.deployment_id,
        }

    def launch_claims(
        self,
        *,
        sub: str,
        name: str,
        sourcedid: str,
        roles: list[str],
        context_id: str = "course-1",
        title: str = "Distributed Systems",
    ) -> dict[str, Any]:
        return {
            "iss": self.issuer,
            "aud": self.client_id,
            "azp": self.client_id,
            "sub": sub,
            "name": name,
            CLAIM + "message_type": "LtiResourceLinkRequest",
            CLAIM + "version": "1.3.0",
            CLAIM + "deployment_id": self.deployment_id,
            CLAIM + "target_link_uri": "http://testserver/lti/launch",
            CLAIM + "resource_link": {"id": "link-1", "title": "Attendance"},
            CLAIM + "roles": roles,
            CLAIM + "context": {"id": context_id, "title": title, "label": "DS"},
            CLAIM + "lis": {"person_sourcedid": sourcedid},
            CLAIM + "launch_presentation": {"document_target": "iframe"},
            "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
                "context_memberships_url": f"{self.url}/nrps/{context_id}",
                "service_versions": ["2.0"],
            },
            "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
                "scope": [
                    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
                    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
                ],
                "lineitems": f"{self.url}/ags/{context_id}/lineitems",
            },
        }

    def sign(
        self,
        claims: dict[str, Any],
        *,
        nonce: str,
        key: str | None = None,
        expires_in: int | None = 300,
        forge_kid: bool = False,
    ) -> str:
        """An ID token as lti1p3platform signs it (its kid, RS256); `expires_in=None` leaves
        `iat` and `exp` to the claims; with `forge_kid`, signed by `key` under the kid of the
        platform's own key (a forgery naming a published key)."""
        payload = {**claims, "nonce": nonce}
        if forge_kid:
            now = int(time.time())
            payload.update({"iat": now, "exp": now + 300})
            kid = self.registration().get_kid()
            return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})
        return str(self.registration(key).platform_encode_and_sign(payload, expiration=expires_in))

    def jwks(self) -> dict[str, Any]:
        return {"keys": self.registration().get_jwks()}

    # --- the server's routes ----------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/jwks", self._jwks),
                Route("/auth", self._auth, methods=["GET", "POST"]),
                Route("/token", self._token, methods=["POST"]),
                Route("/nrps/{context}", self._nrps),
                Route("/ags/{context}/lineitems", self._lineitems, methods=["GET", "POST"]),
                Route("/ags/{context}/lineitems/{item}/scores", self._score, methods=["POST"]),
                Route("/.well-known/openid-configuration", self._openid_configuration),
                Route("/register", self._register, methods=["POST"]),
            ]
        )

    async def _jwks(self, request: Request) -> Response:
        self.keyset_requests += 1
        return JSONResponse(self.jwks())

    async def _auth(self, request: Request) -> Response:
        """The OIDC authorization endpoint: the form that posts the ID token to the tool."""
        query = dict(request.query_params)
        assert query["client_id"] == self.client_id, query
        assert query["response_mode"] == "form_post" and query["response_type"] == "id_token"
        assert query["lti_message_hint"] == f"hint-{query['login_hint']}"
        claims = self.pending.pop(query["login_hint"])
        token = self.sign(claims, nonce=query["nonce"])
        return HTMLResponse(
            f'<form method="post" action="{query["redirect_uri"]}">'
            f'<input type="hidden" name="id_token" value="{token}">'
            f'<input type="hidden" name="state" value="{query["state"]}">'
            "</form>"
        )

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        return header.startswith("Bearer ") and header[7:] in self.tokens

    async def _token(self, request: Request) -> Response:
        if self.down:
            return Response("down", status_code=503)
        form = dict(await request.form())
        conf = PlatformConf(registration=self.registration())
        try:
            answer = conf.get_access_token({k: str(v) for k, v in form.items()})
        except Exception as exc:  # the tool's assertion is refused
            return JSONResponse({"error": "invalid_client", "detail": str(exc)}, status_code=401)
        self.tokens.add(answer["access_token"])
        return JSONResponse(answer)

    async def _nrps(self, request: Request) -> Response:
        if self.down:
            return Response("down", status_code=503)
        if not self._authorized(request):
            return Response(status_code=401)
        context = request.path_params["context"]
        members = self.members.get(context, [])
        start = int(request.query_params.get("from", "0"))
        page = members[start : start + PAGE_SIZE]
        self.member_pages += 1
        headers = {"Content-Type": "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"}
        if start + PAGE_SIZE < len(members):
            headers["Link"] = f'<{self.url}/nrps/{context}?from={start + PAGE_SIZE}>; rel="next"'
        return JSONResponse(
            {
                "id": str(request.url),
                "context": {"id": context},
                "members": [member.json() for member in page],
            },
            headers=headers,
        )

    async def _lineitems(self, request: Request) -> Response:
        if self.down:
            return Response("down", status_code=503)
        if not self._authorized(request):
            return Response(status_code=401)
        context = request.path_params["context"]
        items = self.line_items.setdefault(context, [])
        if request.method == "GET":
            return JSONResponse(items)
        body = await request.json()
        item = {**body, "id": f"{self.url}/ags/{context}/lineitems/{len(items) + 1}"}
        items.append(item)
        return JSONResponse(item, status_code=201)

    async def _score(self, request: Request) -> Response:
        if self.down:
            return Response("down", status_code=503)
        if not self._authorized(request):
            return Response(status_code=401)
        body = await request.json()
        self.scores.append({**body, "item": request.path_params["item"]})
        return Response(status_code=200)

    async def _openid_configuration(self, request: Request) -> Response:
        if request.headers.get("authorization") != "Bearer reg-token":
            return Response(status_code=401)
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.url}/auth",
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/jwks",
                "registration_endpoint": f"{self.url}/register",
                "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                    "product_family_code": "moodle",
                    "version": "4.5",
                },
            }
        )

    async def _register(self, request: Request) -> Response:
        if request.headers.get("authorization") != "Bearer reg-token":
            return Response(status_code=401)
        body = await request.json()
        self.registrations.append(body)
        return JSONResponse(
            {
                **body,
                "client_id": "registered-client",
                "https://purl.imsglobal.org/spec/lti-tool-configuration": {
                    **body["https://purl.imsglobal.org/spec/lti-tool-configuration"],
                    "deployment_id": "registered-deployment",
                },
            }
        )


@contextmanager
def running(port: int) -> Iterator[LtiTestPlatform]:
    platform = LtiTestPlatform(port)
    config = uvicorn.Config(platform.app(), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test platform did not start")
        time.sleep(0.02)
    try:
        yield platform
    finally:
        server.should_exit = True
        thread.join(5)


FORM_FIELD = re.compile(r'name="(id_token|state)" value="([^"]*)"')
FORM_ACTION = re.compile(r'action="([^"]*)"')


def form_of(html: str) -> tuple[str, dict[str, str]]:
    """The auto-posting form's action and fields."""
    action = FORM_ACTION.search(html)
    assert action is not None, html
    return action.group(1), dict(FORM_FIELD.findall(html))


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


__all__ = ["LtiTestPlatform", "form_of", "jwt", "query_of", "running", "urlencode"]
