"""The embedded Valkey: durable across restarts, and recovered after its owner was killed."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest
import redis as sync_redis

from attn.store.embedded import EmbeddedRedis

OWNER = """
import sys, time
from pathlib import Path
from attn.store.embedded import EmbeddedRedis
url = EmbeddedRedis(Path(sys.argv[1])).start()
print(url, flush=True)
time.sleep(60)
"""


def test_data_survives_a_clean_restart(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path) as url, sync_redis.Redis.from_url(url) as client:
        client.set("kept", "yes")
    with EmbeddedRedis(tmp_path) as url, sync_redis.Redis.from_url(url) as client:
        assert client.get("kept") == b"yes"


@pytest.mark.slow  # kills the owner process
async def test_a_server_orphaned_by_a_killed_owner_is_replaced(tmp_path: Path) -> None:
    owner = await asyncio.create_subprocess_exec(
        sys.executable, "-c", OWNER, str(tmp_path), stdout=asyncio.subprocess.PIPE
    )
    assert owner.stdout is not None
    url = (await asyncio.wait_for(owner.stdout.readline(), 30)).decode().strip()
    client = sync_redis.Redis.from_url(url)
    client.set("kept", "yes")
    # while its owner lives, another process uses the same server instead of a second one
    attached = EmbeddedRedis(tmp_path)
    assert attached.start() == url
    attached.stop()  # not ours: left running
    assert client.ping()

    orphan_pid = client.info("server")["process_id"]
    owner.send_signal(signal.SIGKILL)
    await owner.wait()
    assert client.ping()  # orphaned, still running

    embedded = EmbeddedRedis(tmp_path)
    new_url = embedded.start()
    try:
        fresh = sync_redis.Redis.from_url(new_url)
        assert fresh.get("kept") == b"yes"  # the orphan flushed its append-only file
        assert fresh.info("server")["process_id"] != orphan_pid  # a new server
        fresh.close()
    finally:
        client.close()
        embedded.stop()


@pytest.mark.slow  # kills the server, waits for its restart
def test_a_server_that_dies_is_started_again_with_its_data(tmp_path: Path) -> None:
    embedded = EmbeddedRedis(tmp_path)
    url = embedded.start()
    try:
        client = sync_redis.Redis.from_url(url, socket_timeout=2)
        client.set("kept", "yes")  # acknowledged: in the append-only file
        first_pid = client.info("server")["process_id"]
        os.kill(first_pid, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while True:
            try:
                if client.ping():
                    break
            except sync_redis.ConnectionError:
                pass
            assert time.monotonic() < deadline, "the embedded server was not started again"
            time.sleep(0.1)
        assert client.info("server")["process_id"] != first_pid
        assert client.get("kept") == b"yes"
        assert embedded.restarts == 1
        client.close()
    finally:
        embedded.stop()
    # stopped on purpose: it stays stopped
    time.sleep(1.2)
    assert EmbeddedRedis(tmp_path)._running_owner() is None
