"""The administrators' page of LTI 1.3 platforms, `/admin/lti`: the URLs a platform's
administrator pastes (the login, launch and keys URLs, and a one-time Dynamic Registration
URL), the registered platforms, a form to register one by hand and a button to remove one.
Imports `attn.http`, `attn.services` and `attn.web`'s `session` and `render`."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from attn.config import Settings
from attn.http.deps import Context
from attn.services import lti
from attn.web.i18n import translator
from attn.web.render import PageRoute, language, render
from attn.web.session import CsrfForm, PageAdmin

router = APIRouter(include_in_schema=False, route_class=PageRoute)


def install(app: FastAPI, settings: Settings) -> None:
    if settings.LTI_ENABLED:
        app.include_router(router)


async def _page(
    request: Request,
    ctx: Context,
    user: PageAdmin,
    *,
    registration_url: str = "",
    error: str = "",
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "lti_admin.html",
        status_code=status_code,
        user=user,
        platforms=await lti.list_platforms(ctx),
        urls=lti.ToolUrls(ctx.settings.public_url),
        registration_url=registration_url,
        error=error,
        form=form or {},
    )


@router.get("/admin/lti", response_class=HTMLResponse)
async def lti_admin_page(request: Request, ctx: Context, user: PageAdmin) -> HTMLResponse:
    return await _page(request, ctx, user)


@router.post("/admin/lti/registration-url", response_class=HTMLResponse)
async def lti_registration_url(
    request: Request, ctx: Context, user: PageAdmin, form: CsrfForm
) -> HTMLResponse:
    """A new one-time Dynamic Registration URL, shown once."""
    url = await lti.new_registration_url(ctx)
    return await _page(request, ctx, user, registration_url=url)


@router.post("/admin/lti/platforms", response_class=HTMLResponse)
async def lti_add_platform(
    request: Request, ctx: Context, user: PageAdmin, form: CsrfForm
) -> Response:
    try:
        await lti.add_platform(
            ctx,
            issuer=form.get("issuer", ""),
            client_id=form.get("client_id", ""),
            auth_login_url=form.get("auth_login_url", ""),
            auth_token_url=form.get("auth_token_url", ""),
            keyset_url=form.get("keyset_url", ""),
            deployment_ids=form.get("deployment_ids", "").replace(",", " ").split(),
            name=form.get("name", ""),
            frame_origins=form.get("frame_origins", "").replace(",", " ").split(),
        )
    except ValueError:
        error = translator(language(request))("lti_platform_invalid")
        return await _page(request, ctx, user, error=error, form=form, status_code=422)
    return RedirectResponse("/admin/lti", status_code=303)


@router.post("/admin/lti/platforms/{platform_id}/remove", response_class=HTMLResponse)
async def lti_remove_platform(
    request: Request, ctx: Context, user: PageAdmin, form: CsrfForm, platform_id: int
) -> Response:
    await lti.remove_platform(ctx, platform_id)
    return RedirectResponse("/admin/lti", status_code=303)
