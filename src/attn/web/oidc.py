"""Sign-in through the OpenID Connect provider, the pages' half: the sign-in form's button
posts to `/sso/oidc/start`, which sends the browser to the provider; the provider sends it
back to `/sso/oidc/callback`, which checks the answer (`attn.services.oidc`) and opens an
ordinary session (`auth.sign_in_external`) with the cookies of a password sign-in.

The routes and the button exist only when `ATTN_OIDC_ISSUER` is set. The redirect URI is
`<ATTN_PUBLIC_URL>/sso/oidc/callback` (the configured public URL, never a request's Host
header: it must be the one registered at the provider). A refused callback answers a page
saying, in the page's language, that signing in through the provider failed, with a link back
to the sign-in page; the reason is logged. Imports `attn.http`, `attn.services`, `attn.web`'s
`session` and `render`, and the errors and settings.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from attn.config import Settings
from attn.errors import AttnError
from attn.http.deps import DEVICE_COOKIE, address_of, context_of
from attn.services import auth, oidc
from attn.services.oidc import OidcProvider
from attn.web.render import PageRoute
from attn.web.session import (
    SignInOption,
    external_sign_in_refused,
    external_sign_in_start,
    finish_external_sign_in,
)

log = logging.getLogger("attn.oidc")

router = APIRouter(include_in_schema=False, route_class=PageRoute)

START_PATH = "/sso/oidc/start"
CALLBACK_PATH = "/sso/oidc/callback"


def install(app: FastAPI, settings: Settings) -> None:
    """With `ATTN_OIDC_ISSUER` set: the routes, the provider (its caches live as long as the
    app) and the sign-in page's button, whose form may be sent on to the issuer's origin."""
    if not settings.OIDC_ISSUER:
        return
    app.state.oidc_provider = OidcProvider(settings)
    parts = urlsplit(settings.OIDC_ISSUER)
    app.state.sign_in_options.append(
        SignInOption(
            provider=oidc.PROVIDER,
            label=settings.OIDC_PROVIDER_NAME,
            path=START_PATH,
            origins=(f"{parts.scheme}://{parts.netloc}",),
        )
    )
    app.include_router(router)


def _provider(request: Request) -> OidcProvider:
    provider: OidcProvider = request.app.state.oidc_provider
    return provider


def redirect_uri(request: Request) -> str:
    return f"{context_of(request).settings.public_url}{CALLBACK_PATH}"


@router.post(START_PATH, response_class=HTMLResponse)
async def oidc_start(request: Request) -> Response:
    """From the sign-in form: check its CSRF token, keep the sign-in's state, go to the provider."""
    form = await request.form()
    target = "/"
    try:
        target, remember = external_sign_in_start(request, form)
        url = await oidc.start(
            context_of(request),
            _provider(request),
            redirect_uri=redirect_uri(request),
            target=target,
            remember=remember,
        )
    except AttnError as exc:
        log.warning("oidc: sign-in not started: %s", exc.message)
        return await external_sign_in_refused(
            request, exc, provider=_provider(request).label, target=target
        )
    return RedirectResponse(url, status_code=303)


@router.get(CALLBACK_PATH, response_class=HTMLResponse)
async def oidc_callback(request: Request) -> Response:
    """The provider's answer: checked once, then signed in and on to where the sign-in began."""
    ctx = context_of(request)
    query = request.query_params
    provider = _provider(request)
    error = query.get("error", "")
    try:
        finished = await oidc.finish(
            ctx,
            provider,
            state=query.get("state", ""),
            code=query.get("code", ""),
            error=error,
            issuer=query.get("iss", ""),
            redirect_uri=redirect_uri(request),
        )
        result = await auth.sign_in_external(
            ctx,
            provider=oidc.PROVIDER,
            identity=finished.identity,
            client=address_of(request),
            device_id=request.cookies.get(DEVICE_COOKIE),
            remember_device=finished.remember,
        )
    except AttnError as exc:
        log.warning("oidc: sign-in refused (%s): %s", exc.code, exc.message)
        said = oidc.provider_error(error) if error else ""
        return await external_sign_in_refused(
            request, exc, provider=provider.label, provider_said=said
        )
    return await finish_external_sign_in(request, result, finished.target)
