"""The OIDC settings refuse to start with values that cannot work, and the role map reads a
string or a list claim, first pair first, `admin` only when listed."""

from __future__ import annotations

from typing import Any

import pytest

from attn.config import ConfigError, Settings, load_settings
from attn.models import Role
from attn.services.oidc import OidcProvider

ISSUER = {"OIDC_ISSUER": "https://idp.example.edu/realms/uni", "OIDC_CLIENT_ID": "attn"}


def provider(**values: Any) -> OidcProvider:
    return OidcProvider(Settings(**{**ISSUER, "OIDC_CLIENT_SECRET": "s", **values}))


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"ATTN_OIDC_ISSUER": "https://idp.example.edu"}, "needs ATTN_OIDC_CLIENT_ID"),
        ({"ATTN_OIDC_ISSUER": "idp.example.edu"}, "ATTN_OIDC_ISSUER: must be an http"),
        ({"ATTN_OIDC_ROLE_MAP": "staff=professor"}, "ATTN_OIDC_ROLE_MAP: 'staff=professor'"),
        ({"ATTN_OIDC_ROLE_MAP": "=teacher"}, "ATTN_OIDC_ROLE_MAP"),
    ],
)
def test_unworkable_settings_stop_the_start(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], reason: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=reason):
        load_settings()


def test_the_issuer_loses_its_trailing_slash() -> None:
    settings = Settings(
        OIDC_ISSUER="https://login.microsoftonline.com/common/v2.0/",
        OIDC_CLIENT_ID="a",
        OIDC_CLIENT_SECRET="b",
        OIDC_TENANTS=" t1, t2 ,",
    )
    assert settings.OIDC_ISSUER == "https://login.microsoftonline.com/common/v2.0"
    assert settings.oidc_tenants == frozenset({"t1", "t2"})


def test_the_first_pair_of_the_role_map_whose_value_the_claim_holds_wins() -> None:
    mapped = provider(OIDC_ROLE_CLAIM="groups", OIDC_ROLE_MAP="it=admin,staff=teacher,stu=student")
    assert mapped.role({"groups": ["stu", "staff"]}) is Role.TEACHER
    assert mapped.role({"groups": ["staff", "it"]}) is Role.ADMIN
    assert mapped.role({"groups": "stu"}) is Role.STUDENT  # a string claim
    assert mapped.role({"groups": ["visitor"]}) is None  # then ATTN_SSO_DEFAULT_ROLE
    assert mapped.role({"groups": 7}) is None
    assert mapped.role({}) is None


def test_admin_comes_only_from_an_explicit_pair() -> None:
    default = provider(OIDC_ROLE_CLAIM="roles")
    assert default.role({"roles": ["admin"]}) is None
    assert default.role({"roles": ["staff"]}) is Role.TEACHER


def test_without_a_role_claim_no_role_is_read() -> None:
    assert provider().role({"groups": ["staff"]}) is None
