"""`attn lti add-platform`, `list`, `remove`, `rotate-key`, `registration-url` and
`send-grades`, as the real executable runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import assert_ok, assert_one_line_failure, attn
from tests.support.database import Database
from tests.support.processes import child_environment

pytestmark = pytest.mark.slow

PLATFORM = [
    "--issuer",
    "https://moodle.example.edu",
    "--client-id",
    "abc123",
    "--auth-login-url",
    "https://moodle.example.edu/mod/lti/auth.php",
    "--auth-token-url",
    "https://moodle.example.edu/mod/lti/token.php",
    "--keyset-url",
    "https://moodle.example.edu/mod/lti/certs.php",
]


def test_platforms_added_listed_and_removed(
    clean_database: Database, data_dir: Path, redis_url: str
) -> None:
    env = child_environment(DATABASE_URL=clean_database.url, DATA_DIR=data_dir, REDIS_URL=redis_url)
    added = attn("lti", "add-platform", *PLATFORM, "--deployment-id", "1", env=env)
    assert_ok(added)
    number, _, rest = added.stdout.strip().partition(": ")
    assert number.startswith("platform ") and rest == "https://moodle.example.edu client abc123"
    platform_id = number.removeprefix("platform ")
    again = attn("lti", "add-platform", *PLATFORM, "--deployment-id", "2", env=env)
    assert_ok(again)
    listed = attn("lti", "list", env=env)
    assert_ok(listed)
    [line] = listed.stdout.splitlines()
    assert line.split("\t")[:4] == [platform_id, "https://moodle.example.edu", "abc123", "1,2"]
    bad = attn("lti", "add-platform", *PLATFORM[:-1], "not-a-url", "--deployment-id", "1", env=env)
    assert "keyset URL" in assert_one_line_failure(bad)
    url = attn("lti", "registration-url", env=env)
    assert_ok(url)
    assert "/lti/register?key=" in url.stdout
    rotated = attn("lti", "rotate-key", env=env)
    assert_ok(rotated)
    assert rotated.stdout.startswith("signing key ")
    sent = attn("lti", "send-grades", env=env)
    assert_ok(sent)
    assert sent.stdout.strip() == "courses 0, scores sent 0, failed 0"
    assert_ok(attn("lti", "remove", platform_id, env=env))
    missing = attn("lti", "remove", platform_id, env=env)
    assert f"no platform {platform_id}" in assert_one_line_failure(missing)
    assert attn("lti", "list", env=env).stdout == ""
