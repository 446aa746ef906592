"""The catalogue of the pages' texts is complete: every key in both languages with the same
placeholders, every key a template or the code asks for exists, every service error code and
every form field has its words."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from pydantic import BaseModel

import attn.errors
from attn.http import schemas
from attn.models import LessonStatus, NewAccount, RecordStatus, Role, SecurityOption
from attn.web.i18n import LANGUAGES, TEXTS

SRC = Path(attn.errors.__file__).parent
TEMPLATES = SRC / "web" / "templates"

# t("key") and t('key') in templates; translate("key") / translator(...)("key") in the code
STATIC_KEY = re.compile(r"""\bt\(\s*(["'])([^"']+)\1\s*\)""")
CODE_KEY = re.compile(r"""(?:\btranslate|translator\([^()]*\))\(\s*(["'])([a-z_]+)\1\s*\)""")
# t("prefix_" ~ value): the keys a template builds
BUILT_KEY = re.compile(r"""\bt\(\s*(["'])([a-z_]+)\1\s*~""")
# t(name) of a variable: the values the templates give that variable
VARIABLE_KEY = re.compile(r"""\bt\(\s*([a-z_.]+)\s*\)""")
AS_KEY = re.compile(r"""as_key\s*=\s*(["'])([a-z_]+)\1""")

# every value a built key takes: a new prefix or value must be listed here, and in TEXTS
BUILT_VALUES = {
    "st_": [status.value for status in RecordStatus],
    "opt_": [option.value for option in SecurityOption],
    "src_": ["teacher", "verifier", "system", "student"],
    "joined_": ["present", "late", "pending"],
    "role_": [role.value for role in Role],
    "adm_done_": ["created", "saved", "password_set", "deactivated", "reactivated"],
}
VARIABLE_VALUES = {
    "flag": ["not_on_roster", "shared_device", "shared_address"],
    "lesson.status.value": [status.value for status in LessonStatus],
}


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _sources() -> dict[Path, str]:
    files = list(TEMPLATES.rglob("*.html")) + list(SRC.rglob("*.py"))
    return {path: path.read_text(encoding="utf-8") for path in files}


def test_every_text_has_both_languages_with_the_same_placeholders() -> None:
    for key, texts in TEXTS.items():
        assert set(texts) == set(LANGUAGES), key
        for language in LANGUAGES:
            assert texts[language].strip(), (key, language)
        assert _placeholders(texts["en"]) == _placeholders(texts["tr"]), key


def test_every_key_the_templates_and_the_code_ask_for_exists() -> None:
    asked: dict[str, Path] = {}
    for path, text in _sources().items():
        for pattern in (STATIC_KEY, CODE_KEY):
            for match in pattern.finditer(text):
                asked[match.group(2)] = path
        for match in AS_KEY.finditer(text):
            asked[match.group(2)] = path
        for match in BUILT_KEY.finditer(text):
            prefix = match.group(2)
            assert prefix in BUILT_VALUES, f"{path.name}: t({prefix!r} ~ ...) is not listed"
            asked.update({prefix + value: path for value in BUILT_VALUES[prefix]})
        for match in VARIABLE_KEY.finditer(text):
            name = match.group(1)
            if name == "as_key":
                continue
            assert name in VARIABLE_VALUES, f"{path.name}: t({name}) is not listed"
            asked.update(dict.fromkeys(VARIABLE_VALUES[name], path))
    assert len(asked) > 50  # the scan found the templates' keys
    missing = {key: path.name for key, path in asked.items() if key not in TEXTS}
    assert not missing, missing


def _error_classes(base: type[attn.errors.AttnError]) -> list[type[attn.errors.AttnError]]:
    found = []
    for sub in base.__subclasses__():
        found += [sub, *_error_classes(sub)]
    return found


@pytest.mark.parametrize("error", [attn.errors.AttnError, *_error_classes(attn.errors.AttnError)])
def test_every_service_error_code_has_words_in_both_languages(
    error: type[attn.errors.AttnError],
) -> None:
    assert f"err_{error.code}" in TEXTS, error.__name__


@pytest.mark.parametrize(
    "schema",
    [
        schemas.LoginIn,
        schemas.LessonIn,
        schemas.JoinIn,
        schemas.CorrectionIn,
        schemas.AddRecordIn,
        NewAccount,
    ],
)
def test_every_form_field_has_a_label_for_its_messages(schema: type[BaseModel]) -> None:
    for field in schema.model_fields:
        assert f"fld_{field}" in TEXTS, (schema.__name__, field)


def test_every_status_has_its_words() -> None:
    for status in RecordStatus:
        assert f"st_{status.value}" in TEXTS
