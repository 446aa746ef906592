"""The student's ways to a lesson (`attn.services.student_service`): the looser search (folded
letters, word prefixes, teacher optional, bounded) and the lessons of their courses on now."""

from __future__ import annotations

from datetime import timedelta

import pytest

from attn.errors import InvalidRequest
from attn.models import LessonRedis, fold_name, name_words
from attn.services import student_service
from attn.services.context import ServiceContext
from attn.services.student_service import SEARCH_ENTRIES, SEARCH_RESULTS
from tests.support.api import Api
from tests.support.clock import Clock
from tests.support.lessons import make_lesson


def test_fold_takes_turkish_letters_to_ascii() -> None:
    assert fold_name("  ŞEKER  Ağaç Çözüm Öykü Ülkü  ") == "seker agac cozum oyku ulku"
    assert fold_name("IŞIK ışık İzmir izmir") == "isik isik izmir izmir"
    assert fold_name("Ayşe Yılmaz") == fold_name("AYSE YILMAZ") == "ayse yilmaz"
    assert fold_name("Café Straße") == "cafe strasse"
    assert name_words("Fizik-101 (Şube A), fizik") == ["fizik", "101", "sube", "a"]


async def save(ctx: ServiceContext, lesson: LessonRedis, clock: Clock) -> LessonRedis:
    """Save a lesson that starts at the clock's now (one second after the previous one)."""
    clock.advance(seconds=1)
    now = ctx.now()
    lesson = lesson.model_copy(update={"start_time": now, "end_time": now + timedelta(hours=1)})
    await ctx.redis_client.save_lesson(lesson)
    return lesson


async def found(ctx: ServiceContext, text: str, teacher: str = "") -> list[str]:
    search = await student_service.search_active_lessons(ctx, text=text, teacher=teacher)
    return [lesson.lesson_id for lesson in search.lessons]


async def test_search_folds_matches_prefixes_and_takes_the_teacher_optionally(
    api: Api, clock: Clock
) -> None:
    ctx = api.context
    fizik = await save(ctx, make_lesson("Fizik 101", "Ayşe Yılmaz"), clock)
    fizyoloji = await save(ctx, make_lesson("Fizyoloji", "Mehmet Öztürk"), clock)
    kimya = await save(ctx, make_lesson("Kimya Lab", "Ayşe Demir"), clock)
    assert await found(ctx, "fiz") == [fizyoloji.lesson_id, fizik.lesson_id]  # newest first
    assert await found(ctx, "FİZİK") == [fizik.lesson_id]
    assert await found(ctx, "fizik 1") == [fizik.lesson_id]
    assert await found(ctx, "101 fiz") == [fizik.lesson_id]
    assert await found(ctx, "fiz", teacher="ayse yil") == [fizik.lesson_id]
    assert await found(ctx, "fiz", teacher="ozt") == [fizyoloji.lesson_id]
    assert await found(ctx, "lab", teacher="Ayşe") == [kimya.lesson_id]
    assert await found(ctx, "fiz", teacher="Demir") == []
    assert await found(ctx, "izik") == []  # a prefix, not any part of a word
    assert await found(ctx, "fizik 102") == []
    # the seed's exact search is unchanged: both names whole, still every match
    exact = await student_service.find_active_lessons(
        ctx, lesson_name="fizik 101", teacher_name="AYŞE YILMAZ"
    )
    assert [lesson.lesson_id for lesson in exact] == [fizik.lesson_id]
    assert (
        await student_service.find_active_lessons(
            ctx, lesson_name="fiz", teacher_name="Ayşe Yılmaz"
        )
        == []
    )


async def test_search_answers_active_lessons_only(api: Api, clock: Clock) -> None:
    ctx = api.context
    lesson = await save(ctx, make_lesson("Optik"), clock)
    assert await found(ctx, "opt") == [lesson.lesson_id]
    clock.advance(seconds=3601)  # past its end: lapsed, though not yet swept
    assert await found(ctx, "opt") == []


async def test_search_needs_a_word_of_the_lesson(api: Api) -> None:
    for text in ["", "   ", "—!?", "..."]:
        with pytest.raises(InvalidRequest):
            await student_service.search_active_lessons(api.context, text=text, teacher="Ayşe")


async def test_search_is_bounded_and_says_when_to_refine(api: Api, clock: Clock) -> None:
    ctx = api.context
    for n in range(SEARCH_RESULTS + 5):
        await save(ctx, make_lesson(f"Seminer {n}", f"Hoca {n}"), clock)
    search = await student_service.search_active_lessons(ctx, text="semi")
    assert len(search.lessons) == SEARCH_RESULTS and search.more
    one = await student_service.search_active_lessons(ctx, text="seminer 7", teacher="hoca 7")
    assert [lesson.lesson_name for lesson in one.lessons] == ["Seminer 7"] and not one.more
    # past the index entries a search reads, a refined search still finds its lesson
    for n in range(SEARCH_ENTRIES):
        await save(ctx, make_lesson(f"Sema {n}", f"Öğretmen {n}"), clock)
    wide = await student_service.search_active_lessons(ctx, text="se")
    assert wide.more and len(wide.lessons) <= SEARCH_RESULTS
    narrow = await student_service.search_active_lessons(ctx, text="sema 199", teacher="ogr")
    assert [lesson.lesson_name for lesson in narrow.lessons] == ["Sema 199"]
    # a rare teacher's word narrows a common lesson word: the narrowest range is read
    await save(ctx, make_lesson("Sema Özel", "Ayşe Yılmaz"), clock)
    rare = await student_service.search_active_lessons(ctx, text="se", teacher="ayse")
    assert [lesson.lesson_name for lesson in rare.lessons] == ["Sema Özel"] and not rare.more
