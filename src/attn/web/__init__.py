"""The pages: server-rendered HTML for teachers, students and administrators, in English and
Turkish.

Pages keep a session in an HttpOnly cookie and protect every form with a CSRF token derived
from it (the sign-in form with a token of its own) and refuse forms sent from another site's
page (`session`, `render`); they render through `render`, validate every form with the API's own
schemas and call the same services as the API. Imports `attn.http` and below, never
`attn.api`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from attn.config import Settings
from attn.web import (
    admin,
    exports,
    lti,
    lti_admin,
    oidc,
    rosters,
    saml,
    session,
    student,
    teacher,
)

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI, settings: Settings) -> None:
    """Add the pages and their static files to `app`; each single sign-on that is configured
    adds its routes and its button on the sign-in page (`session.SignInOption`)."""
    options: list[session.SignInOption] = []
    app.state.sign_in_options = options
    for router in (
        session.router,
        teacher.router,
        rosters.router,
        student.router,
        exports.router,
        admin.router,
    ):
        app.include_router(router)
    oidc.install(app, settings)
    saml.install(app, settings)
    # LTI 1.3: the tool's routes and pages, and the platforms' admin page
    lti.install(app, settings)
    lti_admin.install(app, settings)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
