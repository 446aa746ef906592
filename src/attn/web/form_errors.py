"""What a page says when what was sent breaks a validation rule: the field by its label and
what is wrong, in words, in the page's language ("Allowed subnets: 10.0.0.0/33 is not a
network such as 10.1.2.0/24."), never a raw field name or pydantic's English.

The words come from the catalogue (`attn.web.i18n`): the label `fld_<field>` (`fld_other` for a
field without one) and the message `val_<field>_<error type>`, else `val_<error type>`, else
`val_invalid`, filled with the rule's limits (`{max_length}`, `{ge}`, ...) and the value sent.
Imports `attn.errors` and the catalogue only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from attn.errors import BrokenRule
from attn.web.i18n import TEXTS


class _Limits(dict[str, Any]):
    """The values a message is filled with; a placeholder the rule gave no value is blank."""

    def __missing__(self, key: str) -> str:
        return ""


def label_key(field: str) -> str:
    key = f"fld_{field}"
    return key if key in TEXTS else "fld_other"


def message_key(rule: BrokenRule) -> str:
    for key in (f"val_{rule.field}_{rule.kind}", f"val_{rule.kind}"):
        if key in TEXTS:
            return key
    return "val_invalid"


def rule_text(translate: Callable[[str], str], rule: BrokenRule) -> str:
    """`rule` said in the language of `translate` (a `translator`)."""
    values = _Limits(rule.limits)
    values.update(field=translate(label_key(rule.field)), value=rule.value)
    text = translate(message_key(rule)).format_map(values)
    if rule.line is not None:
        text = translate("val_line").format(line=rule.line, problem=text)
    return text
