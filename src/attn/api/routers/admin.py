"""`/admin`: an administrator's accounts and the audit of every change to them."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from attn.errors import InvalidUser, RosterProblem
from attn.http.deps import Context, CurrentAdmin, Limit, Offset
from attn.http.errors import error_responses
from attn.http.schemas import (
    AdminAuditOut,
    AdminImportOut,
    AdminUserIn,
    AdminUserOut,
    AdminUserPatch,
)
from attn.models import Role, SchoolNumber
from attn.services import administration
from attn.services.administration import Account, AccountChanges

router = APIRouter(prefix="/admin", tags=["admin"])

TargetNumber = Annotated[SchoolNumber, Path(description="The account's school number.")]


def _out(account: Account) -> AdminUserOut:
    return AdminUserOut(
        school_number=account.school_number,
        full_name=account.full_name,
        role=account.role,
        active=account.active,
        has_password=account.has_password,
        sso=account.sso,
        created_at=account.created_at,
        last_login_at=account.last_login_at,
    )


@router.get("/users", responses=error_responses(401, 403, 422))
async def list_users(
    ctx: Context,
    admin: CurrentAdmin,
    query: Annotated[
        str,
        Query(
            max_length=200,
            description="The start of a school number, or words that start words of the name "
            "(Turkish letters folded: `sukru` finds Şükrü).",
        ),
    ] = "",
    role: Role | None = None,
    active: bool | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[AdminUserOut]:
    """Accounts by school number, matching the query, role and activity when given."""
    found = await administration.find_accounts(
        ctx, query=query, role=role, active=active, limit=limit, offset=offset
    )
    return [_out(account) for account in found]


@router.get("/users/{school_number}", responses=error_responses(401, 403, 404, 422))
async def get_user(ctx: Context, admin: CurrentAdmin, school_number: TargetNumber) -> AdminUserOut:
    return _out(await administration.get_account(ctx, school_number))


@router.post("/users", status_code=201, responses=error_responses(401, 403, 409, 422))
async def create_user(ctx: Context, admin: CurrentAdmin, body: AdminUserIn) -> AdminUserOut:
    """Create an account (or claim a student known only from a roster: 201 as well); 409
    `user_exists` when the number is taken. Without `password` it signs in by single sign-on
    only."""
    account = await administration.create_account(
        ctx,
        actor=admin.school_number,
        school_number=body.school_number,
        full_name=body.full_name,
        role=body.role,
        password=body.password,
    )
    return _out(account)


@router.patch("/users/{school_number}", responses=error_responses(401, 403, 404, 409, 422))
async def change_user(
    ctx: Context, admin: CurrentAdmin, school_number: TargetNumber, body: AdminUserPatch
) -> AdminUserOut:
    """Change an account. Deactivating it, changing its role or setting its password ends its
    session and remembered devices at once (their next request is 401). 409 `last_admin` when
    it would leave no active administrator."""
    account = await administration.change_account(
        ctx,
        actor=admin.school_number,
        school_number=school_number,
        changes=AccountChanges(
            full_name=body.full_name, role=body.role, active=body.active, password=body.password
        ),
    )
    return _out(account)


@router.post(
    "/users/import",
    responses=error_responses(401, 403, 409, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "school_number,full_name,role,password\n"
                    "S2001,Elif Kaya,student,first-password\n",
                }
            },
        }
    },
)
async def import_users(
    ctx: Context,
    admin: CurrentAdmin,
    request: Request,
    response: Response,
    dry_run: Annotated[
        bool, Query(description="Check every row and say what would happen; change nothing.")
    ] = False,
) -> AdminImportOut:
    """Create (or claim) every account of a CSV `school_number,full_name,role,password` (an
    empty password: single sign-on only), all rows or none: any bad or taken row is a 422
    whose `details` list every bad row with its line. 200 with what was imported."""
    body = await request.body()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        problem = RosterProblem(0, "encoding", "", "The file must be UTF-8 text.")
        raise InvalidUser(problem.message, [problem]) from None
    if dry_run:
        check = await administration.check_import(ctx, text)
        check.raise_for_problems()
    else:
        check = await administration.import_accounts(ctx, actor=admin.school_number, text=text)
    return AdminImportOut(
        imported=0 if dry_run else len(check.entries),
        claimed=check.claimed,
        school_numbers=[entry.school_number for entry in check.entries],
        dry_run=dry_run,
    )


def _parsed(value: str | None) -> dict[str, Any] | None:
    return None if value is None else json.loads(value)


@router.get("/audit", responses=error_responses(401, 403, 422))
async def audit(
    ctx: Context,
    admin: CurrentAdmin,
    target: Annotated[
        SchoolNumber | None, Query(description="Only the changes of this account.")
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[AdminAuditOut]:
    """Every administrator's change of an account, newest first: who, when, what, and the
    account before and after (never a password: `"password": "set"` says one was set)."""
    entries = await administration.audit_log(ctx, target=target, limit=limit, offset=offset)
    return [
        AdminAuditOut(
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            target=entry.target,
            before=_parsed(entry.before),
            after=_parsed(entry.after),
        )
        for entry in entries
    ]
