"""LTI 1.3 (LTI Advantage), the protocol: ATTN as a tool that learning platforms (Moodle,
Canvas, Brightspace) launch. The checks of the ID token are PyLTI1p3's (`pylti1p3next`, the
maintained fork), run off the event loop since its HTTP client blocks; what it leaves out is
checked here: the state and nonce are this server's own, each used once, `exp` and `iat`
are required, and `azp` must be ATTN's client id when there is one or `aud` lists others.

- **Login initiation** (`start_login`): the platform's third-party login request names its
  issuer (and client id); ATTN keeps a fresh state and nonce in Redis (`put_sso_state`)
  and sends the browser to the platform's authorization endpoint.
- **Launch** (`check_launch`): the platform posts the signed ID token and the state back;
  the state is taken once, the token is checked against the platform's JWKS, its issuer,
  audience, expiry, nonce (once, `first_sight`) and deployment (one registered for it).
- **The tool's keys**: RSA keys in SQL; the newest signs the service token requests, and a
  replaced key is still published at `/lti/jwks` for `ATTN_LTI_KEY_GRACE_SECONDS`.
- **Services** (`ServiceClient`): the OAuth 2 client-credentials token (a JWT signed by the
  tool's key), Names and Role Provisioning (every page, following `Link: rel="next"`) and
  Assignment and Grade Services (line items, scores).
- **Dynamic Registration** (`register`): the platform's OpenID configuration read, the tool
  registered, the platform stored.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import secrets
import time
import typing as t
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

import httpx
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK  # type: ignore[import-untyped]
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.deployment import Deployment
from pylti1p3.exception import LtiException, LtiServiceException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem
from pylti1p3.message_launch import MessageLaunch
from pylti1p3.names_roles import NamesRolesProvisioningService
from pylti1p3.registration import Registration
from pylti1p3.request import Request as LtiRequest
from pylti1p3.service_connector import ServiceConnector
from pylti1p3.tool_config.abstract import ToolConfAbstract

from attn.db import lti as lti_db
from attn.db.tables import LtiPlatformRow
from attn.errors import LtiPlatformFailed, LtiRegistrationFailed, LtiStateNotKept, SsoRefused
from attn.services.context import ServiceContext

log = logging.getLogger("attn.lti")

PROVIDER = "lti"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
AGS_SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
)
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"

LOGIN_PATH = "/lti/login"
LAUNCH_PATH = "/lti/launch"
JWKS_PATH = "/lti/jwks"
# a started login waits this long for the platform's launch
STATE_SECONDS = 600
# a nonce is remembered longer than any ID token carrying it is valid
NONCE_SECONDS = 3600
# the clock difference allowed between a platform and ATTN
LEEWAY_SECONDS = 60


# --- platforms -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Platform:
    id: int
    issuer: str
    client_id: str
    name: str
    auth_login_url: str
    auth_token_url: str
    auth_audience: str | None
    keyset_url: str
    deployment_ids: tuple[str, ...]
    frame_origins: tuple[str, ...] = ()

    @classmethod
    def of(cls, row: LtiPlatformRow) -> Platform:
        return cls(
            id=row.id,
            issuer=row.issuer,
            client_id=row.client_id,
            name=row.name,
            auth_login_url=row.auth_login_url,
            auth_token_url=row.auth_token_url,
            auth_audience=row.auth_audience,
            keyset_url=row.keyset_url,
            deployment_ids=tuple(lti_db.deployments_of(row)),
            frame_origins=tuple(lti_db.frame_origins_of(row)),
        )

    @property
    def origins(self) -> frozenset[str]:
        """The origins the platform's pages are served from: the issuer's, and the others
        an administrator named or its launches' signed return URLs showed."""
        return frozenset({origin_of(self.issuer), *self.frame_origins})


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _checked_url(name: str, value: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc or len(value) > 1000:
        raise ValueError(f"{name} must be an http(s) URL of at most 1000 characters")
    return value


async def add_platform(
    ctx: ServiceContext,
    *,
    issuer: str,
    client_id: str,
    auth_login_url: str,
    auth_token_url: str,
    keyset_url: str,
    deployment_ids: Sequence[str],
    name: str = "",
    auth_audience: str | None = None,
    frame_origins: Sequence[str] = (),
) -> Platform:
    """Register a platform (or add deployments to one registered before). ValueError names
    the field that is not what it should be."""
    origins = [origin_of(_checked_url("an origin of its pages", item)) for item in frame_origins]
    issuer = issuer.strip()
    if not issuer or len(issuer) > 255:
        raise ValueError("the issuer must be 1 to 255 characters")
    client_id = client_id.strip()
    if not client_id or len(client_id) > 255:
        raise ValueError("the client id must be 1 to 255 characters")
    deployments = [item.strip() for item in deployment_ids if item.strip()]
    if not deployments or any(len(item) > 255 for item in deployments):
        raise ValueError("at least one deployment id (each at most 255 characters) is needed")
    async with ctx.db() as session, session.begin():
        row = await lti_db.add_platform(
            session=session,
            issuer=issuer,
            client_id=client_id,
            name=(name.strip() or urlsplit(issuer).netloc or issuer)[:200],
            auth_login_url=_checked_url("the authentication request URL", auth_login_url),
            auth_token_url=_checked_url("the access token URL", auth_token_url),
            auth_audience=auth_audience or None,
            keyset_url=_checked_url("the public keyset URL", keyset_url),
            deployment_ids=deployments,
            frame_origins=origins,
            now=ctx.now(),
        )
        platform = Platform.of(row)
    log.info("lti: platform %s (%s, client %s) registered", platform.id, issuer, client_id)
    return platform


async def list_platforms(ctx: ServiceContext) -> list[Platform]:
    async with ctx.db() as session:
        return [Platform.of(row) for row in await lti_db.list_platforms(session=session)]


async def get_platform(ctx: ServiceContext, platform_id: int) -> Platform | None:
    async with ctx.db() as session:
        row = await lti_db.get_platform(session=session, platform_id=platform_id)
        return None if row is None else Platform.of(row)


async def remove_platform(ctx: ServiceContext, platform_id: int) -> bool:
    async with ctx.db() as session, session.begin():
        return await lti_db.remove_platform(session=session, platform_id=platform_id)


async def platform_origins(ctx: ServiceContext) -> frozenset[str]:
    """The origins allowed to frame the LTI pages: every registered platform's."""
    return frozenset().union(*(platform.origins for platform in await list_platforms(ctx)))


async def learn_frame_origin(ctx: ServiceContext, platform: Platform, url: str) -> None:
    """The origin of a checked launch's return URL (a signed claim: the page the launch came
    from, such as a Canvas school's own domain) becomes one the platform may frame ATTN
    from."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc or len(url) > 2000:
        return
    origin = origin_of(url)
    if origin in platform.origins:
        return
    async with ctx.db() as session, session.begin():
        if await lti_db.add_frame_origin(session=session, platform_id=platform.id, origin=origin):
            log.info("lti: platform %s frames ATTN from %s too", platform.id, origin)


# --- the tool's keys -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ToolKey:
    kid: str
    private_pem: str
    created_at: datetime


def _new_key() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return secrets.token_urlsafe(12), pem


async def rotate_key(ctx: ServiceContext) -> str:
    """A new signing key; the one before is still published for the grace period."""
    kid, pem = await asyncio.to_thread(_new_key)
    async with ctx.db() as session, session.begin():
        await lti_db.add_tool_key(session=session, kid=kid, private_pem=pem, now=ctx.now())
    log.info("lti: new signing key %s", kid)
    return kid


async def signing_key(ctx: ServiceContext) -> ToolKey:
    """The key that signs now: the newest unretired one, made (or replaced when older than
    `ATTN_LTI_KEY_MAX_AGE_DAYS`) on the way."""
    async with ctx.db() as session:
        rows = await lti_db.tool_keys(session=session)
    active = next((row for row in rows if row.retired_at is None), None)
    max_age = ctx.settings.LTI_KEY_MAX_AGE_DAYS
    too_old = (
        active is not None
        and max_age > 0
        and active.created_at < ctx.now() - timedelta(days=max_age)
    )
    if active is None or too_old:
        await rotate_key(ctx)
        return await signing_key(ctx)
    return ToolKey(active.kid, active.private_pem, active.created_at)


def public_jwk(key: ToolKey) -> dict[str, t.Any]:
    jwk = JWK.from_pem(key.private_pem.encode())
    public: dict[str, t.Any] = json.loads(jwk.export_public())
    public.update({"kid": key.kid, "alg": "RS256", "use": "sig"})
    return public


async def published_keys(ctx: ServiceContext) -> dict[str, list[dict[str, t.Any]]]:
    """The tool's JWKS: the signing key and the ones retired less than the grace ago (older
    ones are deleted here)."""
    await signing_key(ctx)
    grace_start = ctx.now() - timedelta(seconds=ctx.settings.LTI_KEY_GRACE_SECONDS)
    async with ctx.db() as session, session.begin():
        await lti_db.drop_tool_keys_retired_before(session=session, before=grace_start)
        rows = await lti_db.tool_keys(session=session)
    keys = [ToolKey(row.kid, row.private_pem, row.created_at) for row in rows]
    return {"keys": [public_jwk(key) for key in keys]}


# --- PyLTI1p3's adapters ---------------------------------------------------------------------


class _TimedSession(requests.Session):
    """A requests session whose every request is bounded by `ATTN_LTI_TIMEOUT_SECONDS`."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout
        self.headers["User-Agent"] = "ATTN-LTI/1.0"

    def request(  # type: ignore[override]
        self, method: str, url: str, *args: t.Any, **kwargs: t.Any
    ) -> t.Any:
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


class _FormRequest(LtiRequest):
    """The launch's form fields, as PyLTI1p3 reads a request."""

    def __init__(self, form: Mapping[str, str], secure: bool) -> None:
        self._form = form
        self._secure = secure

    @property
    def session(self) -> None:
        return None

    def is_secure(self) -> bool:
        return self._secure

    def get_param(self, key: str) -> str:
        return self._form.get(key, "")


class _CheckedState:
    """PyLTI1p3's session service: the state was checked (and used up) by ATTN before the
    launch is validated, and the nonce must be the one kept with it."""

    def __init__(self, nonce: str) -> None:
        self._nonce = nonce

    def check_state_is_valid(self, state: str, id_token_hash: str) -> bool:
        return True

    def check_nonce(self, nonce: str) -> bool:
        return secrets.compare_digest(nonce, self._nonce)

    def save_launch_data(self, key: str, jwt_body: t.Any) -> None:
        return None

    def set_state_valid(self, state: str, id_token_hash: str) -> None:
        return None


class _NoCookies:
    def get_cookie(self, name: str) -> None:
        return None

    def set_cookie(self, *args: t.Any, **kwargs: t.Any) -> None:
        return None


class _ToolRegistration(Registration):
    """A registration whose token requests name the tool's signing key by its kid."""

    kid: str | None = None

    def get_kid(self) -> str | None:
        return self.kid


def _registration(platform: Platform, key: ToolKey | None = None) -> _ToolRegistration:
    registration = _ToolRegistration()
    (
        registration.set_issuer(platform.issuer)
        .set_client_id(platform.client_id)
        .set_auth_login_url(platform.auth_login_url)
        .set_auth_token_url(platform.auth_token_url)
        .set_key_set_url(platform.keyset_url)
    )
    if platform.auth_audience:
        registration.set_auth_audience(platform.auth_audience)
    if key is not None:
        registration.set_tool_private_key(key.private_pem)
        registration.kid = key.kid
    return registration


class _PlatformConf(ToolConfAbstract[_FormRequest]):
    """The one platform a launch's state was started for: any other issuer, client id or
    deployment is not found."""

    def __init__(self, platform: Platform, keys: dict[str, t.Any] | None = None) -> None:
        self._platform = platform
        self._keys = keys
        self.issuers_relation_types = {}
        self.set_iss_has_many_clients(platform.issuer)

    def find_registration_by_issuer(self, iss: str, *args: t.Any, **kwargs: t.Any) -> t.Any:
        return None

    def find_registration_by_params(
        self, iss: str, client_id: str, *args: t.Any, **kwargs: t.Any
    ) -> t.Any:
        if iss != self._platform.issuer or client_id != self._platform.client_id:
            return None
        registration = _registration(self._platform)
        if self._keys is not None:
            registration.set_key_set(t.cast(t.Any, self._keys))
        return registration

    def find_deployment(self, iss: str, deployment_id: str) -> None:
        return None

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: t.Any, **kwargs: t.Any
    ) -> t.Any:
        if (
            iss != self._platform.issuer
            or client_id != self._platform.client_id
            or deployment_id not in self._platform.deployment_ids
        ):
            return None
        return Deployment().set_deployment_id(deployment_id)


class _Launch(MessageLaunch[t.Any, t.Any, t.Any, t.Any]):
    def __init__(
        self,
        form: Mapping[str, str],
        platform: Platform,
        nonce: str,
        timeout: float,
        keys: dict[str, t.Any] | None = None,
    ):
        super().__init__(
            _FormRequest(form, secure=True),
            _PlatformConf(platform, keys),
            session_service=_CheckedState(nonce),
            cookie_service=_NoCookies(),
            requests_session=_TimedSession(timeout),
        )
        # `exp` and `iat` must be there; their times (and `nbf`'s) are checked by
        # `_check_claims` with the leeway a platform's clock needs (PyJWT here has none)
        self.set_jwt_verify_options(
            {
                "verify_aud": False,
                "require": ["exp", "iat"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            }
        )

    def _get_request_param(self, key: str) -> str:
        value: str = self._request.get_param(key)
        return value

    def get_client_id(self) -> str:
        """The token's client: `aud` when it is one, else the registered client among its
        values (the first one need not be ATTN's); `validate_registration` compares it."""
        aud = self._get_jwt_body().get("aud")
        client_id = _registered_client(self._tool_config)
        if isinstance(aud, list):
            return client_id if client_id in aud else str(aud[0] if aud else "")
        return str(aud or "")


def _registered_client(conf: _PlatformConf) -> str:
    return conf._platform.client_id


# --- login initiation ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoginStart:
    url: str  # the platform's authorization endpoint with the request
    state: str  # also kept in the browser (a cookie), when it keeps one


@dataclass(frozen=True, slots=True)
class StoredLogin:
    """What a started login keeps until its launch."""

    platform_id: int
    nonce: str
    params: dict[str, str]  # the login request's, for a restart in a new tab

    def dump(self) -> str:
        return json.dumps({"p": self.platform_id, "n": self.nonce, "q": self.params})

    @classmethod
    def load(cls, raw: str) -> StoredLogin:
        value = json.loads(raw)
        return cls(int(value["p"]), str(value["n"]), {k: str(v) for k, v in value["q"].items()})


LOGIN_PARAMS = (
    "iss",
    "login_hint",
    "target_link_uri",
    "lti_message_hint",
    "client_id",
    "lti_deployment_id",
    "deployment_id",
    "lti_storage_target",
)


async def start_login(
    ctx: ServiceContext, params: Mapping[str, str], *, redirect_uri: str
) -> LoginStart:
    """The platform's login initiation: its issuer (and client id, when it gives one) must be
    registered, `login_hint` present and `target_link_uri` on this service. SsoRefused else."""
    issuer = params.get("iss", "")
    login_hint = params.get("login_hint", "")
    target = params.get("target_link_uri", "")
    if not issuer or not login_hint or not target:
        raise SsoRefused("the login request needs iss, login_hint and target_link_uri")
    if origin_of(target) != origin_of(redirect_uri):
        raise SsoRefused(f"target_link_uri {target[:100]!r} is not on this service")
    async with ctx.db() as session:
        rows = await lti_db.platforms_of_issuer(session=session, issuer=issuer)
    client_id = params.get("client_id", "")
    candidates = [row for row in rows if not client_id or row.client_id == client_id]
    if len(candidates) != 1:
        raise SsoRefused(
            f"no single platform is registered for issuer {issuer[:100]!r}"
            + (f" and client {client_id[:60]!r}" if client_id else "")
        )
    platform = Platform.of(candidates[0])
    # the specification's `lti_deployment_id`; Canvas sends it as `deployment_id`
    deployment = params.get("lti_deployment_id") or params.get("deployment_id", "")
    if deployment and deployment not in platform.deployment_ids:
        raise SsoRefused(f"deployment {deployment[:60]!r} is not registered for this platform")
    state = secrets.token_urlsafe(24)
    nonce = secrets.token_urlsafe(24)
    kept = {name: params[name][:2000] for name in LOGIN_PARAMS if params.get(name)}
    await ctx.redis_client.put_sso_state(
        PROVIDER, state, StoredLogin(platform.id, nonce, kept).dump(), STATE_SECONDS
    )
    query = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": redirect_uri,
        "login_hint": login_hint,
        "state": state,
        "nonce": nonce,
    }
    if params.get("lti_message_hint"):
        query["lti_message_hint"] = params["lti_message_hint"]
    separator = "&" if "?" in platform.auth_login_url else "?"
    return LoginStart(f"{platform.auth_login_url}{separator}{urlencode(query)}", state)


# --- the launch ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckedLaunch:
    platform: Platform
    claims: dict[str, t.Any] = field(repr=False)

    def claim(self, name: str, default: t.Any = None) -> t.Any:
        return self.claims.get(CLAIM + name, default)


async def check_launch(
    ctx: ServiceContext, form: Mapping[str, str], *, state_cookie: str | None
) -> CheckedLaunch:
    """The launch's ID token, fully checked; SsoRefused with the failed check otherwise
    (LtiStateNotKept when only the browser's cookie is missing)."""
    if form.get("error"):
        raise SsoRefused(f"the platform answered {form['error'][:60]!r}")
    state = form.get("state", "")
    if not state or not form.get("id_token"):
        raise SsoRefused("the launch has no state or no id_token")
    raw = await ctx.redis_client.take_sso_state(PROVIDER, state)
    if raw is None:
        raise SsoRefused("the launch's state is unknown, expired or used already")
    stored = StoredLogin.load(raw)
    if state_cookie is None:
        raise LtiStateNotKept(stored.params)
    if not secrets.compare_digest(state_cookie, state):
        raise SsoRefused("the launch's state is not the one this browser started")
    platform = await get_platform(ctx, stored.platform_id)
    if platform is None:
        raise SsoRefused("the platform of this login was removed")
    keys = await platform_keys(ctx, platform, kid=_header_kid(form.get("id_token", "")))
    launch = _Launch(form, platform, stored.nonce, ctx.settings.LTI_TIMEOUT_SECONDS, keys)
    try:
        claims: dict[str, t.Any] = dict(await asyncio.to_thread(launch.get_launch_data))
    except LtiException as exc:
        raise SsoRefused(f"the ID token is refused: {_first_line(exc)}") from None
    except requests.RequestException as exc:
        raise SsoRefused(f"the platform's keys cannot be read: {_first_line(exc)}") from None
    _check_claims(platform, claims)
    if not await ctx.redis_client.first_sight(
        PROVIDER + "-nonce", f"{platform.id}:{claims['nonce']}", NONCE_SECONDS
    ):
        raise SsoRefused("the ID token's nonce was used already")
    return CheckedLaunch(platform, claims)


# --- the platforms' keys ---------------------------------------------------------------------

# a platform's JWKS is kept this long (in Redis, for every worker), and fetched again for an
# unknown kid at most this often: a lecture's launches cost the platform one request, and
# forged kids cannot make ATTN hammer it
KEYS_SECONDS = 600
KEYS_REFETCH_SECONDS = 60


def _header_kid(token: str) -> str | None:
    try:
        header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    except (ValueError, IndexError):
        return None
    kid = header.get("kid") if isinstance(header, dict) else None
    return str(kid) if kid else None


def _kids(keys: dict[str, t.Any]) -> set[str]:
    return {str(key.get("kid")) for key in keys.get("keys", []) if isinstance(key, dict)}


async def platform_keys(
    ctx: ServiceContext, platform: Platform, *, kid: str | None
) -> dict[str, t.Any] | None:
    """The platform's JWKS from its keyset URL, kept `KEYS_SECONDS` and fetched again sooner
    when a token names a kid it lacks (at most every `KEYS_REFETCH_SECONDS`); None when it
    cannot be had (PyLTI1p3 then fetches it itself, and refuses the launch when that fails
    too)."""
    url = platform.keyset_url
    raw = await ctx.redis_client.lti_keyset(url)
    cached: dict[str, t.Any] | None = None
    if raw is not None:
        with contextlib.suppress(ValueError):
            cached = json.loads(raw)
    if cached is not None and (kid is None or kid in _kids(cached)):
        return cached
    if cached is not None and not await ctx.redis_client.first_sight(
        PROVIDER + "-keys", url, KEYS_REFETCH_SECONDS
    ):
        return cached  # fetched again a moment ago: the kid is not the platform's
    try:
        async with httpx.AsyncClient(timeout=ctx.settings.LTI_TIMEOUT_SECONDS) as client:
            answer = await client.get(url, headers={"Accept": "application/json"})
            answer.raise_for_status()
            keys = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("lti: the keys of platform %s cannot be read: %s", platform.id, exc)
        return cached
    if not isinstance(keys, dict) or not isinstance(keys.get("keys"), list):
        return cached
    await ctx.redis_client.put_lti_keyset(url, json.dumps(keys), KEYS_SECONDS)
    return keys


def _check_claims(platform: Platform, claims: Mapping[str, t.Any]) -> None:
    """What PyLTI1p3 leaves to the tool: the issuer exactly, `azp`, the times, the version."""
    if claims.get("iss") != platform.issuer:
        raise SsoRefused("the ID token's issuer is not the platform's")
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if platform.client_id not in audiences:
        raise SsoRefused("the ID token is not for ATTN's client id")
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != platform.client_id:
        raise SsoRefused("the ID token's azp is not ATTN's client id")
    now = time.time()
    if not isinstance(claims.get("exp"), int | float) or claims["exp"] < now - LEEWAY_SECONDS:
        raise SsoRefused("the ID token has expired")
    if not isinstance(claims.get("iat"), int | float) or claims["iat"] > now + LEEWAY_SECONDS:
        raise SsoRefused("the ID token is issued in the future")
    nbf = claims.get("nbf")
    if nbf is not None and (not isinstance(nbf, int | float) or nbf > now + LEEWAY_SECONDS):
        raise SsoRefused("the ID token is not valid yet (nbf)")
    if claims.get(CLAIM + "version") != "1.3.0":
        raise SsoRefused("the launch is not LTI 1.3.0")
    if not claims.get("sub"):
        raise SsoRefused("the launch names no user (an anonymous launch)")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


# --- the platform's services -----------------------------------------------------------------


class _Connector(ServiceConnector):
    """PyLTI1p3's service connector with its access tokens kept for their lifetime."""

    def __init__(self, registration: Registration, session: requests.Session) -> None:
        super().__init__(registration, session)
        self._tokens: dict[str, tuple[str, float]] = {}

    def _get_cached_access_token(self, scope_key: str) -> str | None:
        token, until = self._tokens.get(scope_key, ("", 0.0))
        return token if token and until > time.monotonic() else None

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float) -> None:
        self._tokens[scope_key] = (access_token, time.monotonic() + max(0, expires_in - 30))


@dataclass(frozen=True, slots=True)
class Member:
    user_id: str
    name: str
    email: str
    sourcedid: str
    roles: tuple[str, ...]
    active: bool


def _member(raw: Mapping[str, t.Any]) -> Member:
    name = str(
        raw.get("name")
        or " ".join(str(raw.get(part) or "") for part in ("given_name", "family_name")).strip()
    )
    return Member(
        user_id=str(raw.get("user_id", "")),
        name=name,
        email=str(raw.get("email") or ""),
        sourcedid=str(raw.get("lis_person_sourcedid") or ""),
        roles=tuple(str(role) for role in raw.get("roles") or ()),
        active=str(raw.get("status") or "Active").lower() == "active",
    )


class ServiceClient:
    """One platform's NRPS and AGS, through PyLTI1p3 in worker threads. Every failure is
    LtiPlatformFailed (with the platform's status and words for the log)."""

    def __init__(self, ctx: ServiceContext, platform: Platform, key: ToolKey) -> None:
        registration = _registration(platform, key)
        self._connector = _Connector(registration, _TimedSession(ctx.settings.LTI_TIMEOUT_SECONDS))

    @classmethod
    async def of(cls, ctx: ServiceContext, platform: Platform) -> ServiceClient:
        return cls(ctx, platform, await signing_key(ctx))

    async def _run(self, what: str, call: t.Callable[[], t.Any]) -> t.Any:
        try:
            return await asyncio.to_thread(call)
        except LtiServiceException as exc:
            raise LtiPlatformFailed(f"{what}: the platform answered {_first_line(exc)}") from None
        except (LtiException, requests.RequestException, ValueError, KeyError) as exc:
            raise LtiPlatformFailed(f"{what}: {_first_line(exc)}") from None

    async def members(self, memberships_url: str) -> list[Member]:
        """Every member of the course, over every page the platform splits them into."""
        service = NamesRolesProvisioningService(
            self._connector, {"context_memberships_url": memberships_url}
        )
        raw = await self._run("the course's members", service.get_members)
        return [_member(item) for item in raw if isinstance(item, Mapping)]

    def _ags(self, lineitems_url: str, scopes: Sequence[str]) -> AssignmentsGradesService:
        return AssignmentsGradesService(
            self._connector,
            t.cast(t.Any, {"scope": list(scopes), "lineitems": lineitems_url}),
        )

    async def attendance_line_item(
        self, lineitems_url: str, scopes: Sequence[str], *, resource_id: str, label: str
    ) -> str:
        """The URL of the course's line item of this resource id, created when it has none."""
        wanted = (
            LineItem()
            .set_label(label)
            .set_score_maximum(100)
            .set_resource_id(resource_id)
            .set_tag("attendance")
        )
        service = self._ags(lineitems_url, scopes)
        found = await self._run(
            "the attendance line item",
            lambda: service.find_or_create_lineitem(wanted, find_by="resource_id"),
        )
        url = found.get_id()
        if not url:
            raise LtiPlatformFailed("the platform's line item has no id")
        return str(url)

    async def post_score(
        self,
        lineitem_url: str,
        scopes: Sequence[str],
        *,
        user_id: str,
        percent: int,
        timestamp: datetime,
    ) -> None:
        grade = (
            Grade()
            .set_score_given(percent)
            .set_score_maximum(100)
            .set_timestamp(timestamp.isoformat(timespec="milliseconds"))
            .set_activity_progress("Submitted")
            .set_grading_progress("FullyGraded")
            .set_user_id(user_id)
        )
        service = self._ags("", scopes)
        item = LineItem({"id": lineitem_url})
        await self._run("a score", lambda: service.put_grade(grade, item))


# --- Dynamic Registration --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ToolUrls:
    public_url: str

    @property
    def login(self) -> str:
        return self.public_url + LOGIN_PATH

    @property
    def launch(self) -> str:
        return self.public_url + LAUNCH_PATH

    @property
    def jwks(self) -> str:
        return self.public_url + JWKS_PATH


def tool_registration(urls: ToolUrls, *, name: str) -> dict[str, t.Any]:
    """The tool's registration request (LTI Dynamic Registration, section 3.5)."""
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": urls.login,
        "redirect_uris": [urls.launch],
        "client_name": name,
        "jwks_uri": urls.jwks,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join((NRPS_SCOPE, *AGS_SCOPES)),
        TOOL_CONFIGURATION: {
            "domain": urlsplit(urls.public_url).netloc,
            "target_link_uri": urls.launch,
            "claims": ["iss", "sub", "name", "given_name", "family_name", "email"],
            "messages": [
                {
                    "type": "LtiResourceLinkRequest",
                    "target_link_uri": urls.launch,
                    "label": name,
                    # where Canvas and Moodle put the link: the course's menu
                    "placements": ["course_navigation"],
                }
            ],
            "description": "Live classroom attendance: open a lesson, students check in.",
        },
    }


# the names people know the platforms by, for the codes their configurations give
# (`product_family_code`); another code is shown as it is
PRODUCT_NAMES = {
    "moodle": "Moodle",
    "canvas": "Canvas",
    "desire2learn": "Brightspace",
    "sakai": "Sakai",
    "blackboard": "Blackboard",
    "schoology": "Schoology",
}


async def register(
    ctx: ServiceContext, *, openid_configuration: str, registration_token: str, urls: ToolUrls
) -> Platform:
    """LTI Dynamic Registration: read the platform's configuration (its issuer must be on
    the configuration URL's host), register the tool at its registration endpoint, store
    the platform with the client id and deployment it gives. LtiRegistrationFailed else."""
    url = openid_configuration.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise LtiRegistrationFailed("openid_configuration is not an http(s) URL")
    auth = {"Authorization": f"Bearer {registration_token}"} if registration_token else {}
    timeout = ctx.settings.LTI_TIMEOUT_SECONDS
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
        try:
            answer = await client.get(url, headers={**auth, "Accept": "application/json"})
            answer.raise_for_status()
            config = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise LtiRegistrationFailed(f"the configuration cannot be read: {exc}") from None
        if not isinstance(config, dict):
            raise LtiRegistrationFailed("the configuration is not a JSON object")
        issuer = str(config.get("issuer") or "")
        if not issuer or urlsplit(issuer).netloc.lower() != parts.netloc.lower():
            raise LtiRegistrationFailed("the configuration's issuer is not on its own host")
        needed = ("authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint")
        missing = [name for name in needed if not isinstance(config.get(name), str)]
        if missing:
            raise LtiRegistrationFailed(f"the configuration has no {', '.join(missing)}")
        platform_config = config.get(PLATFORM_CONFIGURATION) or {}
        product = (
            str(platform_config.get("product_family_code") or "")
            if isinstance(platform_config, dict)
            else ""
        )
        try:
            registered = await client.post(
                config["registration_endpoint"],
                json=tool_registration(urls, name=ctx.settings.LTI_TOOL_NAME),
                headers={**auth, "Accept": "application/json"},
            )
            registered.raise_for_status()
            client_config = registered.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise LtiRegistrationFailed(f"the registration is refused: {exc}") from None
    if not isinstance(client_config, dict) or not client_config.get("client_id"):
        raise LtiRegistrationFailed("the platform's answer has no client_id")
    tool_config = client_config.get(TOOL_CONFIGURATION) or {}
    deployment = (
        str(tool_config.get("deployment_id") or "") if isinstance(tool_config, dict) else ""
    )
    if not deployment:
        raise LtiRegistrationFailed("the platform's answer has no deployment_id")
    try:
        return await add_platform(
            ctx,
            issuer=issuer,
            client_id=str(client_config["client_id"]),
            auth_login_url=config["authorization_endpoint"],
            auth_token_url=config["token_endpoint"],
            keyset_url=config["jwks_uri"],
            deployment_ids=[deployment],
            name=PRODUCT_NAMES.get(product.lower(), product) or parts.netloc,
            auth_audience=config.get("authorization_server") or None,
        )
    except ValueError as exc:
        raise LtiRegistrationFailed(str(exc)) from None


# --- registration URLs -----------------------------------------------------------------------

REGISTER_PATH = "/lti/register"
REGISTRATION_KEY_SECONDS = 24 * 3600


async def new_registration_url(ctx: ServiceContext) -> str:
    """A Dynamic Registration URL with a one-time key: only a platform an administrator
    pasted it into can register itself (a registered platform vouches for its users)."""
    key = secrets.token_urlsafe(24)
    await ctx.redis_client.put_sso_state(PROVIDER + "-register", key, "1", REGISTRATION_KEY_SECONDS)
    return f"{ctx.settings.public_url}{REGISTER_PATH}?{urlencode({'key': key})}"


async def take_registration_key(ctx: ServiceContext, key: str) -> bool:
    """Whether `key` is a registration URL's key not used yet; it is used up here."""
    if not key:
        return False
    return await ctx.redis_client.take_sso_state(PROVIDER + "-register", key) is not None


async def give_back_registration_key(ctx: ServiceContext, key: str) -> None:
    """A registration that failed keeps its URL usable for another try."""
    await ctx.redis_client.put_sso_state(PROVIDER + "-register", key, "1", REGISTRATION_KEY_SECONDS)
