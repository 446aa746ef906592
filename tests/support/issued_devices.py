"""Device ids as this server issues them, for tests that stand in for a student's phone.

A phone is named by a label (say "device-A-0123456789"); the id it carries for a student is
the one a login from that phone hands out (`attn.services.devices.bind`), so one label used by
two students is one phone checking in both, as before device ids were issued.
"""

from __future__ import annotations

import re
from typing import Any

from attn.models import DEVICE_ID_PATTERN
from attn.services import devices

_WELL_FORMED = re.compile(DEVICE_ID_PATTERN)
_COOKIE = re.compile(r"(attn_device=)([^;\s]+)")


def school_number_of(headers: dict[str, str]) -> str:
    """The student whose bearer token the headers carry."""
    token = headers["Authorization"].removeprefix("Bearer ")
    return token.rpartition(".")[0]


def issued_device_id(api: Any, headers: dict[str, str], phone: str) -> str:
    """The device id the student of `headers` carries on the phone named `phone`."""
    return devices.bind(api.context.secret_key, phone, school_number_of(headers))


def on_phone(api: Any, headers: dict[str, str], sent: dict[str, str]) -> dict[str, str]:
    """`sent` (an X-ATTN-Device header, an attn_device cookie) with each well-formed phone
    label replaced by the id issued to the student of `headers` on that phone."""

    def issued(label: str) -> str:
        return issued_device_id(api, headers, label) if _WELL_FORMED.fullmatch(label) else label

    replaced = dict(sent)
    if "X-ATTN-Device" in replaced:
        replaced["X-ATTN-Device"] = issued(replaced["X-ATTN-Device"])
    if "Cookie" in replaced:
        replaced["Cookie"] = _COOKIE.sub(
            lambda match: match.group(1) + issued(match.group(2)), replaced["Cookie"]
        )
    return replaced
