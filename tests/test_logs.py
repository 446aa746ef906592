"""The request line's short way to the stream (`attn.logs.log_info`) writes what the long way
through `logging` and `JsonFormatter` writes."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from attn import logs


@pytest.fixture
def json_root() -> Iterator[io.StringIO]:
    """The root logger with one JSON stream handler, as `logs.logging_config` sets it up."""
    root = logging.getLogger()
    kept, level = root.handlers[:], root.level
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.handlers[:] = kept
        root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    found = [json.loads(line) for line in stream.getvalue().splitlines()]
    for line in found:
        line.pop("time")
    return found


def test_the_short_way_writes_the_formatters_line(json_root: io.StringIO) -> None:
    logger = logging.getLogger("attn.access")
    fields = {"event": "request", "route": "/x/{id}", "status": 201, "client": None, "ş": "ğ"}
    assert logs._json_streams(logger) == logging.getLogger().handlers  # the short way
    token = logs.request_id.set("abc123")
    try:
        logs.log_info(logger, "POST /x/{id} 201 1.00ms %s", fields)
        assert len(lines(json_root)) == 1
        logging.getLogger().handlers[0].addFilter(lambda record: True)
        assert logs._json_streams(logger) is None  # the long way now
        logs.log_info(logger, "POST /x/{id} 201 1.00ms %s", fields)
    finally:
        logs.request_id.reset(token)
    short, long = lines(json_root)
    assert short == long
    assert short["request_id"] == "abc123" and short["message"] == "POST /x/{id} 201 1.00ms %s"


def test_a_logger_below_info_writes_nothing(json_root: io.StringIO) -> None:
    logger = logging.getLogger("attn.access.quiet")
    logger.setLevel(logging.WARNING)
    try:
        logs.log_info(logger, "nothing", {})
    finally:
        logger.setLevel(logging.NOTSET)
    assert json_root.getvalue() == ""
