"""Log lines: plain text for a person at a terminal, one JSON object a line for a collector.

`ATTN_LOG_FORMAT` chooses: `json`, `text`, or `auto` (the default: text when standard error
is a terminal, JSON otherwise, as under systemd or in a container). Every line written while
a request is answered carries its request id (`request_id`), and every field a logging call
gives in `extra` becomes a field of the JSON line. The HTTP edge writes one line per request
(`attn.access`); the sweep writes its summary with its figures as fields (`attn.sweep`).

`logging_config` is a `logging.config.dictConfig` dictionary, given to uvicorn too, so its
worker processes log the same way (its own access log stays off: the edge writes ours).
Imports nothing from the rest of the package.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from contextvars import ContextVar
from typing import Any

# The id of the request being answered in this task, for every line logged meanwhile.
request_id: ContextVar[str | None] = ContextVar("attn_request_id", default=None)

# What every LogRecord has; anything else on a record came from `extra` and is a field
# (but uvicorn's copy of its message with terminal colours).
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "color_message"}
)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ms), level, logger, process id, message, request
    id, the record's extra fields, and the exception's text when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _utc_time(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        current = request_id.get()
        if current is not None:
            line["request_id"] = current
        for key, value in vars(record).items():  # in the order the logging call gave them
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


_second = [-1, ""]  # the last whole second formatted, and its text


def _utc_time(created: float) -> str:
    """`2026-12-01T18:00:25.260Z`: the second's text is made once a second."""
    whole = int(created)
    if _second[0] != whole:
        _second[:] = [whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))]
    return f"{_second[1]}.{int((created - whole) * 1000):03d}Z"


def log_info(logger: logging.Logger, message: str, fields: dict[str, Any]) -> None:
    """An INFO line with `fields`, for the line every request writes.

    Under the configuration `logging_config` sets up for JSON (the logger and those above it
    without handlers or filters of their own, every handler of the root a stream handler with
    `JsonFormatter`), the line is made here, the same line the formatter would make, and
    written straight to the handlers' streams: half the CPU of a `LogRecord`'s way through
    `logging` (12 against 24 µs a line, measured in one run on this machine). Anything else
    (text lines, a test's capturing handler) goes that way."""
    if not logger.isEnabledFor(logging.INFO):
        return
    streams = _json_streams(logger)
    if streams is None:
        record = logger.makeRecord(
            logger.name, logging.INFO, __file__, 0, message, (), None, extra=fields
        )
        logger.handle(record)
        return
    line: dict[str, Any] = {
        "time": _utc_time(time.time()),
        "level": "info",
        "logger": logger.name,
        "pid": os.getpid(),
        "message": message,
    }
    current = request_id.get()
    if current is not None:
        line["request_id"] = current
    line.update(fields)
    text = json.dumps(line, ensure_ascii=False, default=str) + "\n"
    for handler in streams:
        with handler.lock:  # type: ignore[union-attr]
            handler.stream.write(text)
            handler.flush()


def _json_streams(logger: logging.Logger) -> list[logging.StreamHandler[Any]] | None:
    """The root's JSON stream handlers when a record of `logger` would reach only them, as
    they are (no filter, no level above INFO); else None."""
    if logger.filters:
        return None
    current: logging.Logger | None = logger
    while current is not None and current.parent is not None:  # up to the root
        if current.handlers or not current.propagate:
            return None
        current = current.parent
    if current is None or not current.handlers:
        return None
    streams = []
    for handler in current.handlers:
        if (
            type(handler) is not logging.StreamHandler
            or type(handler.formatter) is not JsonFormatter
            or handler.filters
            or handler.level > logging.INFO
        ):
            return None
        streams.append(handler)
    return streams


def json_format(setting: str) -> bool:
    """Whether `ATTN_LOG_FORMAT` (json, text, auto) means JSON lines here."""
    if setting == "auto":
        return not sys.stderr.isatty()
    return setting == "json"


def logging_config(level: str, log_format: str) -> dict[str, Any]:
    """The dictConfig of the service's processes: one handler on standard error for the root
    logger, which uvicorn's loggers and ours propagate to."""
    formatter: dict[str, Any] = (
        {"()": "attn.logs.JsonFormatter"}
        if json_format(log_format)
        else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"attn": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "attn",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            # off: the edge writes one line per request itself
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
            "alembic": {"level": "WARNING"},
            "xmlschema": {"level": "WARNING"},
            # their INFO lines name whole URLs, query strings included
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
        },
    }
