"""SAML 2.0 sign-in, the service provider's side: its metadata, the AuthnRequest that starts
a sign-in, and the checks that turn an IdP's Response into an `ExternalIdentity`.

pysaml2 does the protocol and calls Debian's `xmlsec1` binary to sign and verify (a
subprocess: every pysaml2 call runs in a thread, off the event loop). Its XML parsing is
defusedxml's, so entity declarations (XML bombs) are refused before anything is read. On top
of what pysaml2 checks (the assertion's signature against a certificate of the IdP's metadata,
its audience, its NotBefore / NotOnOrAfter with `ATTN_SAML_CLOCK_SKEW_SECONDS` of leeway, the
Response's Destination and status) this module checks what pysaml2 leaves to its caller: the
assertion's issuer is the IdP, every bearer confirmation names this service's ACS as its
Recipient and the request this server issued as its InResponseTo, and the assertion bounds
its own lifetime, so `sign_in` can remember its id (refusing a replay) until it expires. The
identity is read from the verified assertion only (its NameID and attributes, mapped by the
`ATTN_SAML_*` settings), never from the unsigned Response around it.

The IdP's metadata comes from a file or a URL (`ATTN_SAML_IDP_METADATA`) and is read again
when `ATTN_SAML_METADATA_REFRESH_SECONDS` have passed, so a signing certificate rollover (the
IdP publishes the new certificate beside the old one, then signs with it) needs no restart;
a refresh that fails keeps the metadata read before. Any certificate the metadata lists
verifies. The SP's key pair (for signing AuthnRequests; its certificate is in the SP's
metadata) is `ATTN_SAML_SP_KEY_FILE`/`ATTN_SAML_SP_CERT_FILE`, or one made on first use in
`ATTN_DATA_DIR/saml/`.

One-time state (Redis, through `RedisClient`): a started sign-in's request id, where to go
next and whether to remember the device, under the RelayState sent to the IdP; the handover
from the ACS (a cross-site POST, which carries no cookies) to the same-site page that signs
the browser in, under a one-time ticket. Both are bound to the browser that started the
sign-in by a nonce in its cookie. Imports the stores, models, errors and config.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import logging
import secrets
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from defusedxml import ElementTree

from attn.config import Settings, private_directory, write_private_file
from attn.errors import SsoRefused, SsoUnavailable
from attn.models import ExternalIdentity, Role, SamlHandover, SamlPending
from attn.services import auth
from attn.services.auth import LoginResult
from attn.services.context import ServiceContext
from attn.services.network import IPAddress
from attn.store import formats

with warnings.catch_warnings():
    # pysaml2 names a cipher mode cryptography has moved (a warning at import); ATTN never
    # decrypts with it
    warnings.simplefilter("ignore")
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
    from saml2.client import Saml2Client
    from saml2.config import SPConfig
    from saml2.mdstore import MetadataStore
    from saml2.metadata import entity_descriptor, metadata_tostring_fix
    from saml2.response import AuthnResponse
    from saml2.saml import NAMEID_FORMAT_PERSISTENT, SCM_BEARER

log = logging.getLogger(__name__)
# pysaml2 logs every Response it refuses with a traceback at ERROR, so junk posted to the ACS
# would flood the log; ATTN logs one line per refusal itself (unless the operator set a level)
_PYSAML2_LOG = logging.getLogger("saml2")
if _PYSAML2_LOG.level == logging.NOTSET:
    _PYSAML2_LOG.setLevel(logging.CRITICAL)

PROVIDER = "saml"
TICKETS = "saml-ticket"  # the handovers' provider name in the one-time state
METADATA_PATH = "/sso/saml/metadata"
ACS_PATH = "/sso/saml/acs"
# how long a started sign-in waits for the IdP's answer (the user types a password there)
REQUEST_SECONDS = 600
# how long the ACS's handover to the same-site page lasts (one redirect)
HANDOVER_SECONDS = 60
XMLSEC = "xmlsec1"  # Debian's package of that name; found on PATH
_NAMESPACES = {
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
}
NAME_ID = "NameID"  # as an attribute setting: the assertion's subject NameID


@dataclass(frozen=True, slots=True)
class VerifiedAssertion:
    """What a verified Response says: who, the assertion's id, and until when it is valid."""

    identity: ExternalIdentity
    assertion_id: str
    expires_at: float  # unix time: the earliest NotOnOrAfter of the assertion


@dataclass(frozen=True, slots=True)
class Started:
    """A started sign-in: the IdP's address to send the browser to, and the browser nonce
    its cookie keeps."""

    redirect_url: str
    browser_nonce: str


def sso_origins(settings: Settings) -> tuple[str, ...]:
    """The origins of the IdP's single sign-on endpoints (HTTP-Redirect), read once from its
    metadata when the app is built: the sign-in page's CSP lets its form be redirected there.
    A metadata URL that cannot be read then gives its own origin (most IdPs serve both)."""
    source = settings.SAML_IDP_METADATA
    try:
        if source.startswith(("http://", "https://")):
            text = httpx.get(source, timeout=5, follow_redirects=False).text
        else:
            text = Path(source).read_text(encoding="utf-8")
        root = ElementTree.fromstring(text)
        locations = [
            element.get("Location", "")
            for element in root.iter(f"{{{_NAMESPACES['md']}}}SingleSignOnService")
            if element.get("Binding") == BINDING_HTTP_REDIRECT
        ]
    except Exception as exc:  # the IdP down, or metadata that is no XML: the start says so
        log.warning("SAML: cannot read the IdP's metadata for its origin: %s", exc)
        locations = [source] if source.startswith(("http://", "https://")) else []
    origins = (_origin(location) for location in locations)
    return tuple(dict.fromkeys(origin for origin in origins if origin))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") else ""


def browser_digest(nonce: str) -> str:
    return hashlib.sha256(f"attn-saml-browser:{nonce}".encode()).hexdigest()


class ServiceProvider:
    """ATTN as a SAML service provider for one IdP: pysaml2's client, rebuilt whenever the
    IdP's metadata is read again."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        base = settings.public_url
        self.entity_id = settings.SAML_SP_ENTITY_ID or f"{base}{METADATA_PATH}"
        self.acs_url = f"{base}{ACS_PATH}"
        self._lock = asyncio.Lock()
        self._client: Saml2Client | None = None
        self._idp_entity_id = ""
        self._idp_metadata = ""
        self._read_at = -float("inf")
        self._sp_metadata: str | None = None

    # -- keys and metadata ------------------------------------------------------------

    def key_pair(self) -> tuple[Path, Path]:
        """The SP's key and certificate files: the configured ones, or a pair made once in
        the data dir (the first process to make it wins; the others read it)."""
        settings = self.settings
        if settings.SAML_SP_KEY_FILE and settings.SAML_SP_CERT_FILE:
            return settings.SAML_SP_KEY_FILE, settings.SAML_SP_CERT_FILE
        directory = private_directory(settings.DATA_DIR / "saml")
        key_file, cert_file = directory / "sp-key.pem", directory / "sp-cert.pem"
        if not (key_file.exists() and cert_file.exists()):
            key_pem, cert_pem = _self_signed(self.entity_id)
            bundle = directory / "sp-pair.pem"
            write_private_file(bundle, key_pem + cert_pem, replace=False)
            text = bundle.read_text()
            split = text.index("-----BEGIN CERTIFICATE-----")
            write_private_file(key_file, text[:split], replace=False)
            write_private_file(cert_file, text[split:], replace=False)
        return key_file, cert_file

    async def _read_idp_metadata(self) -> str:
        source = self.settings.SAML_IDP_METADATA
        if source.startswith(("http://", "https://")):
            async with httpx.AsyncClient(timeout=10, follow_redirects=False) as http:
                answer = await http.get(source)
                answer.raise_for_status()
                return answer.text
        return await asyncio.to_thread(Path(source).read_text, encoding="utf-8")

    async def client(self) -> Saml2Client:
        """pysaml2's client with the IdP's metadata as last read; read again (and the client
        rebuilt) when the refresh interval has passed. A refresh that fails keeps the old."""
        interval = self.settings.SAML_METADATA_REFRESH_SECONDS
        if self._client is not None and time.monotonic() - self._read_at < interval:
            return self._client
        async with self._lock:
            if self._client is not None and time.monotonic() - self._read_at < interval:
                return self._client
            try:
                text = await self._read_idp_metadata()
                if self._client is None or text != self._idp_metadata:
                    self._client, self._idp_entity_id = await asyncio.to_thread(
                        self._build_client, text
                    )
                    self._idp_metadata = text
            except Exception as exc:  # a file or server gone, or metadata that is no IdP's
                if self._client is None:
                    log.warning("SAML: cannot read the IdP's metadata: %s", exc)
                    raise SsoUnavailable(f"the IdP's metadata cannot be read: {exc}") from None
                log.warning("SAML: refreshing the IdP's metadata failed, keeping the old: %s", exc)
            self._read_at = time.monotonic()
            return self._client

    def _config(self, idp_metadata: str | None) -> SPConfig:
        xmlsec = shutil.which(XMLSEC)
        if xmlsec is None:
            raise SsoUnavailable("xmlsec1 is not installed (Debian: apt-get install xmlsec1)")
        key_file, cert_file = self.key_pair()
        settings = self.settings
        return SPConfig().load(
            {
                "entityid": self.entity_id,
                "key_file": str(key_file),
                "cert_file": str(cert_file),
                "xmlsec_binary": xmlsec,
                "metadata": {"inline": [idp_metadata]} if idp_metadata else {},
                "accepted_time_diff": settings.SAML_CLOCK_SKEW_SECONDS,
                "allow_unknown_attributes": True,
                "service": {
                    "sp": {
                        "name": "ATTN",
                        "endpoints": {
                            "assertion_consumer_service": [(self.acs_url, BINDING_HTTP_POST)]
                        },
                        "want_assertions_signed": True,
                        "want_response_signed": False,
                        "authn_requests_signed": True,
                        "allow_unsolicited": settings.SAML_ALLOW_IDP_INITIATED,
                        "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                        "only_use_keys_in_metadata": True,
                    }
                },
            }
        )

    def _build_client(self, idp_metadata: str) -> tuple[Saml2Client, str]:
        client = Saml2Client(config=self._config(idp_metadata))
        store: MetadataStore = client.metadata
        idps = list(store.identity_providers())
        if len(idps) != 1:
            raise ValueError(f"the metadata names {len(idps)} identity providers, not one")
        if not store.certs(idps[0], "idpsso", "signing"):
            raise ValueError("the IdP's metadata lists no signing certificate")
        return client, idps[0]

    async def metadata(self) -> str:
        """The SP's metadata (entity id, ACS, signing certificate, signed assertions wanted),
        made once."""
        if self._sp_metadata is None:
            self._sp_metadata = await asyncio.to_thread(self._metadata)
        return self._sp_metadata

    def _metadata(self) -> str:
        descriptor = entity_descriptor(self._config(None))
        text = metadata_tostring_fix(descriptor, _NAMESPACES, None)
        return text.decode() if isinstance(text, bytes) else str(text)

    # -- the protocol -----------------------------------------------------------------

    async def authn_request(self, relay_state: str) -> tuple[str, str]:
        """A signed HTTP-Redirect AuthnRequest: (its id, the IdP URL to send the browser to)."""
        client = await self.client()
        return await asyncio.to_thread(self._authn_request, client, relay_state)

    def _authn_request(self, client: Saml2Client, relay_state: str) -> tuple[str, str]:
        request_id, info = client.prepare_for_authenticate(
            entityid=self._idp_entity_id,
            relay_state=relay_state,
            binding=BINDING_HTTP_REDIRECT,
            sign=True,
        )
        location = dict(info["headers"])["Location"]
        return str(request_id), str(location)

    async def verify(self, saml_response: str, *, request_id: str | None) -> VerifiedAssertion:
        """The identity a base64 Response asserts, after every check; SsoRefused when one
        fails. `request_id` is the AuthnRequest it must answer (None: an unsolicited one,
        refused unless `ATTN_SAML_ALLOW_IDP_INITIATED`)."""
        if request_id is None and not self.settings.SAML_ALLOW_IDP_INITIATED:
            raise SsoRefused("unsolicited response (no sign-in of this browser is waiting)")
        client = await self.client()
        return await asyncio.to_thread(self._verify, client, saml_response, request_id)

    def _verify(
        self, client: Saml2Client, saml_response: str, request_id: str | None
    ) -> VerifiedAssertion:
        outstanding = {request_id: "attn"} if request_id else {}
        try:
            response = client.parse_authn_request_response(
                saml_response, BINDING_HTTP_POST, outstanding=outstanding
            )
        except Exception as exc:  # pysaml2 raises many kinds (and plain Exception)
            raise SsoRefused(f"{type(exc).__name__}: {_first_line(exc)}") from None
        if response is None:
            raise SsoRefused("the response is not addressed to this service's ACS")
        try:
            return self._checked(response, request_id)
        finally:
            if response.name_id is not None:
                # pysaml2's client caches who signed in, in memory; ATTN keeps its own sessions
                client.users.remove_person(response.name_id)

    def _checked(self, response: AuthnResponse, request_id: str | None) -> VerifiedAssertion:
        destination = response.response.destination
        if destination is not None and destination != self.acs_url:
            raise SsoRefused("the response's Destination is not this service's ACS")
        assertion = response.assertion
        if assertion is None:
            raise SsoRefused("the response did not verify (version, issue instant or status)")
        if not getattr(assertion, "signature", None):
            raise SsoRefused("the assertion is not signed")
        issuer = (assertion.issuer.text or "").strip() if assertion.issuer is not None else ""
        if issuer != self._idp_entity_id:
            raise SsoRefused(f"the assertion's issuer is {issuer!r}, not the IdP")
        expiries: list[float] = []
        confirmations = assertion.subject.subject_confirmation if assertion.subject else []
        bearer = [c for c in confirmations if c.method == SCM_BEARER]
        if not bearer:
            raise SsoRefused("the assertion has no bearer subject confirmation")
        for confirmation in bearer:
            data = confirmation.subject_confirmation_data
            if data is None or data.recipient != self.acs_url:
                raise SsoRefused("the assertion's Recipient is not this service's ACS")
            if (data.in_response_to or None) != request_id:
                raise SsoRefused("the assertion answers no request this server issued")
            if data.not_on_or_after:
                expiries.append(_unix(data.not_on_or_after))
        conditions = assertion.conditions
        if conditions is not None and conditions.not_on_or_after:
            expiries.append(_unix(conditions.not_on_or_after))
        if not expiries:
            raise SsoRefused("the assertion has no NotOnOrAfter")
        if response.in_response_to not in (None, request_id):
            raise SsoRefused("the response answers no request this server issued")
        return VerifiedAssertion(
            identity=self._identity(response),
            assertion_id=str(assertion.id),
            expires_at=min(expiries),
        )

    def _identity(self, response: AuthnResponse) -> ExternalIdentity:
        """The identity from the verified assertion's NameID and attributes, mapped by the
        settings."""
        settings = self.settings
        attributes = _attributes(response)
        numbers = attributes.get(settings.SAML_SCHOOL_NUMBER_ATTRIBUTE.lower(), [])
        number = numbers[0].strip() if numbers else ""
        if settings.SAML_SCHOOL_NUMBER_STRIP_SCOPE:
            number = number.partition("@")[0]
        if not number:
            raise SsoRefused(f"the assertion has no {settings.SAML_SCHOOL_NUMBER_ATTRIBUTE}")
        names = attributes.get(settings.SAML_NAME_ATTRIBUTE.lower(), [])
        role_values = attributes.get(settings.SAML_ROLE_ATTRIBUTE.lower(), [])
        affiliations = {value.strip().lower() for value in role_values}
        role = next(
            (Role(role) for value, role in settings.saml_role_map if value in affiliations), None
        )
        return ExternalIdentity(
            school_number=number, full_name=names[0].strip() if names else "", role=role
        )


def _attributes(response: AuthnResponse) -> dict[str, list[str]]:
    """The verified assertion's attributes by lowercased name, FriendlyName and pysaml2's
    friendly name for it (so a setting may name `eduPersonPrincipalName` or its
    `urn:oid:1.3.6.1.4.1.5923.1.1.1.6`), and the subject's NameID as `nameid`."""
    found: dict[str, list[str]] = {}
    for name, values in (response.ava or {}).items():
        found.setdefault(name.lower(), [str(value) for value in values])
    for statement in response.assertion.attribute_statement:
        for attribute in statement.attribute:
            values = [str(value.text or "") for value in attribute.attribute_value]
            for name in (attribute.name, attribute.friendly_name):
                if name:
                    found.setdefault(name.lower(), values)
    if response.name_id is not None and response.name_id.text:
        found.setdefault(NAME_ID.lower(), [response.name_id.text])
    return found


def _unix(instant: str) -> float:
    return (
        dt.datetime.strptime(instant.split(".")[0].rstrip("Z"), "%Y-%m-%dT%H:%M:%S")
        .replace(tzinfo=dt.UTC)
        .timestamp()
    )


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [""])[0][:200]


def _self_signed(common_name: str) -> tuple[str, str]:
    """A new 2048-bit RSA key and a ten-year self-signed certificate for it, as PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


# -- the sign-in, with its one-time state -----------------------------------------------


async def start(
    ctx: ServiceContext, provider: ServiceProvider, *, target: str, remember: bool
) -> Started:
    """Begin a sign-in: a signed AuthnRequest whose id is kept, one-time, under a random
    RelayState with where to go next, whether to remember the device and the digest of a
    nonce the browser keeps in a cookie."""
    relay_state = secrets.token_urlsafe(24)
    nonce = secrets.token_urlsafe(24)
    request_id, url = await provider.authn_request(relay_state)
    pending = SamlPending(
        request_id=request_id, target=target, remember=remember, browser=browser_digest(nonce)
    )
    await ctx.redis_client.put_sso_state(
        PROVIDER, relay_state, formats.saml_pending_json(pending), REQUEST_SECONDS
    )
    return Started(redirect_url=url, browser_nonce=nonce)


async def consume(
    ctx: ServiceContext, provider: ServiceProvider, *, saml_response: str, relay_state: str
) -> str:
    """The ACS: verify the Response against the sign-in its RelayState names (taken: a second
    post finds none), refuse an assertion seen before, and hand the identity over to the
    same-site page under a one-time ticket, which this returns."""
    pending = None
    if relay_state:
        raw = await ctx.redis_client.take_sso_state(PROVIDER, relay_state)
        pending = formats.parse_saml_pending(raw) if raw is not None else None
    if not saml_response:
        raise SsoRefused("no SAMLResponse")
    verified = await provider.verify(
        saml_response, request_id=pending.request_id if pending else None
    )
    ttl = max(1, int(verified.expires_at - time.time()) + ctx.settings.SAML_CLOCK_SKEW_SECONDS)
    if not await ctx.redis_client.first_sight(PROVIDER, verified.assertion_id, ttl):
        raise SsoRefused("this assertion was used before (a replay)")
    handover = SamlHandover(
        school_number=verified.identity.school_number,
        full_name=verified.identity.full_name,
        role=verified.identity.role,
        target=pending.target if pending else "/",
        remember=pending.remember if pending else False,
        browser=pending.browser if pending else "",
    )
    ticket = secrets.token_urlsafe(32)
    await ctx.redis_client.put_sso_state(
        TICKETS, ticket, formats.saml_handover_json(handover), HANDOVER_SECONDS
    )
    return ticket


async def take_handover(ctx: ServiceContext, *, ticket: str, browser_nonce: str) -> SamlHandover:
    """The same-site page's first step: take the ACS's one-time handover. A sign-in this
    server started must come back to the browser that started it (the nonce in its cookie)."""
    raw = await ctx.redis_client.take_sso_state(TICKETS, ticket) if ticket else None
    if raw is None:
        raise SsoRefused("the sign-in ticket is unknown, used or expired")
    handover = formats.parse_saml_handover(raw)
    if handover.browser and not hmac.compare_digest(
        handover.browser, browser_digest(browser_nonce)
    ):
        raise SsoRefused("the sign-in was started in another browser")
    return handover


async def sign_in(
    ctx: ServiceContext,
    handover: SamlHandover,
    *,
    client: IPAddress | None,
    device_id: str | None,
) -> LoginResult:
    """Open the ATTN session of the handed-over identity (`auth.sign_in_external`)."""
    return await auth.sign_in_external(
        ctx,
        provider=PROVIDER,
        identity=ExternalIdentity(
            school_number=handover.school_number,
            full_name=handover.full_name,
            role=handover.role,
        ),
        client=client,
        device_id=device_id,
        remember_device=handover.remember,
    )
