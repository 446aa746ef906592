"""Settings of the service, read once from `ATTN_*` environment variables.

Every value is validated when the settings are built, so a bad value stops the process at
start-up with a one-line reason instead of failing on the first request. The files the
embedded defaults keep under `ATTN_DATA_DIR` (the secret key, the SQLite database with its
password hashes, the embedded Valkey's data) are its owner's alone: `private_directory` and
`write_private_file` make them so. Imports nothing from the rest of the package.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PositiveSeconds = Annotated[int, Field(ge=1, le=10 * 365 * 24 * 3600)]
# A DNS name or an IPv4/IPv6 address, as a Host header names it (without the port)
_HOST_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|[0-9A-Fa-f:.]+")
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_ROLES = ("teacher", "student", "admin")


CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")


def is_cluster_url(url: str) -> bool:
    return urlsplit(url).scheme in CLUSTER_SCHEMES


def cluster_nodes(url: str) -> list[tuple[str, int]]:
    """The `host:port` pairs of a `redis+cluster://[user:password@]host:port[,host:port...]`
    URL: the nodes the client first asks for the cluster's layout."""
    netloc = urlsplit(url).netloc.rpartition("@")[2]
    nodes = []
    for item in netloc.split(","):
        host, _, port = item.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"{item!r} is not host:port")
        nodes.append((host.strip("[]"), int(port)))
    return nodes


def check_cluster_url(url: str) -> None:
    """Raise ValueError unless `url` is a cluster URL this client can use."""
    parts = urlsplit(url)
    if parts.path not in ("", "/", "/0"):
        raise ValueError("a cluster has one database: no /DB in a redis+cluster:// URL")
    if parts.query:
        raise ValueError("a redis+cluster:// URL takes no ?options")
    if not cluster_nodes(url):
        raise ValueError("a redis+cluster:// URL names at least one host:port")


class Settings(BaseSettings):
    """The service's configuration; field names are the design's setting names."""

    model_config = SettingsConfigDict(
        env_prefix="ATTN_",
        case_sensitive=False,
        extra="ignore",
        frozen=True,
    )

    DATABASE_URL: str | None = None
    REDIS_URL: str | None = None
    DATA_DIR: Path = Path("./attn-data")
    HOST: str = "127.0.0.1"
    PORT: Annotated[int, Field(ge=0, le=65535)] = 8000
    WORKERS: Annotated[int, Field(ge=1, le=64)] = 1

    TEACHER_SESSION_TTL_SECONDS: PositiveSeconds = 3600
    STUDENT_SESSION_TTL_SECONDS: PositiveSeconds = 600
    ADMIN_SESSION_TTL_SECONDS: PositiveSeconds = 3600
    REFRESH_TTL_DAYS: Annotated[int, Field(ge=1, le=3650)] = 30
    REFRESH_TOKENS_PER_USER: Annotated[int, Field(ge=1, le=1000)] = 10

    SWEEP_INTERVAL_SECONDS: Annotated[float, Field(gt=0, le=24 * 3600)] = 60
    SWEEP_LEASE_SECONDS: Annotated[float, Field(gt=0, le=24 * 3600)] = 30

    # per account and client address; the account-wide ceiling stops a guesser spread over
    # many addresses without letting one address lock the owner out
    LOGIN_MAX_FAILURES: Annotated[int, Field(ge=1, le=10_000)] = 10
    LOGIN_ACCOUNT_MAX_FAILURES: Annotated[int, Field(ge=1, le=1_000_000)] = 100
    LOGIN_FAILURE_WINDOW_SECONDS: PositiveSeconds = 300

    REDIS_MAX_CONNECTIONS: Annotated[int, Field(ge=1, le=10_000)] = 64
    REDIS_POOL_TIMEOUT_SECONDS: Annotated[float, Field(gt=0, le=600)] = 10
    PASSWORD_HASH_THREADS: Annotated[int, Field(ge=1, le=64)] = 2
    MAX_BODY_BYTES: Annotated[int, Field(ge=1024, le=64 * 1024 * 1024)] = 64 * 1024
    # HTTP limits: what one connection may hold of a worker, and for how long
    MAX_HEADER_BYTES: Annotated[int, Field(ge=1024, le=1024 * 1024)] = 32 * 1024
    MAX_HEADER_COUNT: Annotated[int, Field(ge=8, le=1000)] = 100
    HEADER_TIMEOUT_SECONDS: Annotated[float, Field(gt=0, le=600)] = 10
    BODY_TIMEOUT_SECONDS: Annotated[float, Field(gt=0, le=3600)] = 30
    KEEPALIVE_TIMEOUT_SECONDS: Annotated[int, Field(ge=1, le=600)] = 5
    MAX_CONNECTIONS: Annotated[int, Field(ge=2, le=100_000)] = 1000
    MAX_EVENT_STREAMS_PER_USER: Annotated[int, Field(ge=1, le=100)] = 4
    EVENTS_KEEPALIVE_SECONDS: Annotated[float, Field(gt=0, le=600)] = 15
    DB_STATEMENT_TIMEOUT_SECONDS: Annotated[float, Field(gt=0, le=3600)] = 10
    DB_LOCK_TIMEOUT_SECONDS: Annotated[float, Field(gt=0, le=3600)] = 5
    LOG_LEVEL: Literal["debug", "info", "warning", "error"] = "info"
    # json: one JSON object a line; text: for a person; auto: text on a terminal, else json
    LOG_FORMAT: Literal["auto", "json", "text"] = "auto"
    # one log line per request (logger attn.access, at info)
    ACCESS_LOG: bool = True
    # the bearer token /metrics asks for; unset: no /metrics at all (404)
    METRICS_TOKEN: str | None = Field(default=None, min_length=16)
    # `attn worker`'s own /metrics listener (the same token); unset: the worker serves none
    METRICS_HOST: str = "127.0.0.1"
    METRICS_PORT: Annotated[int, Field(ge=1, le=65535)] | None = None
    # the institution's time zone, in which the pages show every time (IANA name)
    TIMEZONE: str | None = None
    TELEMETRY: bool = False

    # Check-in security
    SECRET_KEY: str | None = Field(default=None, min_length=32)
    CODE_ROTATION_SECONDS: Annotated[int, Field(ge=5, le=3600)] = 15
    CODE_MAX_FAILURES: Annotated[int, Field(ge=1, le=1000)] = 5
    CODE_FAILURE_WINDOW_SECONDS: Annotated[int, Field(ge=1, le=24 * 3600)] = 60
    # how long after opening a join link its code still counts, in the browser that opened it
    SCAN_GRACE_SECONDS: Annotated[int, Field(ge=1, le=3600)] = 120
    TRUSTED_PROXIES: str = ""
    PUBLIC_URL: str | None = None
    ALLOWED_HOSTS: str = ""
    VERIFIER_URL: str | None = None
    VERIFIER_SECRET: str | None = Field(default=None, min_length=16)
    VERIFIER_TIMEOUT_SECONDS: Annotated[float, Field(gt=0, le=120)] = 10

    # Single sign-on, whichever provider
    # whether an unknown user an identity provider vouches for gets an account at once
    SSO_CREATE_USERS: bool = False
    # the role of such an account when the provider's claims map to none
    SSO_DEFAULT_ROLE: Literal["student", "teacher"] = "student"
    # false: with a provider configured, the sign-in page offers only single sign-on
    PASSWORD_SIGN_IN: bool = True

    # OIDC single sign-on
    # the provider's issuer URL; discovery is read from <issuer>/.well-known/openid-configuration
    # (empty: OIDC sign-in is off)
    OIDC_ISSUER: str | None = None
    # the client id and secret ATTN is registered with at the provider
    OIDC_CLIENT_ID: str = ""
    OIDC_CLIENT_SECRET: str = ""
    # the name on the sign-in button: "Sign in with <name>"
    OIDC_PROVIDER_NAME: str = Field(default="your university", min_length=1, max_length=60)
    # the scopes asked for (openid is always among them)
    OIDC_SCOPES: str = "openid profile email"
    # the ID token claim that carries the school number, and the one with the person's name
    OIDC_SCHOOL_NUMBER_CLAIM: str = Field(default="preferred_username", min_length=1)
    OIDC_NAME_CLAIM: str = "name"
    # the claim (a string or a list of strings) the role is read from; empty: no role claim
    OIDC_ROLE_CLAIM: str = ""
    # claim value=role pairs, the first pair whose value the claim holds wins
    OIDC_ROLE_MAP: str = "staff=teacher,student=student"
    # the tenant ids allowed when the issuer is a multi-tenant template ({tenantid})
    OIDC_TENANTS: str = ""
    # seconds the provider has to answer each request (discovery, keys, token)
    OIDC_TIMEOUT_SECONDS: Annotated[float, Field(gt=0, le=60)] = 10

    # SAML single sign-on
    # the IdP's metadata: a file path or an http(s) URL; empty: no SAML sign-in
    SAML_IDP_METADATA: str = ""
    # how often the IdP's metadata is read again (a signing certificate rollover needs it)
    SAML_METADATA_REFRESH_SECONDS: PositiveSeconds = 3600
    # the IdP's name on the sign-in page's button: "Sign in with <name>"
    SAML_PROVIDER_NAME: str = Field(default="SSO", min_length=1, max_length=60)
    # the SP's entity id; empty: <public URL>/sso/saml/metadata
    SAML_SP_ENTITY_ID: str = ""
    # the SP's key and certificate (PEM) for signing AuthnRequests; unset: made in the data dir
    SAML_SP_KEY_FILE: Path | None = None
    SAML_SP_CERT_FILE: Path | None = None
    # the attribute (name or FriendlyName, or NameID) that holds the user's school number
    SAML_SCHOOL_NUMBER_ATTRIBUTE: str = Field(default="schacPersonalUniqueCode", min_length=1)
    # take the school number up to its "@" (an eduPersonPrincipalName like 20231234@uni.edu.tr)
    SAML_SCHOOL_NUMBER_STRIP_SCOPE: bool = False
    # the attribute that holds the user's name
    SAML_NAME_ATTRIBUTE: str = Field(default="displayName", min_length=1)
    # the attribute whose values map to a role (ATTN_SAML_ROLE_MAP); unmapped: the default role
    SAML_ROLE_ATTRIBUTE: str = Field(default="eduPersonAffiliation", min_length=1)
    # value=role pairs, the first that the user's values name wins
    SAML_ROLE_MAP: str = "faculty=teacher,staff=teacher,student=student"
    # accept IdP-initiated (unsolicited) responses, which no sign-in here started
    SAML_ALLOW_IDP_INITIATED: bool = False
    # leeway for the IdP's clock in NotBefore / NotOnOrAfter checks
    SAML_CLOCK_SKEW_SECONDS: Annotated[int, Field(ge=0, le=600)] = 60

    # hot path
    # answer the join and GET /auth/me in a lean handler before FastAPI (false: FastAPI only)
    LEAN_ROUTES: bool = True
    # connections per worker, besides the pool, that carry every request's session read and
    # join at once, pipelined (attn.store.lane); 0: none, both go through the pool
    REDIS_LANE_CONNECTIONS: Annotated[int, Field(ge=0, le=64)] = 2
    # A join is acknowledged only once this many replicas have it (Redis WAIT); 0: once the
    # primary has it (replication is asynchronous: a failover may lose the last writes).
    REDIS_WAIT_REPLICAS: Annotated[int, Field(ge=0, le=16)] = 0
    REDIS_WAIT_TIMEOUT_MS: Annotated[int, Field(ge=1, le=60_000)] = 1000

    @field_validator("DATABASE_URL")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        scheme = urlsplit(value).scheme.split("+", 1)[0]
        if scheme not in ("sqlite", "postgresql", "postgres"):
            raise ValueError("must start with sqlite:/// or postgresql://")
        return value

    @field_validator("REDIS_URL")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        scheme = urlsplit(value).scheme
        if scheme in CLUSTER_SCHEMES:
            check_cluster_url(value)
            return value
        if scheme not in ("redis", "rediss", "unix", "redis+sentinel"):
            raise ValueError(
                "must start with redis://, rediss://, unix://, redis+sentinel://, "
                "redis+cluster:// or rediss+cluster://"
            )
        hosts_and_name = value.partition("?")[0].removeprefix("redis+sentinel://")
        if scheme == "redis+sentinel" and not hosts_and_name.partition("/")[2].strip("/"):
            raise ValueError(
                "redis+sentinel:// must name the primary: redis+sentinel://host:port/name"
            )
        return value

    @field_validator("METRICS_TOKEN", "METRICS_PORT", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("TRUSTED_PROXIES")
    @classmethod
    def _check_trusted_proxies(cls, value: str) -> str:
        for item in _split(value):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
        return value

    @field_validator("PUBLIC_URL", "VERIFIER_URL")
    @classmethod
    def _check_http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("ALLOWED_HOSTS")
    @classmethod
    def _check_allowed_hosts(cls, value: str) -> str:
        for item in _split(value):
            pattern = item.removeprefix("*.")
            if item != "*" and (not pattern or not _HOST_NAME.fullmatch(pattern)):
                raise ValueError(f"{item!r} is not a host name, an address, '*.domain' or '*'")
        return value

    @field_validator("TIMEZONE")
    @classmethod
    def _check_timezone(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not is_zone_name(value):
            raise ValueError(f"{value!r} is not an IANA time zone name such as Europe/Istanbul")
        return value

    @field_validator("OIDC_ISSUER")
    @classmethod
    def _check_oidc_issuer(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ValueError("must be an http:// or https:// URL without a query")
        return value.rstrip("/")

    @field_validator("OIDC_ROLE_MAP")
    @classmethod
    def _check_oidc_role_map(cls, value: str) -> str:
        for item in _split(value):
            claim_value, equals, role = item.rpartition("=")
            if not equals or not claim_value.strip() or role.strip() not in _ROLES:
                raise ValueError(f"{item!r} is not <claim value>=teacher|student|admin")
        return value

    @model_validator(mode="after")
    def _check_oidc(self) -> Settings:
        if self.OIDC_ISSUER and not (self.OIDC_CLIENT_ID and self.OIDC_CLIENT_SECRET):
            raise ValueError(
                "ATTN_OIDC_ISSUER needs ATTN_OIDC_CLIENT_ID and ATTN_OIDC_CLIENT_SECRET"
            )
        return self

    @property
    def oidc_role_map(self) -> tuple[tuple[str, str], ...]:
        """`ATTN_OIDC_ROLE_MAP` as (claim value, role) pairs in their order."""
        pairs = (item.rpartition("=") for item in _split(self.OIDC_ROLE_MAP))
        return tuple((value.strip(), role.strip()) for value, _, role in pairs)

    @property
    def oidc_tenants(self) -> frozenset[str]:
        return frozenset(_split(self.OIDC_TENANTS))

    @model_validator(mode="after")
    def _check_verifier(self) -> Settings:
        if self.VERIFIER_URL and not self.VERIFIER_SECRET:
            raise ValueError("ATTN_VERIFIER_URL needs ATTN_VERIFIER_SECRET (16+ characters)")
        # The verifier is told where to answer; that address must not come from a request.
        if self.VERIFIER_URL and not self.PUBLIC_URL:
            raise ValueError(
                "ATTN_VERIFIER_URL needs ATTN_PUBLIC_URL, the address the verifier answers at"
            )
        return self

    @field_validator("SAML_ROLE_MAP")
    @classmethod
    def _check_saml_role_map(cls, value: str) -> str:
        for item in _split(value):
            name, sep, role = item.partition("=")
            if not sep or not name.strip():
                raise ValueError(f"{item!r} is not value=role")
            if role.strip().lower() not in ("teacher", "student", "admin"):
                raise ValueError(f"{role.strip()!r} is not a role (teacher, student, admin)")
        return value

    @model_validator(mode="after")
    def _check_saml(self) -> Settings:
        if (self.SAML_SP_KEY_FILE is None) != (self.SAML_SP_CERT_FILE is None):
            raise ValueError("ATTN_SAML_SP_KEY_FILE and ATTN_SAML_SP_CERT_FILE go together")
        for path in (self.SAML_SP_KEY_FILE, self.SAML_SP_CERT_FILE):
            if path is not None and not path.is_file():
                raise ValueError(f"{path} is not a file")
        source = self.SAML_IDP_METADATA
        if source and not source.startswith(("http://", "https://")) and not Path(source).is_file():
            raise ValueError(f"ATTN_SAML_IDP_METADATA: {source} is neither a URL nor a file")
        return self

    @property
    def saml_role_map(self) -> tuple[tuple[str, str], ...]:
        """`ATTN_SAML_ROLE_MAP` as (IdP value, role) pairs, values lowercased, in its order."""
        pairs = (item.partition("=") for item in _split(self.SAML_ROLE_MAP))
        return tuple((name.strip().lower(), role.strip().lower()) for name, _, role in pairs)

    @model_validator(mode="after")
    def _check_login_limits(self) -> Settings:
        if self.LOGIN_ACCOUNT_MAX_FAILURES < self.LOGIN_MAX_FAILURES:
            raise ValueError(
                "ATTN_LOGIN_ACCOUNT_MAX_FAILURES must be at least ATTN_LOGIN_MAX_FAILURES"
            )
        return self

    @property
    def public_url(self) -> str:
        """The base of every link the service hands out (join links, QR codes, the verifier's
        callback): `ATTN_PUBLIC_URL`, or for a local run the address `attn serve` listens on.
        Never a request's Host header."""
        if self.PUBLIC_URL:
            return self.PUBLIC_URL
        host = f"[{self.HOST}]" if ":" in self.HOST else self.HOST
        return f"http://{host}:{self.PORT}"

    @property
    def https(self) -> bool:
        """Whether users reach the service over https (then HSTS and Secure cookies)."""
        return self.public_url.startswith("https://")

    @property
    def allowed_hosts(self) -> tuple[str, ...]:
        """The Host header values answered (lowercase, no port): `ATTN_ALLOWED_HOSTS`, or the
        public URL's host and the loopback names."""
        listed = _split(self.ALLOWED_HOSTS.lower())
        if listed:
            return tuple(listed)
        public_host = (urlsplit(self.public_url).hostname or "").lower()
        return tuple(dict.fromkeys((public_host, "localhost", "127.0.0.1", "::1")))

    @cached_property
    def trusted_proxies(self) -> tuple[IPNetwork, ...]:
        return tuple(
            ipaddress.ip_network(item, strict=False) for item in _split(self.TRUSTED_PROXIES)
        )

    @cached_property
    def sqlite_path(self) -> Path | None:
        """The file of a SQLite database; None for PostgreSQL (or SQLite in memory)."""
        url = self.async_database_url
        if not url.startswith("sqlite"):
            return None
        path = url.partition(":///")[2]
        return Path(path) if path and path != ":memory:" else None

    @cached_property
    def async_database_url(self) -> str:
        """The database URL with the async driver this service uses for it."""
        if self.DATABASE_URL is None:
            return f"sqlite+aiosqlite:///{(self.DATA_DIR / 'attn.sqlite3').resolve()}"
        return to_async_database_url(self.DATABASE_URL)

    @cached_property
    def timezone_name(self) -> str:
        """The zone the pages show times in: `ATTN_TIMEZONE`, or the server's own zone."""
        return self.TIMEZONE or local_zone_name()

    @cached_property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone_name)

    def session_ttl_seconds(self, role: str) -> int:
        """The session lifetime of a role, the design's TTL-by-role rule."""
        if role == "teacher":
            return self.TEACHER_SESSION_TTL_SECONDS
        if role == "student":
            return self.STUDENT_SESSION_TTL_SECONDS
        return self.ADMIN_SESSION_TTL_SECONDS

    # LTI 1.3: ATTN as a tool inside an LMS (Moodle, Canvas, Brightspace)
    # false: the /lti routes answer 404 (platforms stay registered)
    LTI_ENABLED: bool = True
    # the tool's name as Dynamic Registration gives it to a platform
    LTI_TOOL_NAME: str = Field(default="ATTN", min_length=1, max_length=60)
    # whether a launch by an unknown user creates the account; unset: ATTN_SSO_CREATE_USERS
    LTI_CREATE_USERS: bool | None = None
    # the launch claim naming the ATTN account: "lis" (lis person_sourcedid), "email" (its
    # part before @) or "custom:<name>" (a custom parameter the platform sends)
    LTI_ACCOUNT_CLAIM: str = Field(default="lis", pattern=r"^(lis|email|custom:[A-Za-z0-9_.-]+)$")
    # with the email claim: the domains accepted (comma-separated; empty: any)
    LTI_EMAIL_DOMAINS: str = ""
    # LTI role=ATTN role pairs (the role's last word: Instructor, TeachingAssistant, Learner);
    # a launch with none of them is refused
    LTI_ROLE_MAP: str = "Instructor=teacher,TeachingAssistant=teacher,Learner=student"
    # a retired signing key is still published at /lti/jwks this long
    LTI_KEY_GRACE_SECONDS: Annotated[int, Field(ge=0)] = 7 * 24 * 3600
    # a signing key older than this is replaced at the next use (0: only `attn lti rotate-key`)
    LTI_KEY_MAX_AGE_DAYS: Annotated[int, Field(ge=0)] = 90
    # seconds a platform has to answer each request (keys, tokens, NRPS, AGS, registration)
    LTI_TIMEOUT_SECONDS: Annotated[float, Field(gt=0, le=60)] = 10
    # the first wait before a failed grade passback is tried again (it doubles, up to an hour)
    LTI_GRADE_RETRY_SECONDS: Annotated[int, Field(ge=1, le=3600)] = 60

    @field_validator("LTI_ROLE_MAP")
    @classmethod
    def _check_lti_role_map(cls, value: str) -> str:
        for item in _split(value):
            lti_role, equals, role = item.rpartition("=")
            if not equals or not lti_role.strip() or role.strip() not in ("teacher", "student"):
                raise ValueError(f"{item!r} is not <LTI role>=teacher|student")
        return value

    @property
    def lti_role_map(self) -> dict[str, str]:
        """`ATTN_LTI_ROLE_MAP` as LTI role (its last word) -> ATTN role."""
        pairs = (item.rpartition("=") for item in _split(self.LTI_ROLE_MAP))
        return {key.strip(): role.strip() for key, _, role in pairs}

    @property
    def lti_create_users(self) -> bool:
        return self.SSO_CREATE_USERS if self.LTI_CREATE_USERS is None else self.LTI_CREATE_USERS


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def is_zone_name(name: str) -> bool:
    """Whether `name` is a zone of the IANA database (the system's, else the `tzdata`
    package's)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # unknown, malformed, a folder
        return False
    return True


def local_zone_name() -> str:
    """The IANA name of the server's own zone: `TZ`, else what `/etc/localtime` links to,
    else `/etc/timezone`; `UTC` when none of them names one."""
    candidates = [os.environ.get("TZ", "").removeprefix(":")]
    with contextlib.suppress(OSError):
        target = str(Path("/etc/localtime").resolve())
        if "/zoneinfo/" in target:
            candidates.append(target.split("/zoneinfo/", 1)[1])
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text().strip())
    return next((name for name in candidates if name and is_zone_name(name)), "UTC")


def to_async_database_url(url: str) -> str:
    """Pick the async driver for a `sqlite:///` or `postgresql://` URL."""
    scheme, _, rest = url.partition("://")
    base = scheme.split("+", 1)[0]
    if base == "sqlite":
        return f"sqlite+aiosqlite://{rest}"
    if base in ("postgresql", "postgres"):
        return f"postgresql+asyncpg://{rest}"
    raise ValueError(f"unsupported database URL scheme {scheme!r}")


class ConfigError(Exception):
    """A setting has a value the service cannot run with."""


PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600


def private_directory(path: Path) -> Path:
    """Make `path` (and any missing parents) a directory only its owner may enter."""
    path.mkdir(mode=PRIVATE_DIRECTORY, parents=True, exist_ok=True)
    path.chmod(PRIVATE_DIRECTORY)
    return path


def private_file(path: Path) -> None:
    """Take group's and others' access away from an existing file (one from an older version)."""
    with contextlib.suppress(FileNotFoundError):
        if path.stat().st_mode & 0o077:
            path.chmod(PRIVATE_FILE)


def write_private_file(path: Path, text: str, *, replace: bool) -> bool:
    """Write `text` to `path` as a file only its owner may read, created so from the start:
    a new file (mode 0600) is written whole, then put in place. With `replace` it replaces
    what is there; without, the first writer wins (False when `path` existed already)."""
    candidate = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        if replace:
            os.replace(candidate, path)
            return True
        try:
            os.link(candidate, path)  # atomic, and refused when another writer was first
        except FileExistsError:
            return False
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()


def secret_key(settings: Settings) -> bytes:
    """The server's secret: `ATTN_SECRET_KEY`, or one kept in `ATTN_DATA_DIR/secret-key`.

    Every process of one deployment must share it (it derives lesson codes), so the file is
    created once and read by all; a deployment of several hosts sets `ATTN_SECRET_KEY`.
    """
    if settings.SECRET_KEY:
        return settings.SECRET_KEY.encode()
    path = settings.DATA_DIR / "secret-key"
    if not path.exists():
        private_directory(settings.DATA_DIR)
        write_private_file(path, secrets.token_hex(32), replace=False)
    private_file(path)
    return path.read_text().strip().encode()


def load_settings() -> Settings:
    """Build the settings from the environment, or raise ConfigError with a one-line reason."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            message = re.sub(r"^Value error, ", "", error["msg"])
            if error["loc"]:
                name = "ATTN_" + ".".join(str(part) for part in error["loc"])
                message = f"{name}: {message}"
            problems.append(message)
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from None
