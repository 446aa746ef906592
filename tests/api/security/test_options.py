"""A lesson's list of check-in options: verification needs a configured verifier, and
unknown or repeated options are refused."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Api
from tests.support.check_in import assert_error, start


@pytest.mark.parametrize("security", [["verification"], ["code", "verification"]])
async def test_verification_without_a_verifier_is_refused(
    api: Api, teacher: Any, security: list[str]
) -> None:
    assert api.context.settings.VERIFIER_URL is None
    response = await start(api, teacher[1], security=security)
    assert_error(response, 422, "validation_error")
    assert response.json()["error"]["details"][0]["type"] == "verification_unavailable"
    listed = await api.client.get("/teacher/lessons", headers=teacher[1])
    assert listed.json() == []


async def test_unknown_or_repeated_options_are_refused(api: Api, teacher: Any) -> None:
    for security in [["code", "code"], ["camera"], "code", [None], ["CODE"]]:
        response = await start(api, teacher[1], security=security)
        assert_error(response, 422, "validation_error")
    listed = await api.client.get("/teacher/lessons", headers=teacher[1])
    assert listed.json() == []
