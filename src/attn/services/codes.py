"""Rotating check-in codes: six digits from an HMAC of the lesson's secret and the time window.

The lesson's secret is itself an HMAC of the server's secret key and the lesson id, so nothing
is stored per lesson or per rotation and every worker computes the same codes. A code is
accepted in its own window and the one after it (the previous code stays valid for one more
rotation), as TOTP does for clock skew and slow typing.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

DIGITS = 6


def _window(moment: datetime, rotation_seconds: int) -> int:
    return int(moment.timestamp()) // rotation_seconds


def lesson_secret(secret_key: bytes, lesson_id: str) -> bytes:
    return hmac.new(secret_key, f"attn-lesson-code:{lesson_id}".encode(), hashlib.sha256).digest()


def code_for_window(secret: bytes, window: int) -> str:
    digest = hmac.new(secret, window.to_bytes(8, "big"), hashlib.sha256).digest()
    offset = digest[-1] & 0x0F  # RFC 4226 dynamic truncation
    number = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{number % 10**DIGITS:0{DIGITS}d}"


def current_code(
    secret_key: bytes, lesson_id: str, now: datetime, rotation_seconds: int
) -> tuple[str, int]:
    """The code to show now, and the seconds until it rotates."""
    window = _window(now, rotation_seconds)
    seconds_left = (window + 1) * rotation_seconds - int(now.timestamp())
    return code_for_window(lesson_secret(secret_key, lesson_id), window), seconds_left


def code_matches(
    secret_key: bytes, lesson_id: str, code: str | None, now: datetime, rotation_seconds: int
) -> bool:
    """Whether `code` is the current or the previous code of the lesson."""
    if not code:
        return False
    typed = "".join(code.split())
    if len(typed) != DIGITS or not (typed.isascii() and typed.isdigit()):
        return False
    secret = lesson_secret(secret_key, lesson_id)
    window = _window(now, rotation_seconds)
    return any(
        hmac.compare_digest(code_for_window(secret, candidate), typed)
        for candidate in (window, window - 1)
    )
