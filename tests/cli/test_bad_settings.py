"""A bad `ATTN_*` setting stops `attn serve` and `attn db upgrade` with a one-line reason that
names it, before any embedded Valkey is started."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import assert_one_line_failure, attn, valkey_pids
from tests.support.ports import free_port
from tests.support.processes import child_environment

# Every test runs the real `attn` executable, a second or more each time.
pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "abc"),
        ("PORT", "70000"),
        ("STUDENT_SESSION_TTL_SECONDS", "0"),
        ("TEACHER_SESSION_TTL_SECONDS", "-5"),
        ("WORKERS", "0"),
        ("DATABASE_URL", "mysql://x"),
        ("REDIS_URL", "http://x"),
    ],
)
@pytest.mark.parametrize("command", [["serve"], ["db", "upgrade"]], ids=["serve", "db-upgrade"])
def test_bad_setting_stops_with_one_line_reason(
    data_dir: Path, tmp_path: Path, name: str, value: str, command: list[str]
) -> None:
    env = child_environment(
        DATABASE_URL=f"sqlite:///{tmp_path / 'attn.sqlite3'}",
        DATA_DIR=data_dir,
        HOST="127.0.0.1",
        PORT=str(free_port()),
    )
    env[f"ATTN_{name}"] = value
    reason = assert_one_line_failure(attn(*command, env=env))
    assert f"ATTN_{name}" in reason
    assert not valkey_pids(data_dir)
