"""`/verifications`: the external verifier's signed answers about pending check-ins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request

from attn.http.deps import Context
from attn.http.errors import error_responses
from attn.http.schemas import RecordOut, VerificationResultOut
from attn.models import VerifierAnswer
from attn.services import verification_service

router = APIRouter(prefix="/verifications", tags=["verification"])


@router.post(
    "/{verification_id}",
    responses=error_responses(401, 404, 409, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": VerifierAnswer.model_json_schema()}},
        }
    },
)
async def verification_result(
    ctx: Context,
    verification_id: str,
    request: Request,
    timestamp: Annotated[
        str | None, Header(alias="X-ATTN-Timestamp", description="Unix time of the signature.")
    ] = None,
    signature: Annotated[
        str | None,
        Header(
            alias="X-ATTN-Signature",
            description="`sha256=` and the hex HMAC-SHA256 of `<id>.<timestamp>.<body>`.",
        ),
    ] = None,
) -> VerificationResultOut:
    """Record the verifier's answer (`verified` or `rejected` with a reason). Refused when
    the signature is wrong, its timestamp is more than five minutes away, or the id was
    already answered; a teacher's decision on the record stands."""
    status, record = await verification_service.apply_result(
        ctx,
        verification_id=verification_id,
        timestamp=timestamp,
        signature=signature,
        body=await request.body(),
    )
    return VerificationResultOut(status=status, record=RecordOut.of(record))
