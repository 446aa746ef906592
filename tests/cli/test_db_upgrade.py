"""`attn db upgrade`: idempotent, and it creates the default SQLite database when none is
configured."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import assert_ok, attn
from tests.support.database import Database, user_count
from tests.support.processes import child_environment

# Every test runs the real `attn` executable, a second or more each time.
pytestmark = pytest.mark.slow


def test_db_upgrade_is_idempotent(clean_database: Database, data_dir: Path) -> None:
    env = child_environment(DATABASE_URL=clean_database.url, DATA_DIR=data_dir)
    assert_ok(attn("db", "upgrade", env=env))
    assert_ok(attn("db", "upgrade", env=env))
    assert user_count(clean_database) == 0


def test_db_upgrade_creates_default_sqlite_database(tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "data"
    env = child_environment(DATA_DIR=data)
    assert_ok(attn("db", "upgrade", env=env))
    assert_ok(attn("db", "upgrade", env=env))
    db_file = data / "attn.sqlite3"
    assert db_file.is_file()
    database = Database(f"sqlite:///{db_file}", f"sqlite+aiosqlite:///{db_file}")
    assert user_count(database) == 0
