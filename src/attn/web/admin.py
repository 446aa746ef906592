"""The administrator's pages: the accounts (found by number or name, of a role, active or
not, a page at a time), one account (its name and role changed, a password set or a one-time
password made, deactivated or reactivated), a new account, an import of many from a CSV file
(previewed row by row, then confirmed and checked again: all rows or none), and the audit of
every change in words. Imports `attn.services.administration` for the work, like the admin API.

A one-time password is shown once, on the answer to the form that made it (never stored in
plain text, never in a URL; every page is `Cache-Control: no-store`). The password form carries
the id of the account's newest audit entry: a form sent again (a reload of that answer) finds
a newer one and changes nothing (`AccountChanged`), so a reload shows no password either.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, ValidationError

from attn.errors import (
    AccountChanged,
    AttnError,
    BrokenRule,
    InvalidRequest,
    InvalidUser,
    RosterProblem,
    UserExists,
)
from attn.http.deps import Context
from attn.http.errors import status_of
from attn.http.schemas import AdminUserIn
from attn.models import DisplayName, Password, Role, SchoolNumber, UserSessionRedis
from attn.services import administration
from attn.services.accounts import ImportCheck
from attn.services.administration import Account, AccountChanges, AuditEntry
from attn.services.context import ServiceContext
from attn.web.form_errors import label_key, rule_text
from attn.web.i18n import translator
from attn.web.render import (
    PageRoute,
    back,
    error_text,
    form_error,
    language,
    render,
    uploaded_text,
)
from attn.web.session import CsrfForm, PageAdmin

router = APIRouter(include_in_schema=False, route_class=PageRoute)

PAGE_SIZE = 25
AUDIT_PAGE_SIZE = 50
ACCOUNT_AUDIT = 10  # the newest changes an account's own page lists
# what an account's page says after a change (`?done=`)
DONE = ("created", "saved", "password_set", "deactivated", "reactivated")
ACTIVE_FILTERS = {"": None, "yes": True, "no": False}

NumberPath = Annotated[SchoolNumber, Path(description="The account's school number.")]
PageQuery = Annotated[int, Query(ge=1, le=10_000)]
Translate = Callable[[str], str]


class EditForm(BaseModel):
    """The account page's name-and-role form (the admin API's rules for each field)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    full_name: DisplayName
    role: Role


class PasswordForm(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    password: Password


def user_url(number: str, **query: str) -> str:
    suffix = f"?{urlencode(query)}" if query else ""
    return f"/admin/users/{quote(number, safe='')}{suffix}"


def _translate(request: Request) -> Translate:
    translate: Translate = translator(language(request))
    return translate


# --- the list ------------------------------------------------------------------------------


@router.get("/admin", response_class=HTMLResponse)
async def users_page(
    request: Request,
    ctx: Context,
    user: PageAdmin,
    q: Annotated[str, Query(max_length=200)] = "",
    role: Annotated[str, Query(max_length=16)] = "",
    active: Annotated[str, Query(max_length=8)] = "",
    page: PageQuery = 1,
) -> HTMLResponse:
    """The accounts matching the search (a school number's start, or words of the name)."""
    error = None
    role_filter = Role(role) if role in tuple(Role) else None
    if role and role_filter is None:
        error = rule_text(_translate(request), BrokenRule("role", "enum", {}, role))
    if active not in ACTIVE_FILTERS:
        error = rule_text(_translate(request), BrokenRule("active", "enum", {}, active))
    found: list[Account] = []
    if error is None:
        found = await administration.find_accounts(
            ctx,
            query=q,
            role=role_filter,
            active=ACTIVE_FILTERS[active],
            limit=PAGE_SIZE + 1,
            offset=(page - 1) * PAGE_SIZE,
        )
    filters = {"q": q, "role": role, "active": active}
    kept = {key: value for key, value in filters.items() if value}

    def page_url(number: int) -> str:
        return "/admin?" + urlencode({**kept, "page": str(number)})

    return render(
        request,
        "admin.html",
        status_code=200 if error is None else 422,
        user=user,
        accounts=found[:PAGE_SIZE],
        filters=filters,
        searched=bool(kept),
        error=error,
        page=page,
        previous_url=page_url(page - 1) if page > 1 else None,
        next_url=page_url(page + 1) if len(found) > PAGE_SIZE else None,
        user_url=user_url,
        roles=list(Role),
    )


# --- a new account -------------------------------------------------------------------------


@router.get("/admin/users/new", response_class=HTMLResponse)
async def new_user_page(request: Request, user: PageAdmin) -> HTMLResponse:
    return _new_user_form(request, user, {})


def _new_user_form(
    request: Request,
    user: UserSessionRedis,
    form: dict[str, str],
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "admin_new.html",
        status_code=status_code,
        user=user,
        form=form,
        error=error,
        roles=list(Role),
    )


@router.post("/admin/users/new", response_class=HTMLResponse)
async def create_user(request: Request, ctx: Context, user: PageAdmin, form: CsrfForm) -> Response:
    """Create an account with a one-time password (shown on the answer only), a password the
    administrator typed, or none (single sign-on only)."""
    mode = form.get("password_mode", "generate")
    try:
        if mode not in ("generate", "set", "none"):
            raise InvalidRequest().with_rule(BrokenRule("password_mode", "enum", {}, mode))
        password: str | None = None
        if mode == "generate":
            password = administration.one_time_password()
        elif mode == "set":
            password = form.get("password", "")
        fields = {key: form.get(key, "") for key in ("school_number", "full_name", "role")}
        entry = AdminUserIn.model_validate({**fields, "password": password})
        account = await administration.create_account(
            ctx,
            actor=user.school_number,
            school_number=entry.school_number,
            full_name=entry.full_name,
            role=entry.role,
            password=entry.password,
        )
    except ValidationError as exc:
        return _new_user_form(request, user, form, error=form_error(request, exc), status_code=422)
    except AttnError as exc:
        # a taken number in the catalogue's words (the service's name the number)
        taken = isinstance(exc, UserExists)
        message = _translate(request)("err_user_exists") if taken else error_text(request, exc)
        return _new_user_form(request, user, form, error=message, status_code=status_of(exc))
    if mode != "generate":
        return back(user_url(account.school_number, done="created"))
    return render(
        request,
        "admin_password.html",
        user=user,
        account=account,
        one_time_password=password,
        created=True,
        user_url=user_url,
    )


# --- one account ---------------------------------------------------------------------------


async def _newest_change(ctx: ServiceContext, number: str) -> int:
    """The id of the account's newest audit entry (0 for none): what a form was opened at."""
    newest = await administration.audit_log(ctx, target=number, limit=1)
    return newest[0].id if newest else 0


async def _account_page(
    request: Request,
    ctx: ServiceContext,
    user: UserSessionRedis,
    number: str,
    *,
    done: str | None = None,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """An account's page; `errors` by the form they belong to (edit, password, active)."""
    account = await administration.get_account(ctx, number)
    changes = await administration.audit_log(ctx, target=number, limit=ACCOUNT_AUDIT)
    translate = _translate(request)
    return render(
        request,
        "admin_user.html",
        status_code=status_code,
        user=user,
        account=account,
        done=done if done in DONE else None,
        errors=errors or {},
        form=form or {},
        version=changes[0].id if changes else 0,
        changes=[(entry, audit_lines(translate, entry)) for entry in changes],
        actor_text=lambda actor: actor_text(translate, actor),
        action_text=lambda action: action_text(translate, action),
        roles=list(Role),
        user_url=user_url,
        is_self=account.school_number == user.school_number,
    )


@router.get("/admin/users/{school_number}", response_class=HTMLResponse)
async def user_page(
    request: Request,
    ctx: Context,
    user: PageAdmin,
    school_number: NumberPath,
    done: Annotated[str | None, Query(max_length=16)] = None,
) -> HTMLResponse:
    return await _account_page(request, ctx, user, school_number, done=done)


async def _refused(
    request: Request,
    ctx: ServiceContext,
    user: UserSessionRedis,
    number: str,
    which: str,
    exc: AttnError | ValidationError,
    form: dict[str, str],
) -> HTMLResponse:
    """The account's page again, the refusal said on the form that was sent."""
    if isinstance(exc, ValidationError):
        message, status = form_error(request, exc), 422
    else:
        message, status = error_text(request, exc), status_of(exc)
    return await _account_page(
        request, ctx, user, number, errors={which: message}, form=form, status_code=status
    )


@router.post("/admin/users/{school_number}", response_class=HTMLResponse)
async def edit_user(
    request: Request, ctx: Context, user: PageAdmin, school_number: NumberPath, form: CsrfForm
) -> Response:
    """A new name or role (a new role ends the account's sessions at once)."""
    try:
        edit = EditForm.model_validate(form)
        before = await administration.get_account(ctx, school_number)
        await administration.change_account(
            ctx,
            actor=user.school_number,
            school_number=school_number,
            changes=AccountChanges(
                full_name=edit.full_name if edit.full_name != before.full_name else None,
                role=edit.role if edit.role is not before.role else None,
            ),
        )
    except (AttnError, ValidationError) as exc:
        return await _refused(request, ctx, user, school_number, "edit", exc, form)
    return back(user_url(school_number, done="saved"))


@router.post("/admin/users/{school_number}/password", response_class=HTMLResponse)
async def set_password(
    request: Request, ctx: Context, user: PageAdmin, school_number: NumberPath, form: CsrfForm
) -> Response:
    """Set the password the administrator typed, or make a one-time password and show it
    once, here; either ends the account's sessions at once."""
    generate = form.get("password_mode", "generate") != "set"
    try:
        if form.get("version", "") != str(await _newest_change(ctx, school_number)):
            raise AccountChanged
        if generate:
            password = administration.one_time_password()
        else:
            password = PasswordForm.model_validate(form).password
        account = await administration.change_account(
            ctx,
            actor=user.school_number,
            school_number=school_number,
            changes=AccountChanges(password=password),
        )
    except (AttnError, ValidationError) as exc:
        # the typed password is never sent back into the form
        kept = {key: value for key, value in form.items() if key != "password"}
        return await _refused(request, ctx, user, school_number, "password", exc, kept)
    if not generate:
        return back(user_url(school_number, done="password_set"))
    return render(
        request,
        "admin_password.html",
        user=user,
        account=account,
        one_time_password=password,
        created=False,
        user_url=user_url,
    )


@router.post("/admin/users/{school_number}/active", response_class=HTMLResponse)
async def set_active(
    request: Request, ctx: Context, user: PageAdmin, school_number: NumberPath, form: CsrfForm
) -> Response:
    """Deactivate (which signs the account out everywhere at once) or reactivate it."""
    try:
        if form.get("active") not in ("0", "1"):
            raise InvalidRequest().with_rule(
                BrokenRule("active", "enum", {}, form.get("active", ""))
            )
        active = form["active"] == "1"
        await administration.change_account(
            ctx,
            actor=user.school_number,
            school_number=school_number,
            changes=AccountChanges(active=active),
        )
    except AttnError as exc:
        return await _refused(request, ctx, user, school_number, "active", exc, form)
    return back(user_url(school_number, done="reactivated" if active else "deactivated"))


# --- import --------------------------------------------------------------------------------


def problem_text(translate: Translate, lang: str, problem: RosterProblem) -> str:
    """One problem of an import file in words (its line is in a column of its own)."""
    if problem.kind == "invalid":
        field, _, detail = problem.message.partition(": ")
        label = translate(label_key(field))
        if lang == "en" and detail:
            return f"{label}: {detail}."
        return translate("val_invalid").format(field=label)
    texts = {
        "columns": translate("adm_problem_columns"),
        "duplicate": translate("adm_problem_duplicate"),
        "exists": translate("adm_problem_exists"),
        "header": translate("adm_problem_header"),
        "empty": translate("adm_problem_empty"),
        "encoding": translate("adm_problem_encoding"),
    }
    return texts.get(problem.kind, translate("adm_problem_other")).format(value=problem.value)


async def _uploaded_text(request: Request, form: dict[str, str]) -> str:
    """The CSV of the import form: the chosen file, else the pasted text."""
    text = await uploaded_text(request, form)
    if text is None:
        problem = RosterProblem(0, "encoding", "", "The file must be UTF-8 text.")
        raise InvalidUser(problem.message, [problem])
    return text


@router.get("/admin/import", response_class=HTMLResponse)
async def import_page(
    request: Request,
    user: PageAdmin,
    imported: Annotated[int | None, Query(ge=0, le=1_000_000)] = None,
    claimed: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> HTMLResponse:
    notice = None
    if imported is not None:
        notice = _translate(request)("adm_imported").format(n=imported, claimed=claimed)
    return render(request, "admin_import.html", user=user, notice=notice, csv_text="")


def _preview(
    request: Request,
    user: UserSessionRedis,
    check: ImportCheck,
    csv_text: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    translate, lang = _translate(request), language(request)
    claimed = set(check.claimed)
    return render(
        request,
        "admin_import_preview.html",
        status_code=422 if check.problems else status_code,
        user=user,
        created=[entry for entry in check.entries if entry.school_number not in claimed],
        claimed=[entry for entry in check.entries if entry.school_number in claimed],
        problems=[
            (problem.line, problem_text(translate, lang, problem)) for problem in check.problems
        ],
        csv_b64=base64.b64encode(csv_text.encode()).decode(),
        csv_text=csv_text,
        error=error,
    )


def _refused_file(request: Request, user: UserSessionRedis, exc: AttnError) -> HTMLResponse:
    """An import refused as a whole (not UTF-8, a broken confirmation): the import form."""
    if isinstance(exc, InvalidUser) and exc.problems:
        translate, lang = _translate(request), language(request)
        message = "; ".join(problem_text(translate, lang, p) for p in exc.problems)
    else:
        message = error_text(request, exc)
    return render(
        request, "admin_import.html", 422, user=user, notice=None, error=message, csv_text=""
    )


@router.post("/admin/import/preview", response_class=HTMLResponse)
async def import_preview(
    request: Request, ctx: Context, user: PageAdmin, form: CsrfForm
) -> Response:
    """What the file would do, row by row: the accounts created, the students claimed, and
    every bad or taken row. Nothing is stored."""
    try:
        csv_text = await _uploaded_text(request, form)
    except AttnError as exc:
        return _refused_file(request, user, exc)
    return _preview(request, user, await administration.check_import(ctx, csv_text), csv_text)


@router.post("/admin/import", response_class=HTMLResponse)
async def import_confirm(
    request: Request, ctx: Context, user: PageAdmin, form: CsrfForm
) -> Response:
    """The confirmation of a preview: its file checked again and imported, all rows or none;
    the preview again, with what is wrong now, when any row fails."""
    try:
        csv_text = base64.b64decode(form.get("csv_b64", ""), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return _refused_file(request, user, InvalidUser())
    try:
        check = await administration.import_accounts(ctx, actor=user.school_number, text=csv_text)
    except AttnError as exc:
        again = await administration.check_import(ctx, csv_text)
        error = error_text(request, exc) if not again.problems else None
        return _preview(request, user, again, csv_text, error=error, status_code=status_of(exc))
    query = urlencode({"imported": len(check.entries), "claimed": len(check.claimed)})
    return back(f"/admin/import?{query}")


# --- the audit -----------------------------------------------------------------------------


def _state(value: str | None) -> dict[str, Any]:
    parsed = json.loads(value) if value else {}
    return parsed if isinstance(parsed, dict) else {}


def audit_lines(translate: Translate, entry: AuditEntry) -> list[str]:
    """What an entry changed, one line a field: "role: teacher → student", "active: yes →
    no", "password set"; for a new account what it was made with."""
    roles = {
        "teacher": translate("role_teacher"),
        "student": translate("role_student"),
        "admin": translate("role_admin"),
    }
    yes, no, none = translate("adm_yes"), translate("adm_no"), translate("adm_none")
    labels = {
        "full_name": translate("adm_change_name"),
        "role": translate("adm_change_role"),
        "active": translate("adm_change_active"),
        "has_password": translate("adm_change_password"),
        "sso_provider": translate("adm_change_sso"),
    }

    def shown(field: str, value: Any) -> str:
        if field == "role":
            return roles.get(str(value), str(value))
        if isinstance(value, bool):
            return yes if value else no
        return none if value in (None, "") else str(value)

    before, after = _state(entry.before), _state(entry.after)
    password_set = after.get("password") == "set"
    lines = []
    for field, label in labels.items():
        if field == "has_password" and password_set:
            continue
        if field not in after:
            continue
        if not before:
            if after[field] is not None:  # a new account's missing single sign-on goes unsaid
                lines.append(f"{label}: {shown(field, after[field])}")
        elif before.get(field) != after[field]:
            old, new = shown(field, before.get(field)), shown(field, after[field])
            lines.append(f"{label}: {old} → {new}")
    if password_set:
        lines.append(translate("adm_password_set"))
    return lines


def actor_text(translate: Translate, actor: str) -> str:
    """Who made a change: an administrator's school number, or the `attn users` command."""
    return translate("adm_actor_cli") if actor.split(":")[0] == "cli" else actor


def action_text(translate: Translate, action: str) -> str:
    texts = {
        "create": translate("adm_action_create"),
        "update": translate("adm_action_update"),
        "import": translate("adm_action_import"),
    }
    return texts.get(action, action)


@router.get("/admin/audit", response_class=HTMLResponse)
async def audit_page(
    request: Request,
    ctx: Context,
    user: PageAdmin,
    number: Annotated[SchoolNumber | None, Query()] = None,
    page: PageQuery = 1,
) -> HTMLResponse:
    """Every change of an account, newest first: who, when, what, before → after."""
    entries: Sequence[AuditEntry] = await administration.audit_log(
        ctx, target=number, limit=AUDIT_PAGE_SIZE + 1, offset=(page - 1) * AUDIT_PAGE_SIZE
    )
    translate = _translate(request)
    kept = {"number": number} if number else {}

    def page_url(at: int) -> str:
        return "/admin/audit?" + urlencode({**kept, "page": str(at)})

    return render(
        request,
        "admin_audit.html",
        user=user,
        number=number,
        changes=[(entry, audit_lines(translate, entry)) for entry in entries[:AUDIT_PAGE_SIZE]],
        actor_text=lambda actor: actor_text(translate, actor),
        action_text=lambda action: action_text(translate, action),
        previous_url=page_url(page - 1) if page > 1 else None,
        next_url=page_url(page + 1) if len(entries) > AUDIT_PAGE_SIZE else None,
        user_url=user_url,
    )
