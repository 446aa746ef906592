"""The pages of SAML sign-in: the SP's metadata, the start from the sign-in form, the
assertion consumer service (ACS) and the same-site page that signs the browser in.

The IdP posts its Response to the ACS from its own site (HTTP-POST binding), so that post
carries none of ATTN's cookies (they are SameSite=Lax) and sets none: the ACS verifies the
Response (`attn.services.saml`) and hands over to `/sso/saml/finish`, a GET of this site
(a top-level navigation, which carries the Lax cookies: the phone's device id, the nonce
of the browser that started the sign-in), with a one-time ticket. The ACS takes forms from
other sites (`AcsRoute`); its protection is the signed answer to a request this server issued.
Imports `attn.http` and below.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from attn.config import Settings
from attn.errors import AttnError, SsoRefused
from attn.http.deps import DEVICE_COOKIE, address_of, context_of
from attn.services import saml
from attn.web.render import PageRoute, back, secure_cookies, set_private_cookie
from attn.web.session import (
    SignInOption,
    external_sign_in_refused,
    external_sign_in_start,
    finish_external_sign_in,
)

log = logging.getLogger(__name__)

START_PATH = "/sso/saml/start"
FINISH_PATH = "/sso/saml/finish"
BROWSER_COOKIE = "attn_saml"
COOKIE_PATH = "/sso/saml"


class AcsRoute(PageRoute):
    """The ACS's route class: a page route that takes the IdP's cross-site form post."""

    cross_site_allowed = True


router = APIRouter(include_in_schema=False, route_class=PageRoute)
acs_router = APIRouter(include_in_schema=False, route_class=AcsRoute)


def install(app: FastAPI, settings: Settings) -> None:
    """With `ATTN_SAML_IDP_METADATA` set: the SAML routes and the sign-in page's button."""
    if not settings.SAML_IDP_METADATA:
        return
    app.state.saml_provider = saml.ServiceProvider(settings)
    app.include_router(router)
    app.include_router(acs_router)
    app.state.sign_in_options.append(
        SignInOption(
            provider=saml.PROVIDER,
            label=settings.SAML_PROVIDER_NAME,
            path=START_PATH,
            origins=saml.sso_origins(settings),
        )
    )


async def _refused(request: Request, exc: AttnError, target: str = "/") -> Response:
    """The sign-in page saying the sign-in failed. Which check refused it goes to the log:
    the page says only that signing in through the IdP failed, or that it cannot be reached
    (an SsoRefused's detail tells whoever forges answers which check to work on)."""
    log.warning("SAML sign-in refused: %s", exc.message)
    label = context_of(request).settings.SAML_PROVIDER_NAME
    return await external_sign_in_refused(request, exc, provider=label, target=target)


def _provider(request: Request) -> saml.ServiceProvider:
    provider: saml.ServiceProvider = request.app.state.saml_provider
    return provider


@router.get(saml.METADATA_PATH)
async def saml_metadata(request: Request) -> Response:
    """The SP's metadata, for the IdP's administrator (or the IdP itself) to read."""
    xml = await _provider(request).metadata()
    return Response(xml, media_type="application/samlmetadata+xml")


@router.post(START_PATH, response_class=HTMLResponse)
async def saml_start(request: Request) -> Response:
    """The sign-in form's "Sign in with ..." button: off to the IdP with an AuthnRequest."""
    form = await request.form()
    target = str(form.get("next", "/"))
    try:
        target, remember = external_sign_in_start(request, form)
        started = await saml.start(
            context_of(request), _provider(request), target=target, remember=remember
        )
    except AttnError as exc:
        return await _refused(request, exc, target)
    response = RedirectResponse(started.redirect_url, status_code=303)
    set_private_cookie(
        request,
        response,
        BROWSER_COOKIE,
        started.browser_nonce,
        max_age=saml.REQUEST_SECONDS,
        path=COOKIE_PATH,
    )
    return response


@acs_router.post(saml.ACS_PATH, response_class=HTMLResponse)
async def saml_acs(request: Request) -> Response:
    """The assertion consumer service (HTTP-POST binding): verify, then hand over."""
    try:
        try:
            form = await request.form()
        except Exception:  # a body that is no form at all
            raise SsoRefused("the post is not a form") from None
        ticket = await saml.consume(
            context_of(request),
            _provider(request),
            saml_response=str(form.get("SAMLResponse", "")),
            relay_state=str(form.get("RelayState", "")),
        )
    except AttnError as exc:
        return await _refused(request, exc)
    return back(f"{FINISH_PATH}?{urlencode({'ticket': ticket})}")


@router.get(FINISH_PATH, response_class=HTMLResponse)
async def saml_finish(request: Request, ticket: str = "") -> Response:
    """The same-site page after the ACS: the session's cookies, exactly as a password
    sign-in's, and on to where the sign-in was started for."""
    ctx = context_of(request)
    target = "/"
    try:
        handover = await saml.take_handover(
            ctx, ticket=ticket, browser_nonce=request.cookies.get(BROWSER_COOKIE, "")
        )
        target = handover.target
        result = await saml.sign_in(
            ctx,
            handover,
            client=address_of(request),
            device_id=request.cookies.get(DEVICE_COOKIE),
        )
    except AttnError as exc:
        response = await _refused(request, exc, target)
    else:
        response = await finish_external_sign_in(request, result, target)
    response.delete_cookie(BROWSER_COOKIE, path=COOKIE_PATH, secure=secure_cookies(request))
    return response
