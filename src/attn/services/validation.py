"""How a broken validation rule is reported: in English as `field: message` (the API's and
the command line's words, `first_error`), and as a `BrokenRule` a page says in its own language
(`broken_rule`). Imports only pydantic and `attn.errors`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from attn.errors import BrokenRule

# how much of a refused value a message repeats
SHOWN_VALUE = 60


def first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"]) or "value"
    return f"{field}: {error['msg']}"


def broken_rule(exc: ValidationError, *, line: int | None = None) -> BrokenRule:
    """The first rule `exc` reports, for a page to say (see `attn.web.form_errors`)."""
    return rule_of(exc.errors()[0], line=line)


def rule_of(error: Mapping[str, Any], *, skip: int = 0, line: int | None = None) -> BrokenRule:
    """One of pydantic's (or FastAPI's) error entries as a `BrokenRule`; `skip` leaves out the
    location's first parts (FastAPI's `query`, `path`, `body`). The field is the location's
    first name: `allowed_subnets` for `("allowed_subnets", 2)`."""
    location: Sequence[Any] = tuple(error.get("loc", ()))[skip:]
    field = next((str(part) for part in location if isinstance(part, str)), "")
    limits = {key: _plain(value) for key, value in (error.get("ctx") or {}).items()}
    kind = str(error.get("type", ""))
    if kind == "string_too_short" and limits.get("min_length") == 1:
        kind = "blank_text"  # an empty field, whatever rule said so
    elif kind.endswith("_type") and error.get("input") is None:
        kind = "missing"  # a form's empty field reaches its schema as None
    # a rule on a list names the item it refused in its context (`value`)
    value = limits.pop("value") if "value" in limits else error.get("input")
    return BrokenRule(field, kind, limits, _shown(value), line)


def _plain(value: Any) -> Any:
    return value if isinstance(value, (int, float, str)) else str(value)


def _shown(value: Any) -> str:
    if value is None or isinstance(value, (dict, list, tuple)):
        return ""
    text = str(value)
    return text if len(text) <= SHOWN_VALUE else text[: SHOWN_VALUE - 1] + "…"
