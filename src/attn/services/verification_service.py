"""External verification of check-ins (for example a face-recognition service).

A join to a lesson with the `verification` option is recorded as `pending` and posted to
`ATTN_VERIFIER_URL`. The verifier answers through the webhook, signed with HMAC-SHA256 (key
`ATTN_VERIFIER_SECRET`) over `<verification id>.<unix timestamp>.<body>`; an answer with a wrong
signature, a timestamp more than five minutes away, or for an id already answered is refused.
A teacher's decision on the record always stands: a later answer only closes the verification.
A pending record still unanswered when its lesson is persisted becomes `rejected` with reason
`verification_timeout`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable

from pydantic import ValidationError

from attn.errors import (
    InvalidRequest,
    InvalidSignature,
    VerificationAlreadyAnswered,
    VerificationNotFound,
)
from attn.models import AttendanceRecordRedis, AuditEntry, RecordStatus, VerifierAnswer
from attn.services.context import ServiceContext
from attn.services.student_service import JoinResult
from attn.services.validation import first_error
from attn.store import formats
from attn.store.redis_client import UpdateOutcome

log = logging.getLogger("attn.verification")

SIGNATURE_HEADER = "X-ATTN-Signature"
TIMESTAMP_HEADER = "X-ATTN-Timestamp"
MAX_SKEW_SECONDS = 300
_RETRY_DELAYS = (0.5, 2.0, 5.0)


def sign(secret: str, verification_id: str, timestamp: str, body: bytes) -> str:
    message = f"{verification_id}.{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def check_signature(
    secret: str | None,
    verification_id: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: float,
) -> None:
    if not secret or not timestamp or not signature:
        raise InvalidSignature
    try:
        sent = int(timestamp)
    except ValueError:
        raise InvalidSignature from None
    if abs(now - sent) > MAX_SKEW_SECONDS:
        raise InvalidSignature("The signature's timestamp is more than five minutes away.")
    expected = sign(secret, verification_id, timestamp, body)
    if not hmac.compare_digest(expected, signature.strip()):
        raise InvalidSignature


def request_after_join(
    add_task: Callable[..., object], ctx: ServiceContext, result: JoinResult
) -> None:
    """Hand a join that is waiting for its verifier to `add_task` (a background task runner),
    to be posted once the student has their answer; a join that waits for nothing is left."""
    if result.verification_id is not None:
        add_task(
            request_verification,
            ctx,
            verification_id=result.verification_id,
            record_json=result.record_json,
        )


async def request_verification(
    ctx: ServiceContext, *, verification_id: str, record_json: str
) -> bool:
    """Post a pending check-in to the verifier, retrying a few times; True when delivered.

    The verifier answers at `<ATTN_PUBLIC_URL>/api/v1/verifications/<id>`: configured, never
    taken from the student's request, so a student cannot send the verifier elsewhere.
    """
    settings = ctx.settings
    if ctx.http is None or not settings.VERIFIER_URL or not settings.VERIFIER_SECRET:
        return False
    callback_url = f"{settings.public_url}/api/v1/verifications/{verification_id}"
    record = json.loads(record_json)
    body = json.dumps(
        {
            "verification_id": verification_id,
            "lesson_id": record["lesson_id"],
            "student_number": record["student_number"],
            "student_full_name": record["student_full_name"],
            "callback_url": callback_url,
        }
    ).encode()
    for delay in (0.0, *_RETRY_DELAYS):
        await asyncio.sleep(delay)
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(settings.VERIFIER_SECRET, verification_id, timestamp, body),
        }
        try:
            response = await ctx.http.post(settings.VERIFIER_URL, content=body, headers=headers)
        except Exception as exc:
            log.warning("verifier unreachable for %s: %s", verification_id, exc)
            continue
        if response.status_code < 300:
            return True
        log.warning("verifier refused %s: HTTP %s", verification_id, response.status_code)
    return False


async def apply_result(
    ctx: ServiceContext,
    *,
    verification_id: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
) -> tuple[str, AttendanceRecordRedis]:
    """Apply a verifier's signed answer; ('applied' or 'ignored', the record)."""
    check_signature(
        ctx.settings.VERIFIER_SECRET,
        verification_id,
        timestamp,
        signature,
        body,
        ctx.now().timestamp(),
    )
    try:
        result = VerifierAnswer.model_validate_json(body)
    except ValidationError as exc:
        raise InvalidRequest(first_error(exc)) from None
    lesson_id = formats.verification_lesson_id(verification_id)
    if lesson_id is None:
        raise VerificationNotFound
    for _ in range(5):
        verification, raw = await ctx.redis_client.get_verification(lesson_id, verification_id)
        if verification is None or raw is None:
            raise VerificationNotFound
        if verification.state is not formats.VerificationState.OPEN:
            raise VerificationAlreadyAnswered
        student = verification.student_number
        current = formats.parse_record(raw)
        now = ctx.now()
        if current.changed_by is not None or current.status is not RecordStatus.PENDING:
            new, audit, outcome = current, None, "ignored"  # a teacher decided already
        else:
            verified = result.result == "verified"
            status = (
                RecordStatus(verification.status_if_verified) if verified else RecordStatus.REJECTED
            )
            reason = None if verified else (result.reason or "verification_failed")
            new = current.model_copy(update={"status": status, "reason": reason})
            audit = AuditEntry(
                lesson_id=lesson_id,
                student_number=student,
                changed_by=None,
                source="verifier",
                changed_at=now,
                old_status=current.status,
                new_status=status,
                reason=reason,
            )
            outcome = "applied"
        updated = await ctx.redis_client.update_record(
            lesson_id,
            student,
            expected=raw,
            new=raw if new is current else formats.record_json(new),
            audit=audit,
            verification=(verification_id, verification.answered()),
        )
        if updated.outcome is UpdateOutcome.OK:
            return outcome, new
        if updated.outcome is UpdateOutcome.GONE:
            raise VerificationNotFound
    raise VerificationNotFound
