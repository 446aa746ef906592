"""Rendering pages: templates, the page's language, and how a page shows an error.

`PageRoute` is the route class of every page: a service error becomes the page's own error
(HTML for a browser, the contract's JSON for a script's fetch), a `Redirect` a 303, so page
handlers state only what goes right; and a form sent from another site's page is refused
before its handler runs (`cross_site`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from attn import metrics
from attn.errors import AttnError, CrossSiteRequest, InvalidRequest, TooManyAttempts
from attn.http.deps import DEVICE_COOKIE, context_of
from attn.http.errors import (
    attn_error_response,
    error_headers,
    is_unavailable,
    status_of,
    unavailable_response,
)
from attn.models import UserSessionRedis
from attn.services.validation import broken_rule, rule_of
from attn.web.form_errors import rule_text
from attn.web.i18n import LANGUAGES, TEXTS, pick_language, translator

log = logging.getLogger(__name__)

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def decimal(value: float, lang: str) -> str:
    """A weight as the language writes it: "1", "0.5" (English), "0,5" (Turkish)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if lang == "tr" else text


templates.env.globals["decimal"] = decimal

SESSION_COOKIE = "attn_session"
LANG_COOKIE = "attn_lang"
YEAR = 365 * 24 * 3600


class Redirect(Exception):
    """Leave the page for another (say, sign-in when the session has ended). `keep` are
    steps applied to the redirect's answer (cookies it sets: a renewed session, a scan
    ticket)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.keep: list[Callable[[Response], None]] = []


def language(request: Request) -> str:
    return pick_language(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language"),
    )


def secure_cookies(request: Request) -> bool:
    """Whether the pages' cookies are `Secure`: when users reach the service over https."""
    return context_of(request).settings.https


def set_private_cookie(
    request: Request,
    response: Response,
    name: str,
    value: str,
    *,
    max_age: int | None,
    path: str = "/",
) -> None:
    """A cookie for the server only: HttpOnly, SameSite=Lax, and Secure over https."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )


def csrf_token(request: Request, session_token: str) -> str:
    """The CSRF token of the forms of one session: derived from it with the server key."""
    return _keyed(request, f"csrf:{session_token}")


def sign_in_form_token(request: Request, nonce: str) -> str:
    """The CSRF token of the sign-in form, which has no session yet: derived with the server
    key from a random nonce the browser keeps in a short-lived cookie."""
    return _keyed(request, f"sign-in:{nonce}")


def _keyed(request: Request, value: str) -> str:
    key = context_of(request).secret_key
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]


def wants_html(request: Request) -> bool:
    """Whether the caller is a browser's navigation (a page), not a script's fetch."""
    return "text/html" in request.headers.get("accept", "")


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def cross_site(request: Request) -> bool:
    """Whether the browser says this request was sent by another site's page.

    `Sec-Fetch-Site` first (every current browser sends it): only `same-origin` and `none` (the
    user's own doing, say a bookmark) pass; a sibling site (`same-site`) is another site too.
    Without it, `Origin`; without that, `Referer`; a request with none of them (a script, an
    old browser, a privacy setting) is left to the form's CSRF token.
    """
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site.lower() not in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is not None:
        return not _same_origin(request, origin)
    referer = request.headers.get("referer", "")
    return bool(referer) and not _same_origin(request, referer)


def _same_origin(request: Request, url: str) -> bool:
    """Whether `url` is on this service: its host is the one the request was sent to, or the
    public URL's (behind a proxy that rewrites Host). `null` and non-URLs are not."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    here = {request.url.netloc.lower()}
    public = context_of(request).settings.PUBLIC_URL
    if public:
        here.add(urlsplit(public).netloc.lower())
    return parts.netloc.lower() in here


def render(
    request: Request,
    template: str,
    status_code: int = 200,
    user: UserSessionRedis | None = None,
    **context: Any,
) -> HTMLResponse:
    page_language = language(request)
    settings = context_of(request).settings
    times = PageTimes(settings.timezone, page_language)
    token = request.cookies.get(SESSION_COOKIE, "")
    other = next(code for code in LANGUAGES if code != page_language)
    response = templates.TemplateResponse(
        request,
        template,
        {
            "t": translator(page_language),
            "lang": page_language,
            "other_lang": other,
            "lang_url": _with_language(request, other),
            "user": user,
            "csrf": csrf_token(request, token) if token else "",
            "fmt": times,
            "day": times.day,
            "clock": times.clock,
            "zone_name": settings.timezone_name,
            **context,
        },
        status_code=status_code,
    )
    secure = secure_cookies(request)
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, page_language, max_age=YEAR, samesite="lax", secure=secure)
    response.headers["Cache-Control"] = "no-store"
    return response


def _with_language(request: Request, page_language: str) -> str:
    """This page's own address (query kept, so a join link keeps its code) in a language."""
    url = request.url.include_query_params(lang=page_language)
    return f"{url.path}?{url.query}"


def error_text(request: Request, exc: AttnError) -> str:
    """An error's message in the page's language: a broken validation rule in words (see
    `form_errors`), else the catalogue's text of its code (`err_<code>`, filled with the
    error's attributes, say `{retry_after}`). An English page keeps a message the service
    made for this one case (say, which line of a file is wrong), which the catalogue's text of
    the code would lose. A lockout says how long to wait, in words."""
    page_language = language(request)
    translate = translator(page_language)
    if isinstance(exc, TooManyAttempts) and exc.code == TooManyAttempts.code:
        return f"{translate('too_many_tries')} {wait_text(translate, exc.retry_after)}"
    if exc.rule is not None:
        return rule_text(translate, exc.rule)
    key = f"err_{exc.code}"
    specific = exc.message != type(exc).message
    if key not in TEXTS or (specific and page_language == "en"):
        return exc.message
    return str(translate(key)).format_map(_Attributes(vars(exc)))


class _Attributes(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def wait_text(t: Callable[[str], str], seconds: int) -> str:
    """How long to wait, in words ("Try again in 45 seconds"; minutes past 90 seconds)."""
    if seconds <= 90:
        return t("retry_second") if seconds == 1 else t("retry_seconds").format(n=seconds)
    minutes = -(-seconds // 60)
    return t("retry_minutes").format(n=minutes)


def form_error(request: Request, exc: ValidationError) -> str:
    """The first rule a form broke, in words, in the page's language."""
    return rule_text(translator(language(request)), broken_rule(exc))


def keep_device(request: Request, response: Response, device_id: str | None) -> None:
    """Keep the device id the server issued in the phone's cookie (when it changed)."""
    if device_id and request.cookies.get(DEVICE_COOKIE) != device_id:
        set_private_cookie(request, response, DEVICE_COOKIE, device_id, max_age=YEAR)


# Month abbreviations as each language writes them in a date ("1 Dec 2026", "1 Ara 2026").
MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "tr": ("Oca", "Şub", "Mar", "Nis", "May", "Haz", "Tem", "Ağu", "Eyl", "Eki", "Kas", "Ara"),
}


def day(value: datetime | None, *, zone: tzinfo = UTC, language: str = "en") -> str:
    """A date in `zone` as the language writes it: `1 Dec 2026`, `1 Ara 2026`."""
    if value is None:
        return ""
    local = value.astimezone(zone)
    return f"{local.day} {MONTHS[language][local.month - 1]} {local.year}"


def when(value: datetime | None, *, zone: tzinfo = UTC, language: str = "en") -> str:
    """A moment in `zone` as the language writes it: `1 Dec 2026, 14:05` in English,
    `1 Ara 2026 14:05` in Turkish."""
    if value is None:
        return ""
    separator = ", " if language == "en" else " "
    clock = value.astimezone(zone).strftime("%H:%M")
    return f"{day(value, zone=zone, language=language)}{separator}{clock}"


class PageTimes:
    """How one page writes times: `fmt(value)` (a moment), `day(value)` (a date) and
    `clock(value)` (a time of day), in the institution's zone and the page's language.
    `shown` says whether the page wrote one, so the page names the zone once, under it
    (base.html), and only when it shows a time."""

    def __init__(self, zone: tzinfo, language: str) -> None:
        self.zone = zone
        self.language = language
        self.shown = False

    def __call__(self, value: datetime | None) -> str:
        self.shown = self.shown or value is not None
        return when(value, zone=self.zone, language=self.language)

    def day(self, value: datetime | None) -> str:
        self.shown = self.shown or value is not None
        return day(value, zone=self.zone, language=self.language)

    def clock(self, value: datetime | None) -> str:
        """The time of day alone: `14:05`."""
        self.shown = self.shown or value is not None
        return "" if value is None else value.astimezone(self.zone).strftime("%H:%M")


def percent(value: float | None, lang: str) -> str:
    """A percentage (a number of percent, 0-100) as the language writes it: `87%` in
    English, `%87` in Turkish; a fraction of a percent keeps one decimal (`87.5%`,
    `%87,5`); None (nothing to count) is a dash. A template global: `percent(value, lang)`."""
    if value is None:
        return "\u2013"
    rounded = round(float(value), 1)
    number = f"{rounded:.0f}" if rounded.is_integer() else f"{rounded:.1f}"
    if lang == "tr":
        return f"%{number.replace('.', ',')}"
    return f"{number}%"


templates.env.globals["percent"] = percent


def back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def error_page(request: Request, exc: AttnError) -> Response:
    """A service error as the page's answer: a page for a browser, JSON for a fetch."""
    if not wants_html(request):
        return attn_error_response(exc)
    status = status_of(exc)
    response = render(
        request, "error.html", status_code=status, status=status, message=error_text(request, exc)
    )
    response.headers.update(error_headers(exc) or {})
    return response


def unavailable_page(request: Request) -> Response:
    """503 while a backing store cannot serve: a page for a browser, JSON for a fetch."""
    if "text/html" not in request.headers.get("accept", ""):
        return unavailable_response()
    message = translator(language(request))("err_service_unavailable")
    response = render(request, "error.html", status_code=503, status=503, message=message)
    response.headers["Retry-After"] = "1"
    return response


class PageRoute(APIRoute):
    """The route class of the pages: errors and redirects become page answers. A route class
    with `cross_site_allowed` takes forms from other sites' pages (a SAML IdP's post to the
    ACS, whose protection is the signed answer to a request this server issued)."""

    cross_site_allowed = False

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            if (
                request.method in UNSAFE_METHODS
                and not self.cross_site_allowed
                and cross_site(request)
            ):
                return error_page(request, CrossSiteRequest())
            try:
                return await handler(request)
            except Redirect as exc:
                redirect = back(exc.url)
                for step in exc.keep:
                    step(redirect)
                return redirect
            except AttnError as exc:
                return error_page(request, exc)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                where = ".".join(str(part) for part in first.get("loc", ())[1:]) or "request"
                refusal = InvalidRequest(f"{where}: {first.get('msg', '')}")
                return error_page(request, refusal.with_rule(rule_of(first, skip=1)))
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                metrics.backend_error(exc)
                log.warning("a backing store is unavailable: %s", exc)
                return unavailable_page(request)

        return page_handler


async def uploaded_text(request: Request, form: Mapping[str, str]) -> str | None:
    """The text of an upload form (`csv_file`, else the pasted `csv_text`); None when the
    chosen file is not UTF-8 (a byte-order mark is dropped)."""
    sent = await request.form()
    upload = sent.get("csv_file")
    raw = b""
    if isinstance(upload, UploadFile):
        raw = await upload.read()
    for value in sent.values():  # the form's files are read now: let go of them
        if isinstance(value, UploadFile):
            await value.close()
    if raw:
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return None
    return form.get("csv_text", "").replace("\r\n", "\n")
