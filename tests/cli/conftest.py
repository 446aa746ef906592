"""Fixtures of the tests of the `attn` command, which run it as the real executable in
subprocesses.

Every test builds its own environment: the caller's environment without any `ATTN_*`
variable, plus exactly the settings the test needs. Servers bind to 127.0.0.1 only, are
bounded by timeouts and are always stopped (with their embedded Valkey) in a `finally`.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short data directory, so the embedded Valkey socket fits inside it."""
    return tmp_path_factory.mktemp("attn-data")
