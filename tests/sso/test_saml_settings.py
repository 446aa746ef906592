"""SAML's settings and stored state without an IdP: the role map and the settings that must
go together are checked at start-up, the one-time state round-trips through its stored form,
and the SP's key pair is made once, private, in the data dir."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from attn.config import ConfigError, Settings, load_settings
from attn.models import Role, SamlHandover, SamlPending
from attn.services.saml import ServiceProvider, sso_origins
from attn.store import formats

METADATA = (
    '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x">'
    '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
    '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
    'Location="https://login.uni.edu.tr/idp/sso"/>'
    '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
    'Location="https://elsewhere.example/sso"/>'
    "</md:IDPSSODescriptor></md:EntityDescriptor>"
)


def test_the_stored_state_round_trips() -> None:
    pending = SamlPending(request_id="id-1", target="/join/ab", remember=True, browser="d" * 64)
    assert formats.parse_saml_pending(formats.saml_pending_json(pending)) == pending
    for role in (Role.TEACHER, None):
        handover = SamlHandover(
            school_number="20231234",
            full_name="Ayşe Yılmaz",
            role=role,
            target="/",
            remember=False,
            browser="",
        )
        assert formats.parse_saml_handover(formats.saml_handover_json(handover)) == handover


def test_the_role_map_keeps_its_order_and_lowercases_values() -> None:
    settings = Settings(SAML_ROLE_MAP=" Faculty = teacher , student=student,,staff=ADMIN ")
    assert settings.saml_role_map == (
        ("faculty", "teacher"),
        ("student", "student"),
        ("staff", "admin"),
    )


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"ATTN_SAML_ROLE_MAP": "faculty=dean"}, "'dean' is not a role"),
        ({"ATTN_SAML_ROLE_MAP": "faculty"}, "'faculty' is not value=role"),
        ({"ATTN_SAML_ROLE_MAP": "=teacher"}, "is not value=role"),
        ({"ATTN_SAML_IDP_METADATA": "/nonexistent/idp.xml"}, "neither a URL nor a file"),
        ({"ATTN_SAML_SP_KEY_FILE": "/etc/hostname"}, "go together"),
        ({"ATTN_SAML_CLOCK_SKEW_SECONDS": "3600"}, "ATTN_SAML_CLOCK_SKEW_SECONDS"),
    ],
)
def test_bad_saml_settings_stop_the_start(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], problem: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=problem):
        load_settings()


def test_the_sp_key_pair_is_made_once_and_private(tmp_path: Path) -> None:
    settings = Settings(DATA_DIR=tmp_path / "data", PUBLIC_URL="https://attn.uni.edu.tr")
    provider = ServiceProvider(settings)
    key_file, cert_file = provider.key_pair()
    assert key_file.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert cert_file.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    again = ServiceProvider(settings).key_pair()
    assert again == (key_file, cert_file)
    assert again[0].read_text() == key_file.read_text()
    assert provider.entity_id == "https://attn.uni.edu.tr/sso/saml/metadata"
    assert provider.acs_url == "https://attn.uni.edu.tr/sso/saml/acs"


def test_configured_key_files_are_used_as_they_are(tmp_path: Path) -> None:
    made = ServiceProvider(Settings(DATA_DIR=tmp_path / "made")).key_pair()
    settings = Settings(
        DATA_DIR=tmp_path / "data", SAML_SP_KEY_FILE=made[0], SAML_SP_CERT_FILE=made[1]
    )
    assert ServiceProvider(settings).key_pair() == made
    assert not (tmp_path / "data" / "saml").exists()


def test_the_sign_in_page_may_be_sent_on_to_the_idps_redirect_endpoint(tmp_path: Path) -> None:
    metadata = tmp_path / "idp.xml"
    metadata.write_text(METADATA)
    assert sso_origins(Settings(SAML_IDP_METADATA=str(metadata))) == ("https://login.uni.edu.tr",)
    metadata.write_text("<not metadata")
    assert sso_origins(Settings(SAML_IDP_METADATA=str(metadata))) == ()
