"""Times on the pages are the institution's (`ATTN_TIMEZONE`), in each language's style, with
the zone named; the API's times stay ISO 8601 with an offset whatever the setting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from attn.config import ConfigError, Settings, load_settings, local_zone_name
from tests.support.api import Api
from tests.support.clock import Clock
from tests.support.sign_in_form import page_browser, sign_in

# A winter day, so New York is on standard time (UTC-5); Istanbul is UTC+3 all year.
STARTED = datetime(2030, 1, 15, 11, 0, tzinfo=UTC)


def start_the_clock_at(clock: Clock, moment: datetime) -> None:
    clock.offset = moment - datetime.now(UTC)


async def a_lesson_with_a_student(api: Api) -> tuple[Any, Any, str]:
    teacher, teacher_headers = await api.user_headers("teacher", full_name="Ayşe Yılmaz")
    student, student_headers = await api.user_headers("student", full_name="Elif Kaya")
    lesson = await api.start_lesson(teacher_headers, "Fizik 101")
    joined = await api.client.post(
        f"/student/lessons/{lesson['lesson_id']}/attendance", headers=student_headers
    )
    assert joined.status_code == 201, joined.text
    return teacher, student, lesson["lesson_id"]


@pytest.mark.parametrize(
    ("zone", "english", "turkish"),
    [
        ("Europe/Istanbul", "15 Jan 2030, 14:00", "15 Oca 2030 14:00"),
        ("America/New_York", "15 Jan 2030, 06:00", "15 Oca 2030 06:00"),
    ],
)
async def test_every_page_shows_a_lesson_start_in_the_institutions_zone(
    make_api: Callable[..., Any], clock: Clock, zone: str, english: str, turkish: str
) -> None:
    start_the_clock_at(clock, STARTED)
    async with make_api(TIMEZONE=zone) as api:
        teacher, student, lesson_id = await a_lesson_with_a_student(api)
        async with page_browser(api.app) as pages:
            await sign_in(pages, teacher.school_number)
            teacher_pages = ["/teacher", f"/teacher/lessons/{lesson_id}", "/teacher/history"]
            for path in teacher_pages:
                await expect_times(pages, path, zone, english, turkish)
        async with page_browser(api.app) as pages:
            await sign_in(pages, student.school_number)
            search = "/student?lesson_name=Fizik+101&teacher_name=Ay%C5%9Fe+Y%C4%B1lmaz"
            for path in (search, "/student/history"):
                await expect_times(pages, path, zone, english, turkish)


async def expect_times(pages: Any, path: str, zone: str, english: str, turkish: str) -> None:
    for language, shown, note in (
        ("en", english, f"Times are in the {zone} time zone."),
        ("tr", turkish, f"Saatler {zone} saat dilimine göredir."),
    ):
        separator = "&" if "?" in path else "?"
        page = await pages.get(f"{path}{separator}lang={language}")
        assert page.status_code == 200, (path, page.text[:300])
        assert shown in page.text, (path, language)
        assert note in page.text, (path, language)
        assert "11:00" not in page.text and " UTC" not in page.text, (path, language)


async def test_a_page_without_a_time_does_not_name_the_zone(
    make_api: Callable[..., Any],
) -> None:
    async with make_api(TIMEZONE="Europe/Istanbul") as api:
        async with page_browser(api.app) as pages:
            page = await pages.get("/login")
        assert "Europe/Istanbul" not in page.text and "time zone" not in page.text


async def test_the_api_keeps_iso_times_with_an_offset_whatever_the_zone(
    make_api: Callable[..., Any], clock: Clock
) -> None:
    start_the_clock_at(clock, STARTED)
    async with make_api(TIMEZONE="America/New_York") as api:
        _, teacher_headers = await api.user_headers("teacher")
        _, student_headers = await api.user_headers("student")
        lesson = await api.start_lesson(teacher_headers, "Fizik 101")
        joined = await api.client.post(
            f"/student/lessons/{lesson['lesson_id']}/attendance", headers=student_headers
        )
        roll = await api.client.get(
            f"/teacher/lessons/{lesson['lesson_id']}/records", headers=teacher_headers
        )
    assert roll.status_code == 200, roll.text
    times = [lesson["start_time"], lesson["end_time"], joined.json()["attendance_time"]]
    times += [record["attendance_time"] for record in roll.json()]
    for text in times:
        moment = datetime.fromisoformat(text)
        assert moment.utcoffset() is not None, text  # an offset, never a bare local time
        assert text.endswith("Z"), text
    assert abs(datetime.fromisoformat(lesson["start_time"]) - STARTED).total_seconds() < 60


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "Europe", "../../etc/passwd", "UTC+3"])
def test_an_unknown_time_zone_stops_the_start(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    with pytest.raises(ValidationError, match="is not an IANA time zone name"):
        Settings(TIMEZONE=name)
    monkeypatch.setenv("ATTN_TIMEZONE", name)
    with pytest.raises(ConfigError, match=r"ATTN_TIMEZONE: .* is not an IANA time zone name"):
        load_settings()


def test_without_the_setting_the_pages_use_the_servers_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    assert local_zone_name() == "Asia/Tokyo"
    assert Settings().timezone_name == "Asia/Tokyo"
    assert Settings(TIMEZONE="Europe/Istanbul").timezone_name == "Europe/Istanbul"
    monkeypatch.setenv("TZ", "not a zone")  # then the system's own setting, or UTC
    assert local_zone_name() != "not a zone"
