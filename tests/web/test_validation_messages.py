"""A refused form says what is wrong in words, in the page's language, naming the field by
its label: never a raw field name (`allowed_subnets`) or pydantic's English."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from attn.errors import BrokenRule, InvalidRoster
from attn.http.schemas import LessonIn
from attn.services.validation import broken_rule
from attn.web.form_errors import rule_text
from attn.web.i18n import translator
from tests.support.api import Api
from tests.support.sign_in_form import csrf_of, page_browser, sign_in

PYDANTIC_WORDS = re.compile(r"Input should|String should|Value error|Field required|valid integer")
RAW_FIELD = re.compile(r"\b[a-z]+_[a-z_]+\b")


def refusal_of(page: httpx.Response) -> str:
    """The text of the page's error paragraph (the one with role=alert)."""
    found = re.search(r'class="error"[^>]*role="alert">(.*?)</p>', page.text, re.S)
    assert found, page.text[:1500]
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


@pytest.fixture
async def teacher_pages(api: Api) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    teacher = await api.add_user("teacher", full_name="Ayşe Yılmaz")
    lesson = await api.start_lesson(await api.login(teacher), "Fizik 101")
    async with page_browser(api.app) as pages:
        await sign_in(pages, teacher.school_number)
        yield pages, lesson["lesson_id"]


START = {"lesson_name": "Kimya", "duration_minutes": "60"}


@pytest.mark.parametrize(
    ("form", "english", "turkish"),
    [
        (
            {"subnets": "10.0.0.0/33"},
            "Allowed subnets: 10.0.0.0/33 is not a network such as 10.1.2.0/24.",
            "İzinli alt ağlar: 10.0.0.0/33 bir ağ değil (örneğin 10.1.2.0/24).",
        ),
        ({"duration_minutes": "0"}, "Duration: must be at least 1.", "Süre: en az 1 olmalı."),
        (
            {"duration_minutes": "721"},
            "Duration: must be at most 720.",
            "Süre: en fazla 720 olmalı.",
        ),
        ({"duration_minutes": ""}, "Duration: fill this in.", "Süre: bu alanı doldurun."),
        ({"lesson_name": "   "}, "Lesson name: must not be empty.", "Ders adı: boş olamaz."),
        (
            {"lesson_name": "x" * 201},
            "Lesson name: at most 200 characters.",
            "Ders adı: en fazla 200 karakter olabilir.",
        ),
        (
            {"lesson_name": "Fizik\u200b"},
            "Lesson name: holds a control or invisible character; type it again.",
            "Ders adı: denetim ya da görünmez bir karakter içeriyor; yeniden yazın.",
        ),
        (
            {"late_after_minutes": "-3"},
            "Late after: must be at least 0.",
            "Geç sayılma süresi: en az 0 olmalı.",
        ),
    ],
)
async def test_a_refused_start_says_what_is_wrong_by_the_fields_label(
    teacher_pages: tuple[httpx.AsyncClient, str],
    form: dict[str, str],
    english: str,
    turkish: str,
) -> None:
    pages, _ = teacher_pages
    for language, expected in (("en", english), ("tr", turkish)):
        dashboard = await pages.get(f"/teacher?lang={language}")
        sent = {**START, **form, "csrf": csrf_of(dashboard)}
        refused = await pages.post("/teacher/start", data=sent)
        assert refused.status_code == 422
        assert refusal_of(refused) == expected
        assert not PYDANTIC_WORDS.search(refused.text)


@pytest.mark.parametrize(
    ("path", "form", "english", "turkish"),
    [
        (
            "add",
            {"student_number": "bad number!"},
            "School number: “bad number!” is not a school number (letters, digits, dots, "
            "hyphens and underscores, up to 32).",
            "Okul numarası: “bad number!” bir okul numarası değil (harf, rakam, nokta, kısa "
            "çizgi ve alt çizgi; en çok 32).",
        ),
        (
            "records/S1",
            {"status": "bogus"},
            "Status: choose present, late, rejected, excused or absent.",
            "Durum: var, geç, reddedildi, mazeretli ya da yok seçin.",
        ),
        (
            "records/S1",
            {"status": "rejected", "reason": "r" * 501},
            "Reason: at most 500 characters.",
            "Gerekçe: en fazla 500 karakter olabilir.",
        ),
    ],
)
async def test_a_refused_roll_form_says_what_is_wrong_by_the_fields_label(
    teacher_pages: tuple[httpx.AsyncClient, str],
    path: str,
    form: dict[str, str],
    english: str,
    turkish: str,
) -> None:
    pages, lesson_id = teacher_pages
    for language, expected in (("en", english), ("tr", turkish)):
        lesson = await pages.get(f"/teacher/lessons/{lesson_id}?lang={language}")
        refused = await pages.post(
            f"/teacher/lessons/{lesson_id}/{path}", data={**form, "csrf": csrf_of(lesson)}
        )
        assert refused.status_code == 422
        assert refusal_of(refused) == expected
        assert not RAW_FIELD.search(refusal_of(refused))


async def test_a_refused_sign_in_and_check_in_say_what_is_wrong(api: Api) -> None:
    teacher = await api.add_user("teacher")
    student = await api.add_user("student")
    lesson = await api.start_lesson(await api.login(teacher), "Fizik 101")
    async with page_browser(api.app) as pages:
        form = await pages.get("/login?lang=tr")
        token = re.search(r'name="sign_in_token" value="([^"]+)"', form.text)
        assert token
        refused = await pages.post(
            "/login",
            data={"sign_in_token": token[1], "school_number": "\x07S1", "password": "x"},
        )
        assert refused.status_code == 422
        assert refusal_of(refused) == (
            "Okul numarası: denetim ya da görünmez bir karakter içeriyor; yeniden yazın."
        )
        await sign_in(pages, student.school_number)
        join = await pages.get(f"/join/{lesson['lesson_id']}?lang=tr")
        refused = await pages.post(
            f"/student/lessons/{lesson['lesson_id']}/join",
            data={"csrf": csrf_of(join), "code": "1" * 33},
        )
        assert refused.status_code == 422
        assert refusal_of(refused) == "Katılım reddedildi: Kod: en fazla 32 karakter olabilir."


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "Page: must be at least 0."), ("tr", "Sayfa: en az 0 olmalı.")],
)
async def test_a_bad_query_is_an_error_page_in_words(
    teacher_pages: tuple[httpx.AsyncClient, str], language: str, expected: str
) -> None:
    pages, _ = teacher_pages
    refused = await pages.get(f"/teacher/history?page=-1&lang={language}")
    assert refused.status_code == 422
    assert refusal_of(refused) == expected


def test_a_field_or_rule_without_words_of_its_own_gets_the_generic_ones() -> None:
    english, turkish = translator("en"), translator("tr")
    odd = BrokenRule("some_new_field", "some_new_rule", {}, "x")
    assert rule_text(english, odd) == "A value: this value is not valid."
    assert rule_text(turkish, odd) == "Bir değer: bu değer geçerli değil."
    too_long = BrokenRule("full_name", "string_too_long", {"max_length": 200}, "x", line=3)
    assert rule_text(english, too_long) == "Line 3: Full name: at most 200 characters."
    assert rule_text(turkish, too_long) == "Satır 3: Ad soyad: en fazla 200 karakter olabilir."


def test_a_service_error_can_carry_its_rule_for_the_pages() -> None:
    """A service that refuses a file's line keeps the rule with its error (its English
    message for the API is unchanged), so a page can say it in its own language."""
    try:
        LessonIn.model_validate(
            {"lesson_name": "A", "duration_minutes": 1, "allowed_subnets": ["x"]}
        )
    except ValidationError as exc:
        error: Any = InvalidRoster("Line 4: ...").with_rule(broken_rule(exc, line=4))
    assert error.message == "Line 4: ..."
    assert rule_text(translator("tr"), error.rule) == (
        "Satır 4: İzinli alt ağlar: x bir ağ değil (örneğin 10.1.2.0/24)."
    )
