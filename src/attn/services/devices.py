"""Device ids: issued by this server, each bound to one student, naming the phone it lives on.

A device id is `<device>.<seal>`. The device part, 22 random URL-safe characters, names the
phone (the browser's `attn_device` cookie, or what the app stores). The seal, the first 22
characters of an HMAC-SHA256 (keyed with the server secret) of the device and the student's
school number, binds it to that student. At a check-in only an id whose seal is right for the
student counts: a made-up id, or one issued to another student, is no device at all.

Ids are handed out when a student signs in (the pages' sign-in and first check-in, the API's
login and refresh). Signing in on a phone that already carries an id keeps its device part
and seals it for whoever signs in, so a lesson sees one phone checking in two students; an id
of the app's own making (from before ids were issued) keeps naming one phone the same way. A
private window or cleared cookies are a new phone: no server can tell that apart.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

DEVICE_CHARS = 22  # 132 bits, URL-safe base64
_ISSUED = re.compile(rf"^[A-Za-z0-9_-]{{{DEVICE_CHARS}}}\.[A-Za-z0-9_-]{{{DEVICE_CHARS}}}$")
# what apps sent as their own id before the server issued them
_APP_MADE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")


def _mac(secret_key: bytes, message: str) -> str:
    digest = hmac.new(secret_key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:DEVICE_CHARS]


def _seal(secret_key: bytes, device: str, school_number: str) -> str:
    return _mac(secret_key, f"device:{device}:{school_number}")


def issue(secret_key: bytes, school_number: str, device: str | None = None) -> str:
    """A device id for the student: of this device, or of a new one."""
    device = device or secrets.token_urlsafe(DEVICE_CHARS * 3 // 4)[:DEVICE_CHARS]
    return f"{device}.{_seal(secret_key, device, school_number)}"


def is_issued(secret_key: bytes, device_id: str, school_number: str) -> bool:
    """Whether this server issued `device_id` to this student."""
    if _ISSUED.fullmatch(device_id) is None:
        return False
    device, _, seal = device_id.partition(".")
    return hmac.compare_digest(seal, _seal(secret_key, device, school_number))


def device_of(device_id: str) -> str:
    """The phone a device id names: its device part."""
    return device_id.partition(".")[0]


def bind(secret_key: bytes, sent: str | None, school_number: str) -> str:
    """The device id a student signing in with `sent` (what the phone carries) gets: `sent`
    when it is already theirs, else the same phone sealed for them, else a new phone."""
    if not sent:
        return issue(secret_key, school_number)
    if is_issued(secret_key, sent, school_number):
        return sent
    if _ISSUED.fullmatch(sent):
        return issue(secret_key, school_number, device_of(sent))
    if _APP_MADE.fullmatch(sent):
        # an id the app made itself names its phone by a digest, the same at every sign-in
        return issue(secret_key, school_number, _mac(secret_key, f"device-name:{sent}"))
    return issue(secret_key, school_number)
