"""`redis+sentinel://` URLs: what they name, and the settings' refusal of a bad one; and the
errors redis-py raises in a failover, each a 503."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from redis.asyncio.sentinel import MasterNotFoundError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from attn.config import Settings
from attn.http.errors import is_unavailable
from attn.store.sentinel import InvalidSentinelUrl, SentinelUrl, parse_sentinel_url


def test_a_url_names_the_sentinels_the_primary_and_its_options() -> None:
    parsed = parse_sentinel_url(
        "redis+sentinel://:s%40cret@10.0.0.1:26379,10.0.0.2,[::1]:26380/attn?db=3"
        "&sentinel_password=watch"
    )
    assert parsed == SentinelUrl(
        sentinels=[("10.0.0.1", 26379), ("10.0.0.2", 26379), ("::1", 26380)],
        primary_name="attn",
        password="s@cret",
        db=3,
        sentinel_password="watch",
    )
    assert parse_sentinel_url("redis+sentinel://h:1/p") == SentinelUrl([("h", 1)], "p")


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("redis+sentinel://h:26379", "must name the primary"),
        ("redis+sentinel://h:26379/", "must name the primary"),
        ("redis+sentinel:///attn", "at least one sentinel"),
        ("redis+sentinel://h:port/attn", "is not a sentinel's host:port"),
        ("redis+sentinel://h:70000/attn", "is not a sentinel's host:port"),
        ("redis+sentinel://h:1/attn?db=x", "db must be a database number"),
        ("redis+sentinel://h:1/attn?timeout=3", "unknown option 'timeout'"),
    ],
)
def test_a_bad_url_is_refused_with_the_reason(url: str, says: str) -> None:
    with pytest.raises(InvalidSentinelUrl, match=says):
        parse_sentinel_url(url)


def test_the_settings_take_a_sentinel_url_and_refuse_one_without_a_primary() -> None:
    settings = Settings(REDIS_URL="redis+sentinel://127.0.0.1:26379/attn")
    assert settings.REDIS_URL == "redis+sentinel://127.0.0.1:26379/attn"
    with pytest.raises(ValidationError, match="must name the primary"):
        Settings(REDIS_URL="redis+sentinel://127.0.0.1:26379")


@pytest.mark.parametrize(
    "error",
    [
        MasterNotFoundError("No master found for 'attn'"),
        RedisConnectionError("The previous master is now a slave"),
        ReadOnlyError("You can't write against a read only replica."),
        ResponseError("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is 'no'."),
        RedisTimeoutError("Timeout reading from socket"),
    ],
)
def test_what_redis_py_raises_in_a_failover_is_unavailable(error: Exception) -> None:
    assert is_unavailable(error)
