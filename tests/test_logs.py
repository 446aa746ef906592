"""The request line's short way to the stream (`attn.logs.log_info`) writes what the long way
through `logging` and `JsonFormatter` writes."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from attn import logs


@contextmanager
def json_root() -> Iterator[io.StringIO]:
    """The root logger with one JSON stream handler only, as `logs.logging_config` sets it up
    (inside the test: pytest adds its capturing handlers when the test starts)."""
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


def test_the_short_way_writes_the_formatters_line() -> None:
    logger = logging.getLogger("attn.access")
    fields = {"event": "request", "route": "/x/{id}", "status": 201, "client": None, "ş": "ğ"}
    token = logs.request_id.set("abc123")
    with json_root() as stream:
        try:
            assert logs._json_streams(logger) == logging.getLogger().handlers  # the short way
            logs.log_info(logger, "POST /x/{id} 201 1.00ms %s", fields)
            assert len(lines(stream)) == 1
            logging.getLogger().handlers[0].addFilter(lambda record: True)
            assert logs._json_streams(logger) is None  # the long way now
            logs.log_info(logger, "POST /x/{id} 201 1.00ms %s", fields)
        finally:
            logs.request_id.reset(token)
        short, long = lines(stream)
    assert short == long
    assert short["request_id"] == "abc123" and short["message"] == "POST /x/{id} 201 1.00ms %s"


def test_a_logger_below_info_writes_nothing() -> None:
    logger = logging.getLogger("attn.access.quiet")
    logger.setLevel(logging.WARNING)
    with json_root() as stream:
        try:
            logs.log_info(logger, "nothing", {})
        finally:
            logger.setLevel(logging.NOTSET)
        assert stream.getvalue() == ""
