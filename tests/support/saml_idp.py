"""A SAML 2.0 identity provider on loopback, for the tests and for trying ATTN's SAML sign-in
by hand: pysaml2's own IdP (`saml2.server.Server`) behind a small HTTP server.

    python -m tests.support.saml_idp --port 18210 --sp-metadata http://127.0.0.1:8000/sso/saml/metadata

It makes its signing key pairs in `--data-dir` (a temporary folder by default), writes its
metadata to `<data dir>/idp-metadata.xml` and serves it at `/metadata`. Its single sign-on
service (`/sso`, HTTP-Redirect binding) reads the AuthnRequest, checks its
AssertionConsumerServiceURL against the SP's metadata (`--sp-metadata`, a file or URL, read
again on every request) and answers with the page a real IdP answers with: a form that posts
a signed Response to the SP's ACS by itself (HTTP-POST binding). Who signs in is chosen on a
login form, or, for the tests, by query parameters (`user`, `name`, `affiliation`, `eppn`).

The tests' knobs, as query parameters of `/sso` (and fields of its login form):
- `clock`: seconds added to the IdP's clock (a negative one issues an assertion already
  expired; a positive one, one not valid yet); `valid_for`: its lifetime (300 s);
- `audience`, `recipient`, `destination`, `in_response_to`: what the Response names instead of
  the SP's entity id, its ACS URL and the request's id (`in_response_to=` names none);
- `sign`: `assertion` (the default), `response` (the Response only, its assertion not),
  `both` or `none`; `key`: which key pair signs (`a`, `b`, or `rogue`, which no metadata
  lists); the default is the current signing key;
- `tamper`: `name` or `user` changes that attribute's value after signing.
`/idp-initiated?user=...` sends an unsolicited Response (no AuthnRequest). `POST /control`
with JSON `{"sign_with": "b", "publish": ["a", "b"]}` switches the signing key and the
certificates the metadata lists (a signing certificate rollover); `{"reset": true}` goes back
to key `a`, published alone.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import html
import json
import tempfile
import threading
import warnings
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

with warnings.catch_warnings():
    # pysaml2 names a cipher mode that cryptography has moved; ATTN never encrypts with it
    warnings.simplefilter("ignore")
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, samlp
    from saml2.config import IdPConfig
    from saml2.md import entity_descriptor_from_string
    from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
    from saml2.server import Server
    from saml2.sigver import pre_signature_part

ENTITY_PATH = "/metadata"
KEY_NAMES = ("a", "b", "rogue")
NAME_FORMAT_URI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
XMLSEC = "/usr/bin/xmlsec1"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"


def make_key_pair(directory: Path, name: str) -> tuple[Path, Path]:
    """A 2048-bit RSA key and a self-signed certificate for it, as PEM files in `directory`."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"test idp {name}")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = directory / f"idp-{name}.key", directory / f"idp-{name}.crt"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


def _cert_body(cert_file: Path) -> str:
    return "".join(line for line in cert_file.read_text().splitlines() if "-----" not in line)


def _time(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Knobs:
    """What one sign-in's Response says, and how it is signed (see the module docstring)."""

    user: str
    name: str = ""
    affiliation: str = "student"
    eppn: str = ""
    clock: int = 0
    valid_for: int = 300
    audience: str | None = None
    recipient: str | None = None
    destination: str | None = None
    in_response_to: str | None = None
    sign: str = "assertion"
    key: str | None = None
    tamper: str = ""

    @classmethod
    def from_query(cls, query: dict[str, str]) -> Knobs:
        def number(name: str, default: int) -> int:
            return int(query[name]) if query.get(name) else default

        return cls(
            user=query.get("user", ""),
            name=query.get("name", ""),
            affiliation=query.get("affiliation", "student"),
            eppn=query.get("eppn", ""),
            clock=number("clock", 0),
            valid_for=number("valid_for", 300),
            audience=query.get("audience"),
            recipient=query.get("recipient"),
            destination=query.get("destination"),
            in_response_to=query.get("in_response_to"),
            sign=query.get("sign", "assertion"),
            key=query.get("key") or None,
            tamper=query.get("tamper", ""),
        )


@dataclass
class IdentityProvider:
    """The IdP's keys, what its metadata lists, and how it builds Responses."""

    base_url: str
    data_dir: Path
    sp_metadata: str | None = None
    keys: dict[str, tuple[Path, Path]] = field(default_factory=dict)
    sign_with: str = "a"
    publish: tuple[str, ...] = ("a",)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for name in KEY_NAMES:
            self.keys[name] = make_key_pair(self.data_dir, name)
        self.write_metadata()

    @property
    def entity_id(self) -> str:
        return f"{self.base_url}{ENTITY_PATH}"

    @property
    def metadata_file(self) -> Path:
        return self.data_dir / "idp-metadata.xml"

    def metadata(self) -> str:
        """The IdP's metadata: its SSO endpoint and one signing KeyDescriptor per published
        certificate (two during a rollover)."""
        keys = "".join(
            f'<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
            f"{_cert_body(self.keys[name][1])}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
            "</md:KeyDescriptor>"
            for name in self.publish
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<md:EntityDescriptor xmlns:md="{MD}" '
            f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{self.entity_id}">'
            '<md:IDPSSODescriptor WantAuthnRequestsSigned="false" '
            'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
            f"{keys}"
            "<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
            "</md:NameIDFormat>"
            f'<md:SingleSignOnService Binding="{BINDING_HTTP_REDIRECT}" '
            f'Location="{self.base_url}/sso"/>'
            "</md:IDPSSODescriptor></md:EntityDescriptor>"
        )

    def write_metadata(self) -> None:
        self.metadata_file.write_text(self.metadata(), encoding="utf-8")

    def control(self, change: dict[str, Any]) -> None:
        with self.lock:
            if change.get("reset"):
                self.sign_with, self.publish = "a", ("a",)
            if "sign_with" in change:
                self.sign_with = str(change["sign_with"])
            if "publish" in change:
                self.publish = tuple(str(name) for name in change["publish"])
            self.write_metadata()

    def _server(self) -> tuple[Server, str]:
        """pysaml2's IdP with the SP's metadata as it is now (read again each time, so the SP
        may start, or change its keys, after the IdP), and that metadata."""
        if not self.sp_metadata:
            raise LookupError("no --sp-metadata: the IdP does not know the service provider")
        if self.sp_metadata.startswith(("http://", "https://")):
            text = httpx.get(self.sp_metadata, timeout=10).text
        else:
            text = Path(self.sp_metadata).read_text(encoding="utf-8")
        key_file, cert_file = self.keys["a"]
        config = {
            "entityid": self.entity_id,
            "key_file": str(key_file),
            "cert_file": str(cert_file),
            "xmlsec_binary": XMLSEC,
            "metadata": {"inline": [text]},
            "service": {
                "idp": {
                    "endpoints": {
                        "single_sign_on_service": [(f"{self.base_url}/sso", BINDING_HTTP_REDIRECT)]
                    },
                    "policy": {
                        "default": {
                            "lifetime": {"minutes": 5},
                            "attribute_restrictions": None,
                            "name_form": NAME_FORMAT_URI,
                        }
                    },
                }
            },
        }
        return Server(config=IdPConfig().load(config)), text

    def _sp_endpoints(self, text: str) -> tuple[str, list[str]]:
        """The SP's entity id and ACS URLs (HTTP-POST), from its metadata."""
        descriptor = entity_descriptor_from_string(text)
        locations = [
            service.location
            for sp in descriptor.spsso_descriptor
            for service in sp.assertion_consumer_service
            if service.binding == BINDING_HTTP_POST
        ]
        return descriptor.entity_id, locations

    def sp_endpoints(self) -> tuple[str, list[str]]:
        return self._sp_endpoints(self._server()[1])

    def request_of(self, saml_request: str) -> tuple[str, str, str]:
        """(request id, SP entity id, ACS URL) of an HTTP-Redirect AuthnRequest, whose ACS must
        be one the SP's metadata lists."""
        server, text = self._server()
        request = server.parse_authn_request(saml_request, BINDING_HTTP_REDIRECT).message
        entity_id, locations = self._sp_endpoints(text)
        if request.issuer is None or request.issuer.text.strip() != entity_id:
            raise LookupError(f"the request's issuer is not {entity_id}")
        acs = request.assertion_consumer_service_url or (locations[0] if locations else "")
        if acs not in locations:
            raise LookupError(f"{acs} is not an ACS URL of the SP's metadata")
        return request.id, entity_id, acs

    def response(self, knobs: Knobs, *, request_id: str | None, sp_id: str, acs: str) -> str:
        """A base64 SAML Response for `knobs` (signed as they say)."""
        identity = {
            "schacPersonalUniqueCode": [knobs.user],
            "eduPersonPrincipalName": [knobs.eppn or f"{knobs.user}@uni.edu.tr"],
            "eduPersonAffiliation": [knobs.affiliation],
        }
        if knobs.name:  # no name given: no displayName (the account keeps its own)
            identity["displayName"] = [knobs.name]
        server, _ = self._server()
        with self.lock:
            key_name = knobs.key or self.sign_with
            unsigned = server.create_authn_response(
                identity,
                in_response_to=request_id,
                destination=acs,
                sp_entity_id=sp_id,
                name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=f"id-{knobs.user}"),
                authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"},
                sign_assertion=False,
                sign_response=False,
            )
        response = samlp.response_from_string(str(unsigned))
        self._adjust(response, knobs, request_id=request_id, acs=acs)
        key_file, cert_file = self.keys[key_name]
        cert = _cert_body(cert_file)
        assertion = response.assertion[0]
        if knobs.sign in ("assertion", "both"):
            assertion.signature = pre_signature_part(assertion.id, cert, 1)
        if knobs.sign in ("response", "both"):
            response.signature = pre_signature_part(response.id, cert, 2)
        xml = str(response)
        sec = server.sec
        if knobs.sign in ("assertion", "both"):
            xml = sec.sign_statement(
                xml,
                "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
                key_file=str(key_file),
                node_id=assertion.id,
            )
        if knobs.sign in ("response", "both"):
            xml = sec.sign_statement(
                xml,
                "urn:oasis:names:tc:SAML:2.0:protocol:Response",
                key_file=str(key_file),
                node_id=response.id,
            )
        if knobs.tamper == "name":
            xml = xml.replace(f">{knobs.name}<", ">Someone Else<")
        elif knobs.tamper == "user":
            xml = xml.replace(f">{knobs.user}<", ">20990001<")
        return base64.b64encode(xml.encode()).decode()

    @staticmethod
    def _adjust(
        response: samlp.Response, knobs: Knobs, *, request_id: str | None, acs: str
    ) -> None:
        """Set the times, audience, recipient, destination and InResponseTo the knobs say."""
        now = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=knobs.clock)
        not_before, not_after = _time(now), _time(now + dt.timedelta(seconds=knobs.valid_for))
        in_response_to = request_id if knobs.in_response_to is None else knobs.in_response_to
        response.issue_instant = _time(now)
        response.destination = acs if knobs.destination is None else knobs.destination
        response.in_response_to = in_response_to or None
        assertion = response.assertion[0]
        assertion.issue_instant = _time(now)
        conditions = assertion.conditions
        conditions.not_before, conditions.not_on_or_after = not_before, not_after
        if knobs.audience is not None:
            conditions.audience_restriction[0].audience[0].text = knobs.audience
        for statement in assertion.authn_statement:
            statement.authn_instant = _time(now)
            statement.session_not_on_or_after = not_after
        for confirmation in assertion.subject.subject_confirmation:
            data = confirmation.subject_confirmation_data
            data.not_on_or_after = not_after
            data.recipient = acs if knobs.recipient is None else knobs.recipient
            data.in_response_to = in_response_to or None


def _auto_post(acs: str, saml_response: str, relay_state: str) -> str:
    """The page a real IdP answers with: a form that posts itself to the SP's ACS."""
    relay = (
        f'<input type="hidden" name="RelayState" value="{html.escape(relay_state)}">'
        if relay_state
        else ""
    )
    return (
        "<!doctype html><html><head><title>Signing in</title></head>"
        '<body onload="document.forms[0].submit()">'
        f'<form method="post" action="{html.escape(acs)}">'
        f'<input type="hidden" name="SAMLResponse" value="{saml_response}">{relay}'
        "<noscript><button>Continue</button></noscript></form></body></html>"
    )


def _login_form(query: dict[str, str]) -> str:
    kept = "".join(
        f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
        for name, value in query.items()
        if name not in ("user", "name", "affiliation")
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Test identity provider</title></head><body><h1>Test identity provider</h1>"
        f'<form method="post" action="/sso">{kept}'
        '<p><label for="user">School number</label> <input id="user" name="user" required></p>'
        '<p><label for="name">Name</label> <input id="name" name="name"></p>'
        '<p><label for="affiliation">Affiliation</label> <select id="affiliation" '
        'name="affiliation"><option>student</option><option>faculty</option>'
        "<option>staff</option></select></p>"
        "<p><button>Sign in</button></p></form></body></html>"
    )


class Handler(BaseHTTPRequestHandler):
    idp: IdentityProvider

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: str, content_type: str = "text/html") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def _query(self) -> dict[str, str]:
        return {
            k: v[0] for k, v in parse_qs(urlsplit(self.path).query, keep_blank_values=True).items()
        }

    def _form(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}

    def do_GET(self) -> None:
        try:
            self._get()
        except Exception as exc:
            self._send(500, f"idp failure: {exc!r}", "text/plain")

    def do_POST(self) -> None:
        try:
            self._post()
        except Exception as exc:
            self._send(500, f"idp failure: {exc!r}", "text/plain")

    def _get(self) -> None:
        path = urlsplit(self.path).path
        if path == ENTITY_PATH:
            self._send(200, self.idp.metadata(), "application/samlmetadata+xml")
        elif path == "/sso":
            self._sso(self._query())
        elif path == "/idp-initiated":
            self._idp_initiated(self._query())
        else:
            self._send(404, "not found", "text/plain")

    def _post(self) -> None:
        path = urlsplit(self.path).path
        if path == "/sso":
            self._sso(self._form())
        elif path == "/control":
            length = int(self.headers.get("Content-Length") or 0)
            self.idp.control(json.loads(self.rfile.read(length) or b"{}"))
            self._send(200, "{}", "application/json")
        else:
            self._send(404, "not found", "text/plain")

    def _sso(self, query: dict[str, str]) -> None:
        saml_request = query.get("SAMLRequest", "")
        if not saml_request:
            self._send(400, "no SAMLRequest", "text/plain")
            return
        try:
            request_id, sp_id, acs = self.idp.request_of(saml_request)
        except Exception as exc:
            self._send(400, f"refused: {exc}", "text/plain")
            return
        if not query.get("user"):
            self._send(200, _login_form(query))
            return
        knobs = Knobs.from_query(query)
        saml_response = self.idp.response(knobs, request_id=request_id, sp_id=sp_id, acs=acs)
        self._send(200, _auto_post(acs, saml_response, query.get("RelayState", "")))

    def _idp_initiated(self, query: dict[str, str]) -> None:
        sp_id, locations = self.idp.sp_endpoints()
        knobs = Knobs.from_query(query)
        saml_response = self.idp.response(knobs, request_id=None, sp_id=sp_id, acs=locations[0])
        self._send(200, _auto_post(locations[0], saml_response, query.get("RelayState", "")))


def serve(idp: IdentityProvider, port: int) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"idp": idp})
    return ThreadingHTTPServer(("127.0.0.1", port), handler)


def main() -> None:
    parser = argparse.ArgumentParser(description="A SAML 2.0 identity provider for testing ATTN.")
    parser.add_argument("--port", type=int, default=18210)
    parser.add_argument("--sp-metadata", help="the SP's metadata: a file or an http(s) URL")
    parser.add_argument("--data-dir", type=Path, help="where the keys and metadata go")
    parser.add_argument(
        "--host-name",
        default="127.0.0.1",
        help="the name the IdP's URLs use (it listens on 127.0.0.1): `localhost` makes it "
        "another site than an SP at 127.0.0.1, as a real IdP is",
    )
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="saml-idp-"))
    idp = IdentityProvider(
        base_url=f"http://{args.host_name}:{args.port}",
        data_dir=data_dir,
        sp_metadata=args.sp_metadata,
    )
    httpd = serve(idp, args.port)
    print(f"saml idp: {idp.base_url}/metadata (also {idp.metadata_file})", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()


if __name__ == "__main__":
    main()
