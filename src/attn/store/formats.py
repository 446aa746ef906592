"""Every value format ATTN stores in Redis, owned here as `keys` owns every key name.

- **Record**: the JSON of `AttendanceRecordRedis`, compact, fields in declaration order, times
  in `format_time`'s fixed-width form, non-ASCII text as UTF-8. It is also the API's Record
  JSON byte for byte, so a live roll is sent as stored. The join script is handed the record's
  first four fields (`record_head`) and adds the fields it decides, in the same order and
  form (`status`, `reason`, `flags`, `changed_by`, `changed_at`: the model declares its fields in
  that order for this reason); the scripts read its status as the first `"status":"..."`
  in it (`record_status`), which no JSON string holds unescaped. Flags are plain names
  (`not_on_roster`, `shared_device`, `shared_address`); the join script also adds one to an
  earlier student's record, inserting it into the array after `"flags":[` (a sequence no JSON
  string holds unescaped), so that record stays in the same form.
- **Audit entry**: the JSON of `AuditEntry`, one list element per change.
- **Lesson**: a hash of strings (`lesson_to_hash`); besides the model's fields it keeps what the
  join script reads: `sec_*` flags, networks as bit strings, times in milliseconds; and the
  records counted by status, `count_<status>` (`COUNT_FIELDS`), which the scripts that create
  or change a record keep up to date in the same step. A lesson stored before the counters
  existed has none: the first script to change it counts its records once and stores them, and
  until then a read counts them (`lesson_from_hash(fields, raw_records)`).
- **Word index entry**: `n:<folded word>\x00<lesson id>` for each word of a lesson's folded
  name and `t:<folded word>\x00<lesson id>` for each word of its teacher's (`word_entries`,
  words as `attn.models.name_words` cuts them); NUL sorts before every character, so the
  entries of one word are contiguous and a word prefix is one lexicographic range.
- **Network and address**: `4:` or `6:` and the bits, so "address in network" is a prefix test.
- **Verification**: id `<lesson id><16 hex>`; value `<student>|<status if verified>|<state>`,
  state `open` or `answered`.
- **Teacher's active-lesson claim**: `<lesson id>|<claimed at, ms>`.
- **Sessions and refresh tokens**: the JSON of their models.
- **Held lesson**: the JSON of `HeldLesson`, the value of its lesson id in the held index.
- **OIDC sign-in in progress**: the JSON of `OidcPending` (nonce, PKCE verifier, target,
  remember), the value of its state.
- **SAML sign-in state**: the JSON of `SamlPending` (a started sign-in, under its RelayState)
  and of `SamlHandover` (the ACS's handover, under its ticket).
- **Projector link**: a hash, `generation` (the number of the lesson's current link, 0 when
  none was ever made) and `revoked` (`1` when the current link was revoked, else `0`).

Imports only `attn.models`.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import TypeAdapter

from attn.models import (
    LESSON_ID_RE,
    AttendanceRecordRedis,
    AuditEntry,
    Counts,
    HeldLesson,
    LessonRedis,
    LessonStatus,
    RecordStatus,
    RefreshTokenRedis,
    SamlHandover,
    SamlPending,
    SecurityOption,
    UserSessionRedis,
    from_ms,
    name_words,
    to_ms,
)

# --- records -------------------------------------------------------------------------------

# The fields the app fixes before the join script decides the rest.
RECORD_HEAD_FIELDS = ("lesson_id", "student_number", "student_full_name", "attendance_time")
_STATUS_IN_JSON = re.compile(r'"status":"([a-z]+)"')


def record_status(raw: str | bytes) -> RecordStatus:
    """A stored record's status, read as the scripts read it (the first `"status":"..."`)."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    match = _STATUS_IN_JSON.search(text)
    if match is None:
        raise ValueError("a stored record without a status")
    return RecordStatus(match.group(1))


def record_json(record: AttendanceRecordRedis) -> str:
    return record.model_dump_json()


_HEAD_FIELDS = set(RECORD_HEAD_FIELDS)


def record_head(record: AttendanceRecordRedis) -> str:
    """The record's JSON up to, without, its closing brace, holding only its first fields."""
    return record.model_dump_json(include=_HEAD_FIELDS)[:-1]


def parse_record(raw: str | bytes) -> AttendanceRecordRedis:
    return AttendanceRecordRedis.model_validate_json(raw)


_RECORDS = TypeAdapter(list[AttendanceRecordRedis])


def records_json(records: Sequence[AttendanceRecordRedis]) -> bytes:
    """Records as a JSON array in the stored form."""
    return _RECORDS.dump_json(list(records))


def stored_records_json(raw_records: Iterable[str]) -> bytes:
    """Stored records as a JSON array, without parsing them."""
    return ("[" + ",".join(raw_records) + "]").encode()


_TIME_IN_JSON = re.compile(r'"attendance_time":(?:null|"([^"]*)")')
_STUDENT_IN_JSON = re.compile(r'"student_number":"([^"]*)"')


def raw_roll_order(raw: str) -> tuple[bool, str, str]:
    """The roll's order (attendance time, then student) read from a stored record without
    parsing it: times are written in one fixed-width form, so they sort as text."""
    time_match = _TIME_IN_JSON.search(raw)
    moment = time_match.group(1) if time_match else None
    student = _STUDENT_IN_JSON.search(raw)
    return (moment is None, moment or "", student.group(1) if student else "")


def roll_order(record: AttendanceRecordRedis) -> tuple[bool, datetime | None, str]:
    return (record.attendance_time is None, record.attendance_time, record.student_number)


# --- audit entries -------------------------------------------------------------------------


def audit_json(entry: AuditEntry) -> str:
    return entry.model_dump_json()


def parse_audit(raw: str | bytes) -> AuditEntry:
    return AuditEntry.model_validate_json(raw)


# --- lessons -------------------------------------------------------------------------------


def address_bits(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """An address as the join script compares it: `4:` or `6:` and all its bits."""
    width = 32 if address.version == 4 else 128
    return f"{address.version}:{int(address):0{width}b}"


def network_bits(network: str) -> str:
    """A network as the join script compares it: `4:` or `6:` and its prefix bits, so that
    "address inside network" is "the address's bits start with the network's"."""
    parsed = ipaddress.ip_network(network, strict=False)
    width = 32 if parsed.version == 4 else 128
    bits = f"{int(parsed.network_address):0{width}b}"[: parsed.prefixlen]
    return f"{parsed.version}:{bits}"


# The lesson hash's counter of each status.
COUNT_FIELDS = {status.value: f"count_{status.value}" for status in RecordStatus}


def has_counts(fields: dict[str, str]) -> bool:
    """Whether a stored lesson keeps its counters (one stored before them does not)."""
    return COUNT_FIELDS[RecordStatus.PRESENT.value] in fields


def counts_from_hash(
    fields: dict[str, str], raw_records: Iterable[str | bytes] | None = None
) -> Counts:
    """The lesson's counters; for a lesson without them, its records counted (`raw_records`),
    or zeros when they were not read."""
    if has_counts(fields):
        return Counts(**{status: int(fields[name]) for status, name in COUNT_FIELDS.items()})
    return Counts.of(record_status(raw) for raw in raw_records or ())


def lesson_to_hash(lesson: LessonRedis, *, has_roster: bool = False) -> dict[str, str]:
    options = set(lesson.security)
    late_after = lesson.late_after_minutes
    fields = {
        "lesson_id": lesson.lesson_id,
        "lesson_name": lesson.lesson_name,
        "teacher_school_number": lesson.teacher_school_number,
        "teacher_full_name": lesson.teacher_full_name,
        "start_ms": str(to_ms(lesson.start_time)),
        "end_ms": str(to_ms(lesson.end_time)),
        "status": lesson.status.value,
        **{name: str(getattr(lesson.counts, status)) for status, name in COUNT_FIELDS.items()},
        "version": "0",
        "security": ",".join(option.value for option in lesson.security),
        "allowed_subnets": ",".join(lesson.allowed_subnets),
        # what the join script reads: flags, network prefixes as bit strings, milliseconds
        "sec_code": "1" if SecurityOption.CODE in options else "0",
        "sec_network": "1" if SecurityOption.NETWORK in options else "0",
        "sec_device": "1" if SecurityOption.DEVICE in options else "0",
        "sec_verification": "1" if SecurityOption.VERIFICATION in options else "0",
        "networks": ",".join(network_bits(subnet) for subnet in lesson.allowed_subnets),
        "late_after_ms": "" if late_after is None else str(late_after * 60_000),
        "has_roster": "1" if has_roster else "0",
    }
    if lesson.room is not None:
        fields["room"] = lesson.room
    if lesson.finished_at is not None:
        fields["finished_ms"] = str(to_ms(lesson.finished_at))
    return fields


def lesson_from_hash(
    fields: dict[str, str], raw_records: Iterable[str | bytes] | None = None
) -> LessonRedis:
    finished_ms = fields.get("finished_ms")
    late_after = fields.get("late_after_ms")
    return LessonRedis(
        lesson_id=fields["lesson_id"],
        lesson_name=fields["lesson_name"],
        teacher_school_number=fields["teacher_school_number"],
        teacher_full_name=fields["teacher_full_name"],
        start_time=from_ms(int(fields["start_ms"])),
        end_time=from_ms(int(fields["end_ms"])),
        status=LessonStatus(fields["status"]),
        finished_at=from_ms(int(finished_ms)) if finished_ms else None,
        counts=counts_from_hash(fields, raw_records),
        security=tuple(
            SecurityOption(option) for option in fields.get("security", "").split(",") if option
        ),
        allowed_subnets=tuple(
            item for item in fields.get("allowed_subnets", "").split(",") if item
        ),
        late_after_minutes=int(late_after) // 60_000 if late_after else None,
        # lessons stored before rooms existed have none
        room=fields.get("room") or None,
    )


# --- the word index of the looser search ---------------------------------------------------

WORD_SEPARATOR = "\x00"


class WordKind(StrEnum):
    """Whose name a word index entry's word is from."""

    LESSON = "n:"
    TEACHER = "t:"


def word_entries(lesson_id: str, lesson_name: str, teacher_full_name: str) -> list[str]:
    """The word index's members for a lesson: one per word of its folded name and of its
    teacher's."""
    return [
        f"{kind.value}{word}{WORD_SEPARATOR}{lesson_id}"
        for kind, name in ((WordKind.LESSON, lesson_name), (WordKind.TEACHER, teacher_full_name))
        for word in name_words(name)
    ]


def word_range(kind: WordKind, prefix: str) -> tuple[bytes, bytes]:
    """The ZRANGEBYLEX bounds of every entry of `kind` whose word starts with `prefix`
    (folded): from the prefix itself to just below the prefix followed by byte 0xFF, which no
    UTF-8 text holds."""
    raw = (kind.value + prefix).encode()
    return b"[" + raw, b"(" + raw + b"\xff"


def entry_lesson_id(entry: str) -> str:
    return entry.rpartition(WORD_SEPARATOR)[2]


# --- verifications -------------------------------------------------------------------------

VERIFICATION_SUFFIX_HEX = 16
_VERIFICATION_ID = re.compile(r"^[0-9a-f]{48}$")


def new_verification_id(lesson_id: str) -> str:
    return lesson_id + secrets.token_hex(VERIFICATION_SUFFIX_HEX // 2)


def verification_lesson_id(verification_id: str) -> str | None:
    """The lesson a verification id belongs to; None when it is not such an id."""
    if _VERIFICATION_ID.fullmatch(verification_id) is None:
        return None
    lesson_id = verification_id[:-VERIFICATION_SUFFIX_HEX]
    return lesson_id if LESSON_ID_RE.fullmatch(lesson_id) else None


class VerificationState(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"


@dataclass(frozen=True, slots=True)
class Verification:
    """A check-in waiting for (or answered by) the verifier: whose, and the status it gets
    when verified (present or late, as decided at the join)."""

    student_number: str
    status_if_verified: str
    state: VerificationState

    def encode(self) -> str:
        return f"{self.student_number}|{self.status_if_verified}|{self.state.value}"

    @classmethod
    def parse(cls, value: str) -> Verification:
        student_number, status, state = value.split("|")
        return cls(student_number, status, VerificationState(state))

    def answered(self) -> Verification:
        return Verification(
            self.student_number, self.status_if_verified, VerificationState.ANSWERED
        )


# --- the teacher's active-lesson claim -----------------------------------------------------


def claim_value(lesson_id: str, claimed_at: datetime) -> str:
    return f"{lesson_id}|{to_ms(claimed_at)}"


def parse_claim(value: str) -> tuple[str, int]:
    """(lesson id, claimed at in ms) of a claim."""
    lesson_id, _, claimed_ms = value.partition("|")
    return lesson_id, int(claimed_ms or 0)


# --- sessions and refresh tokens -----------------------------------------------------------


def session_json(session: UserSessionRedis) -> str:
    return session.model_dump_json()


def parse_session(raw: str | bytes) -> UserSessionRedis:
    return UserSessionRedis.model_validate_json(raw)


def refresh_token_json(refresh: RefreshTokenRedis) -> str:
    return refresh.model_dump_json()


def parse_refresh_token(raw: str | bytes) -> RefreshTokenRedis:
    return RefreshTokenRedis.model_validate_json(raw)


# --- SAML sign-in state --------------------------------------------------------------------


def saml_pending_json(pending: SamlPending) -> str:
    return pending.model_dump_json()


def parse_saml_pending(raw: str | bytes) -> SamlPending:
    return SamlPending.model_validate_json(raw)


def saml_handover_json(handover: SamlHandover) -> str:
    return handover.model_dump_json()


def parse_saml_handover(raw: str | bytes) -> SamlHandover:
    return SamlHandover.model_validate_json(raw)


# --- lessons the sweep set aside -----------------------------------------------------------


def held_json(held: HeldLesson) -> str:
    return held.model_dump_json()


def parse_held(raw: str | bytes) -> HeldLesson:
    return HeldLesson.model_validate_json(raw)


@dataclass(frozen=True, slots=True)
class ProjectorLinkState:
    """Which of a lesson's projector links is the current one, and whether it was revoked."""

    generation: int
    revoked: bool


def parse_projector_link(fields: dict[str, str]) -> ProjectorLinkState:
    """The stored projector link hash; no hash (no link was ever made or revoked) is link 0."""
    return ProjectorLinkState(
        generation=int(fields.get("generation", "0")), revoked=fields.get("revoked") == "1"
    )


# --- a started OIDC sign-in ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OidcPending:
    """What an OIDC sign-in's start keeps under its state until the callback takes it: the
    ID token's expected nonce, the PKCE verifier, where to go after, and "remember"."""

    nonce: str
    verifier: str
    target: str
    remember: bool


_OIDC_PENDING = TypeAdapter(OidcPending)


def dump_oidc_pending(pending: OidcPending) -> str:
    return _OIDC_PENDING.dump_json(pending).decode()


def load_oidc_pending(raw: str | bytes) -> OidcPending:
    return _OIDC_PENDING.validate_json(raw)
