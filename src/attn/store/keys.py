"""Every Redis key ATTN uses, built in this one place.

Keys that one atomic operation touches share a hash tag, so every script runs unchanged on
Redis Cluster:

- `{u:<school number>}`: a user's session, refresh tokens and their index, account epoch,
  failed-login counters, open event streams, a teacher's active-lesson claim and lesson
  list, a student's list of live lessons.
- `{l:<tag>}`: a lesson, its records and the discovery index of its (lesson name, teacher
  name) pair. The tag is a digest of that normalised pair and is the first half of the
  lesson id, so a lesson and the index entry that finds it always live in one slot.

- `{sweep}`: the persistence queue (lessons by the time they become due), the sweepers'
  claims on them, and the lessons set aside because the database refuses them.
- `{find}`: the word index of the looser search (`find_words`): one sorted set, every score
  0, read lexicographically (ZRANGEBYLEX), with an entry for each word of each live lesson's
  name and of its teacher's (`attn.store.formats.word_entries`). The script that reads it
  touches it alone.

The queue and the word index are global by nature: each is one key, so on Redis Cluster it
lives on one node (the one owning its slot) and every search reads there. No script touches
them together with a tagged key (that would be a CROSSSLOT error on a cluster); they are
written in the same round trip as the lesson's script instead, as separate commands. The
queue entry and the word entries are written first, so a lesson never exists without them;
the word entries are taken out when the lesson stops being searchable (after a finish) and,
before its live data is deleted, when it is persisted. Readers tolerate an entry whose
lesson is gone, finished or renamed: a search loads every lesson it finds and checks it.
"""

from __future__ import annotations

import hashlib
import secrets

from attn.models import LESSON_ID_RE, normalize_name

PREFIX = "attn"
TAG_HEX = 16


def session(school_number: str) -> str:
    return f"{PREFIX}:session:{{u:{school_number}}}"


def refresh_token(school_number: str, device_key: str) -> str:
    """A remembered device's refresh token (`device_key` is a digest of the device id)."""
    return f"{PREFIX}:refresh:{{u:{school_number}}}:{device_key}"


def refresh_devices(school_number: str) -> str:
    """The user's remembered devices: device key -> when its refresh token expires (ms)."""
    return f"{PREFIX}:refresh-devices:{{u:{school_number}}}"


def account_epoch(school_number: str) -> str:
    """How many times the account's sessions were ended by a change to it (deactivated, role
    changed, password reset): a session or refresh token opened by a sign-in that looked at the
    account before the last such change is refused."""
    return f"{PREFIX}:account-epoch:{{u:{school_number}}}"


def sso_state(provider: str, state: str) -> str:
    """A single sign-on attempt's server-side state, taken once when the provider answers."""
    return f"{PREFIX}:sso-state:{provider}:{state}"


def sso_seen(provider: str, item_id: str) -> str:
    """An identity provider's one-time item (an assertion id, a token id) seen here already."""
    return f"{PREFIX}:sso-seen:{provider}:{item_id}"


def login_failures(school_number: str) -> str:
    """Failed logins of one account from every address: the account-wide ceiling."""
    return f"{PREFIX}:login-failures:{{u:{school_number}}}"


def login_failures_from(school_number: str, source: str) -> str:
    """Failed logins of one account from one source (an IPv4 address, an IPv6 /64)."""
    return f"{PREFIX}:login-failures:{{u:{school_number}}}:{source}"


def event_streams(school_number: str) -> str:
    """The user's open live-roll streams: stream id scored by when its lease runs out (ms)."""
    return f"{PREFIX}:event-streams:{{u:{school_number}}}"


def ready_probe() -> str:
    """What `/readyz` writes (and lets expire) to learn that Redis takes writes."""
    return f"{PREFIX}:ready-probe"


def teacher_active_lesson(school_number: str) -> str:
    return f"{PREFIX}:teacher-active:{{u:{school_number}}}"


def teacher_lessons(school_number: str) -> str:
    return f"{PREFIX}:teacher-lessons:{{u:{school_number}}}"


def student_lessons(school_number: str) -> str:
    return f"{PREFIX}:student-lessons:{{u:{school_number}}}"


def discovery_tag(lesson_name: str, teacher_full_name: str) -> str:
    """The hash tag shared by every lesson with this (lesson name, teacher name) pair."""
    pair = f"{normalize_name(lesson_name)}\x1f{normalize_name(teacher_full_name)}"
    return hashlib.sha256(pair.encode()).hexdigest()[:TAG_HEX]


def new_lesson_id(lesson_name: str, teacher_full_name: str) -> str:
    return discovery_tag(lesson_name, teacher_full_name) + secrets.token_hex(TAG_HEX // 2)


def is_lesson_id(value: str) -> bool:
    return LESSON_ID_RE.fullmatch(value) is not None


def lesson(lesson_id: str) -> str:
    return _lesson_part("lesson", lesson_id)


def lesson_records(lesson_id: str) -> str:
    return _lesson_part("records", lesson_id)


def _lesson_part(kind: str, lesson_id: str) -> str:
    return f"{PREFIX}:{kind}:{{l:{lesson_id[:TAG_HEX]}}}:{lesson_id[TAG_HEX:]}"


def lesson_devices(lesson_id: str) -> str:
    """Device (the device part of a student's device id) -> the first student it checked in."""
    return _lesson_part("devices", lesson_id)


def lesson_addresses(lesson_id: str) -> str:
    """Client address (as bits) -> the first student who checked in from it."""
    return _lesson_part("addresses", lesson_id)


def lesson_code_failures(lesson_id: str) -> str:
    """Student -> `count:window start ms` of wrong codes."""
    return _lesson_part("code-failures", lesson_id)


def lesson_roster(lesson_id: str) -> str:
    """Student -> full name: the course roster as it was when the lesson started."""
    return _lesson_part("roster", lesson_id)


def lesson_verifications(lesson_id: str) -> str:
    """Verification id -> `student|status if verified|open or answered`."""
    return _lesson_part("verifications", lesson_id)


def lesson_audit(lesson_id: str) -> str:
    """The lesson's audit trail, oldest first (JSON entries)."""
    return _lesson_part("audit", lesson_id)


def lesson_projector(lesson_id: str) -> str:
    """The lesson's projector link: `generation` (the number of the current link) and
    `revoked` (1 when the current link was revoked). No key: link 0, not revoked."""
    return _lesson_part("projector", lesson_id)


def lesson_keys(lesson_id: str) -> list[str]:
    """Every key of one lesson's live state (all in the lesson's slot), index excluded."""
    return [
        lesson(lesson_id),
        lesson_records(lesson_id),
        lesson_devices(lesson_id),
        lesson_addresses(lesson_id),
        lesson_code_failures(lesson_id),
        lesson_roster(lesson_id),
        lesson_verifications(lesson_id),
        lesson_audit(lesson_id),
        lesson_projector(lesson_id),
    ]


def lesson_events(lesson_id: str) -> str:
    """The pub/sub channel a lesson's new and changed records are published on."""
    return _lesson_part("events", lesson_id)


def discovery_index(tag: str) -> str:
    return f"{PREFIX}:find:{{l:{tag}}}"


def lesson_discovery_index(lesson_id: str) -> str:
    return discovery_index(lesson_id[:TAG_HEX])


def find_words() -> str:
    """The looser search's word index: members `<folded word>\x00<lesson id>`, score 0."""
    return f"{PREFIX}:find-words:{{find}}"


def sweep_due() -> str:
    """Lesson ids scored by the time (ms) at which they become due for persistence."""
    return f"{PREFIX}:due:{{sweep}}"


def sweep_claims() -> str:
    """Lesson ids a sweeper is working on, scored by when its claim runs out (ms)."""
    return f"{PREFIX}:claims:{{sweep}}"


def sweep_held() -> str:
    """Lessons the sweep set aside because the database refuses them (their live data is
    kept): lesson id -> why and when, as `formats.held_json` writes it."""
    return f"{PREFIX}:held:{{sweep}}"


# --- LTI 1.3 -----------------------------------------------------------------------------------


def lti_keyset(url: str) -> str:
    """A learning platform's JWKS as last fetched from its keyset URL (JSON), shared by every
    worker until it expires."""
    digest = hashlib.sha256(url.encode()).hexdigest()[:32]
    return f"{PREFIX}:lti-keyset:{digest}"
