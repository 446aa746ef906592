"""OpenID Connect sign-in, the protocol half: the provider's discovery document and signing
keys (both cached), the authorization request (code flow with PKCE S256, `state`, `nonce`),
the code exchange and every check of the ID token. The pages (`attn.web.oidc`) call `start`
and `finish`; the session itself is opened by `auth.sign_in_external`.

What is checked, in order (each failure is `SsoRefused` with the reason as its detail; a
provider that cannot be reached or answers nonsense is `SsoUnavailable`):

1. the callback's `state` is one this server issued and has not been used (taken once from
   Redis: a replayed callback finds nothing); the code was never redeemed here before;
2. the code is redeemed at the token endpoint with the client secret and the PKCE verifier
   (a code stolen from another browser's redirect cannot be redeemed without it);
3. the ID token is signed with an asymmetric algorithm the provider announces, by a key of
   its JWKS: on an unknown `kid` the keys are fetched again, at most once per
   `JWKS_REFETCH_SECONDS`, so a provider's key rotation is followed and a forged `kid` cannot
   make this server hammer the provider;
4. `iss` is the discovery document's issuer (for a multi-tenant template such as Entra's
   `https://login.microsoftonline.com/{tenantid}/v2.0`, the token's `tid` substituted into
   it, and `tid` must be an allowed tenant); `aud` holds the client id (and `azp`, when there
   are several audiences, is it); `exp` has not passed and `iat` is not in the future, each
   within `LEEWAY_SECONDS`; `nonce` is the one stored with the state.

Uses httpx (its own client per call, so nothing is bound to an event loop), joserfc (JOSE, by
authlib's authors) and authlib's PKCE and token helpers. Imports `attn.store`, `attn.models`,
`attn.errors`, `attn.config` and the service context.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, KeySetSerialization
from joserfc.jwt import JWTClaimsRegistry

from attn.config import Settings
from attn.errors import SsoRefused, SsoUnavailable
from attn.models import ExternalIdentity, Role
from attn.services.context import ServiceContext
from attn.store import formats
from attn.store.formats import OidcPending

log = logging.getLogger("attn.oidc")

PROVIDER = "oidc"
STATE_SECONDS = 600  # how long a started sign-in may take at the provider
CODE_SEEN_SECONDS = 3600  # an authorization code is short-lived; remembered well past that
DISCOVERY_SECONDS = 3600  # how long the discovery document is kept
JWKS_SECONDS = 3600  # how long the keys are kept before they are fetched again anyway
JWKS_REFETCH_SECONDS = 60  # at most one fetch for an unknown key id per this many seconds
LEEWAY_SECONDS = 60  # clock difference allowed between the provider and this server
TENANT_TEMPLATE = "{tenantid}"
# the signature algorithms an ID token may use: asymmetric only (never `none`, never a MAC
# keyed with the client secret)
SIGNING_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
_ERROR_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@dataclass(frozen=True, slots=True)
class Discovery:
    """The parts of the provider's discovery document this server uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    algorithms: frozenset[str]


@dataclass(frozen=True, slots=True)
class Finished:
    """A checked sign-in: who it is and what the start asked for (target, remember)."""

    identity: ExternalIdentity
    target: str
    remember: bool


class OidcProvider:
    """The configured provider, with its discovery document and keys cached for one process."""

    def __init__(self, settings: Settings) -> None:
        assert settings.OIDC_ISSUER, "OIDC sign-in is off"
        self.settings = settings
        self.issuer = settings.OIDC_ISSUER
        self._discovery: Discovery | None = None
        self._discovery_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at = 0.0
        self._refetched_at: float | None = None
        self._lock = asyncio.Lock()

    @property
    def label(self) -> str:
        return self.settings.OIDC_PROVIDER_NAME

    # --- talking to the provider ---------------------------------------------------------

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=self.settings.OIDC_TIMEOUT_SECONDS) as http:
                response = await http.get(url, headers={"Accept": "application/json"})
            if response.status_code != 200:
                raise SsoUnavailable(f"the provider's {what} answered {response.status_code}")
            body = response.json()
        except httpx.HTTPError as exc:
            raise SsoUnavailable(f"the provider's {what} cannot be reached: {exc!r}") from exc
        except ValueError as exc:
            raise SsoUnavailable(f"the provider's {what} is not JSON") from exc
        if not isinstance(body, dict):
            raise SsoUnavailable(f"the provider's {what} is not a JSON object")
        return body

    async def discovery(self) -> Discovery:
        """The discovery document, fetched when missing or older than DISCOVERY_SECONDS."""
        if self._discovery is not None and time.monotonic() - self._discovery_at < (
            DISCOVERY_SECONDS
        ):
            return self._discovery
        async with self._lock:
            if self._discovery is None or time.monotonic() - self._discovery_at >= (
                DISCOVERY_SECONDS
            ):
                self._discovery = self._read_discovery(
                    await self._get_json(
                        f"{self.issuer}/.well-known/openid-configuration", "discovery document"
                    )
                )
                self._discovery_at = time.monotonic()
            return self._discovery

    def _read_discovery(self, document: dict[str, Any]) -> Discovery:
        values = {}
        for name in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
            value = document.get(name)
            if not isinstance(value, str) or not value.startswith(("https://", "http://")):
                raise SsoUnavailable(f"the discovery document has no usable {name}")
            values[name] = value
        issuer = values["issuer"].rstrip("/")
        # OpenID Connect Discovery 1.0, 4.3: the document is the configured issuer's own
        # (a multi-tenant template stands for the issuer of each of its tenants)
        if TENANT_TEMPLATE not in issuer and issuer != self.issuer:
            raise SsoUnavailable(
                f"the discovery document's issuer {issuer!r} is not {self.issuer!r}"
            )
        announced = document.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = frozenset(a for a in announced if isinstance(a, str)) & SIGNING_ALGORITHMS
        if not algorithms:
            raise SsoUnavailable("the provider signs ID tokens with no asymmetric algorithm")
        return Discovery(
            issuer=values["issuer"],
            authorization_endpoint=values["authorization_endpoint"],
            token_endpoint=values["token_endpoint"],
            jwks_uri=values["jwks_uri"],
            algorithms=algorithms,
        )

    async def _fetch_keys(self, discovery: Discovery) -> KeySet:
        document = await self._get_json(discovery.jwks_uri, "key set")
        keys = document.get("keys")
        if not isinstance(keys, list):
            raise SsoUnavailable("the provider's key set has no keys")
        usable: KeySetSerialization = {
            "keys": [k for k in keys if isinstance(k, dict) and k.get("use", "sig") == "sig"]
        }
        try:
            key_set = KeySet.import_key_set(usable)
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise SsoUnavailable(f"the provider's key set cannot be read: {exc!r}") from exc
        self._keys, self._keys_at = key_set, time.monotonic()
        return key_set

    async def signing_keys(self, discovery: Discovery, kid: str | None) -> KeySet:
        """The provider's keys, fetched again (rate-limited) when none has the id `kid`."""
        async with self._lock:
            keys = self._keys
            if keys is None or time.monotonic() - self._keys_at >= JWKS_SECONDS:
                return await self._fetch_keys(discovery)
            if _has_key(keys, kid):
                return keys
            now = time.monotonic()
            if self._refetched_at is not None and now - self._refetched_at < JWKS_REFETCH_SECONDS:
                return keys  # fetched again for an unknown key not long ago: not again yet
            self._refetched_at = now
            log.info("oidc: unknown signing key %r, fetching the provider's keys again", kid)
            return await self._fetch_keys(discovery)

    # --- the flow --------------------------------------------------------------------------

    async def authorization_url(
        self, *, state: str, nonce: str, verifier: str, redirect_uri: str
    ) -> str:
        discovery = await self.discovery()
        scopes = self.settings.OIDC_SCOPES.split()
        if "openid" not in scopes:
            scopes.insert(0, "openid")
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.settings.OIDC_CLIENT_ID,
                "redirect_uri": redirect_uri,
                "scope": " ".join(scopes),
                "state": state,
                "nonce": nonce,
                "code_challenge": create_s256_code_challenge(verifier),
                "code_challenge_method": "S256",
            }
        )
        separator = "&" if "?" in discovery.authorization_endpoint else "?"
        return f"{discovery.authorization_endpoint}{separator}{query}"

    async def redeem(self, *, code: str, verifier: str, redirect_uri: str) -> str:
        """Trade the code for tokens at the token endpoint; the raw ID token."""
        discovery = await self.discovery()
        try:
            async with httpx.AsyncClient(timeout=self.settings.OIDC_TIMEOUT_SECONDS) as http:
                response = await http.post(
                    discovery.token_endpoint,
                    data={
                        "grant_type": "authorization_code",
                        "code": code,
                        "redirect_uri": redirect_uri,
                        "code_verifier": verifier,
                    },
                    auth=(self.settings.OIDC_CLIENT_ID, self.settings.OIDC_CLIENT_SECRET),
                    headers={"Accept": "application/json"},
                )
            body = response.json() if response.content else {}
        except httpx.HTTPError as exc:
            raise SsoUnavailable(f"the token endpoint cannot be reached: {exc!r}") from exc
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if response.status_code in (400, 401):
            raise SsoRefused(f"the provider refused the code: {provider_error(body.get('error'))}")
        if response.status_code != 200:
            raise SsoUnavailable(f"the token endpoint answered {response.status_code}")
        id_token = body.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise SsoRefused("the token response has no ID token")
        return id_token

    async def checked_claims(self, id_token: str, *, nonce: str, now: datetime) -> dict[str, Any]:
        """The claims of `id_token` after every check of the module docstring's step 3-4."""
        discovery = await self.discovery()
        try:
            header = jws.extract_compact(id_token.encode()).headers()
        except (JoseError, ValueError, TypeError) as exc:
            raise SsoRefused("the ID token is not a signed JWT") from exc
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in discovery.algorithms:
            raise SsoRefused(f"the ID token is signed with {algorithm!r}, not an allowed algorithm")
        keys = await self.signing_keys(discovery, kid if isinstance(kid, str) else None)
        if not _has_key(keys, kid):
            raise SsoRefused(f"the ID token is signed by an unknown key {kid!r}")
        try:
            token = jwt.decode(id_token, keys, algorithms=[algorithm])
        except JoseError as exc:
            raise SsoRefused(f"the ID token's signature does not verify: {exc.error}") from exc
        claims = token.claims
        self._check_issuer(discovery, claims)
        registry = JWTClaimsRegistry(
            now=int(now.timestamp()),
            leeway=LEEWAY_SECONDS,
            aud={"essential": True, "value": self.settings.OIDC_CLIENT_ID},
            exp={"essential": True},
            iat={"essential": True},
            sub={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise SsoRefused(f"the ID token's claims are refused: {exc.description}") from exc
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.settings.OIDC_CLIENT_ID:
            raise SsoRefused("the ID token has other audiences and is not authorised for this one")
        if not isinstance(claims.get("nonce"), str) or not _equal(claims["nonce"], nonce):
            raise SsoRefused("the ID token's nonce is not the one this sign-in sent")
        return claims

    def _check_issuer(self, discovery: Discovery, claims: dict[str, Any]) -> None:
        issuer = claims.get("iss")
        if TENANT_TEMPLATE in discovery.issuer:
            tenant = claims.get("tid")
            if not isinstance(tenant, str) or not tenant:
                raise SsoRefused("the ID token of a multi-tenant provider names no tenant")
            if issuer != discovery.issuer.replace(TENANT_TEMPLATE, tenant):
                raise SsoRefused(f"the ID token's issuer {issuer!r} is not its tenant's")
            if tenant not in self.settings.oidc_tenants:
                raise SsoRefused(f"the tenant {tenant!r} is not allowed")
        elif issuer != discovery.issuer:
            raise SsoRefused(f"the ID token's issuer {issuer!r} is not {discovery.issuer!r}")

    async def issued_by(self, issuer: str) -> bool:
        """Whether `issuer` (an authorization response's `iss`) is this provider's."""
        expected = (await self.discovery()).issuer
        if TENANT_TEMPLATE not in expected:
            return issuer == expected
        prefix, _, suffix = expected.partition(TENANT_TEMPLATE)
        tenant = issuer.removeprefix(prefix).removesuffix(suffix)
        return issuer == f"{prefix}{tenant}{suffix}" and tenant in self.settings.oidc_tenants

    def identity(self, claims: dict[str, Any]) -> ExternalIdentity:
        """The ATTN identity the claims name, by the configured claims and role map."""
        number = claims.get(self.settings.OIDC_SCHOOL_NUMBER_CLAIM)
        if not isinstance(number, str) or not number:
            raise SsoRefused(
                f"the ID token has no {self.settings.OIDC_SCHOOL_NUMBER_CLAIM!r} claim"
            )
        name = claims.get(self.settings.OIDC_NAME_CLAIM) if self.settings.OIDC_NAME_CLAIM else ""
        return ExternalIdentity(
            school_number=number,
            full_name=name.strip() if isinstance(name, str) else "",
            role=self.role(claims),
        )

    def role(self, claims: dict[str, Any]) -> Role | None:
        """The role of the first ROLE_MAP pair whose value the role claim holds, else None."""
        if not self.settings.OIDC_ROLE_CLAIM:
            return None
        held = claims.get(self.settings.OIDC_ROLE_CLAIM)
        values = {held} if isinstance(held, str) else set(held) if isinstance(held, list) else set()
        return next(
            (Role(role) for value, role in self.settings.oidc_role_map if value in values), None
        )


def _has_key(keys: KeySet, kid: object) -> bool:
    if kid is None:
        return len(keys.keys) == 1  # a provider with one key need not name it
    return any(key.kid == kid for key in keys.keys)


def _equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def provider_error(value: object) -> str:
    """A provider's `error` code as safe to log and show (an OAuth error code, or `unknown`)."""
    return value if isinstance(value, str) and _ERROR_CODE.fullmatch(value) else "unknown"


def _code_digest(code: str) -> str:
    return hashlib.sha256(f"attn-oidc-code:{code}".encode()).hexdigest()


async def start(
    ctx: ServiceContext,
    provider: OidcProvider,
    *,
    redirect_uri: str,
    target: str,
    remember: bool,
) -> str:
    """Begin a sign-in: keep its state, nonce and PKCE verifier one-time in Redis for
    STATE_SECONDS; the provider's authorization URL to send the browser to."""
    state, nonce, verifier = generate_token(43), generate_token(43), generate_token(64)
    url = await provider.authorization_url(
        state=state, nonce=nonce, verifier=verifier, redirect_uri=redirect_uri
    )
    pending = OidcPending(nonce=nonce, verifier=verifier, target=target, remember=remember)
    await ctx.redis_client.put_sso_state(
        PROVIDER, state, formats.dump_oidc_pending(pending), STATE_SECONDS
    )
    return url


async def finish(
    ctx: ServiceContext,
    provider: OidcProvider,
    *,
    state: str,
    code: str,
    error: str,
    issuer: str,
    redirect_uri: str,
) -> Finished:
    """Check a callback (the module docstring's steps) and return who signed in."""
    stored = await ctx.redis_client.take_sso_state(PROVIDER, state) if state else None
    if stored is None:
        raise SsoRefused("unknown or used state: not a sign-in this server started, or a replay")
    pending = formats.load_oidc_pending(stored)
    if error:
        raise SsoRefused(f"the provider answered error={provider_error(error)}")
    if issuer and not await provider.issued_by(issuer):
        # RFC 9207: the answer names the provider that sent it (a mix-up attack's answer
        # comes from another one)
        raise SsoRefused(f"the answer is from the issuer {issuer[:100]!r}, not this provider")
    if not code:
        raise SsoRefused("the callback has no code")
    if not await ctx.redis_client.first_sight(PROVIDER, _code_digest(code), CODE_SEEN_SECONDS):
        raise SsoRefused("the authorization code was used before")
    id_token = await provider.redeem(
        code=code, verifier=pending.verifier, redirect_uri=redirect_uri
    )
    claims = await provider.checked_claims(id_token, nonce=pending.nonce, now=ctx.now())
    return Finished(
        identity=provider.identity(claims), target=pending.target, remember=pending.remember
    )
