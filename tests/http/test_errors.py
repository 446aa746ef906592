"""The one table from service errors to HTTP statuses covers every service error."""

from __future__ import annotations

import importlib
import pkgutil

import attn
from attn import errors
from attn.http.errors import STATUS_OF, attn_error_response, status_of


def every_error_class() -> set[type[errors.AttnError]]:
    """Every AttnError subclass defined anywhere in the package (modules imported first)."""
    for module in pkgutil.walk_packages(attn.__path__, "attn."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)
    found: set[type[errors.AttnError]] = set()
    pending = [errors.AttnError]
    while pending:
        for subclass in pending.pop().__subclasses__():
            found.add(subclass)
            pending.append(subclass)
    return found


def test_every_service_error_has_a_status() -> None:
    classes = every_error_class()
    assert len(classes) >= 30  # the walk did find the package's errors
    missing = sorted(cls.__qualname__ for cls in classes - set(STATUS_OF))
    assert not missing, f"add these to STATUS_OF: {missing}"
    # the caller's doing: 4xx; an identity provider or a learning platform that does not
    # answer are the peer outages service errors name (503, as when Redis or the database
    # does not answer)
    outages = {errors.SsoUnavailable, errors.LtiPlatformFailed}
    assert all(400 <= status < 500 for cls, status in STATUS_OF.items() if cls not in outages)
    assert all(STATUS_OF[cls] == 503 for cls in outages)


def test_a_422_is_a_validation_error_and_keeps_its_rule() -> None:
    response = attn_error_response(errors.ReasonRequired())
    assert response.status_code == 422
    assert b'"code":"validation_error"' in response.body
    assert b'"type":"reason_required"' in response.body


def test_errors_carry_their_headers() -> None:
    assert status_of(errors.TooManyAttempts(retry_after=7)) == 429
    assert attn_error_response(errors.TooManyAttempts(retry_after=7)).headers["retry-after"] == "7"
    assert attn_error_response(errors.NotAuthenticated()).headers["www-authenticate"] == "Bearer"
    assert b'"code":"lesson_not_found"' in attn_error_response(errors.LessonNotFound()).body
