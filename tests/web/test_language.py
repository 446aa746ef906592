"""How the pages write numbers and times in each language: percentages (`87%` / `%87`)."""

from __future__ import annotations

import pytest

from attn.web.render import percent


@pytest.mark.parametrize(
    ("value", "english", "turkish"),
    [
        (100, "100%", "%100"),
        (0, "0%", "%0"),
        (87.5, "87.5%", "%87,5"),
        (66.66, "66.7%", "%66,7"),
        (50.0, "50%", "%50"),
        (None, "\u2013", "\u2013"),
    ],
)
def test_a_percentage_is_written_as_each_language_writes_it(
    value: float | None, english: str, turkish: str
) -> None:
    assert percent(value, "en") == english
    assert percent(value, "tr") == turkish
