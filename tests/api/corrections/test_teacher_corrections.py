"""A teacher's corrections of check-in records: invalid ones are 422, those of another
teacher's lesson or of a record that does not exist are 404 (live and persisted alike), and
corrections that race are applied one after the other."""

from __future__ import annotations

import asyncio

from tests.support.api import Api, Headers
from tests.support.corrections import (
    add,
    audit,
    correct,
    detail_type,
    error_code,
    finish,
    joined_lesson,
    lesson_counts,
    persist,
    roll,
)


async def test_invalid_corrections_are_422_and_change_nothing(api: Api) -> None:
    lesson, teacher_headers, [(student, _)] = await joined_lesson(api, 1)
    lesson_id, number = lesson["lesson_id"], student.school_number
    before = await roll(api, teacher_headers, lesson_id)

    response = await correct(api, teacher_headers, lesson_id, number, {"status": "rejected"})
    assert response.status_code == 422
    assert error_code(response) == "validation_error"
    assert detail_type(response) == "reason_required"
    response = await correct(
        api, teacher_headers, lesson_id, number, {"status": "rejected", "reason": None}
    )
    assert response.status_code == 422
    assert detail_type(response) == "reason_required"
    response = await correct(api, teacher_headers, lesson_id, number, {"status": "pending"})
    assert response.status_code == 422
    assert detail_type(response) == "status_not_allowed"
    for body in (
        {"status": "rejected", "reason": "   "},
        {"status": "rejected", "reason": "x" * 501},
        {"status": "rejected", "reason": "bad\u0000reason"},
        {"status": "gone"},
        {},
        {"status": "present", "changed_by": "someone"},
    ):
        response = await correct(api, teacher_headers, lesson_id, number, body)
        assert response.status_code == 422, (body, response.text)
        assert error_code(response) == "validation_error"
    assert await roll(api, teacher_headers, lesson_id) == before
    assert await audit(api, teacher_headers, lesson_id) == []


async def test_corrections_of_someone_elses_lesson_or_an_unknown_record_are_404(
    api: Api,
) -> None:
    lesson, teacher_headers, [(student, student_headers)] = await joined_lesson(api, 1)
    lesson_id, number = lesson["lesson_id"], student.school_number
    _, stranger = await api.user_headers("teacher")
    other_student, _ = await api.user_headers("student")

    async def check(stage: str) -> None:
        for response in (
            await correct(api, stranger, lesson_id, number, {"status": "excused"}),
            await correct(api, stranger, lesson_id, number, {"status": "rejected", "reason": "r"}),
            await api.client.get(f"/teacher/lessons/{lesson_id}/audit", headers=stranger),
            await add(api, stranger, lesson_id, {"student_number": other_student.school_number}),
            await correct(api, teacher_headers, "0" * 32, number, {"status": "excused"}),
            await correct(api, teacher_headers, "not-an-id", number, {"status": "excused"}),
            await api.client.get("/teacher/lessons/not-an-id/audit", headers=teacher_headers),
        ):
            assert response.status_code == 404, (stage, response.text)
            assert error_code(response) == "lesson_not_found", stage
        for unknown in (other_student.school_number, "NOBODY1"):
            response = await correct(api, teacher_headers, lesson_id, unknown, {"status": "late"})
            assert response.status_code == 404, (stage, response.text)
            assert error_code(response) == "record_not_found", stage
        response = await correct(api, student_headers, lesson_id, number, {"status": "late"})
        assert response.status_code == 403, stage
        response = await correct(api, teacher_headers, lesson_id, "bad number!", {"status": "late"})
        assert response.status_code == 422, stage
        assert await audit(api, teacher_headers, lesson_id) == []
        [record] = await roll(api, teacher_headers, lesson_id)
        assert (record["status"], record["changed_by"]) == ("present", None)

    await check("live")
    await finish(api, teacher_headers, lesson_id)
    await persist(api, lesson_id)
    await check("persisted")


async def concurrent_corrections(
    api: Api, teacher_headers: Headers, lesson_id: str, number: str, start_status: str
) -> None:
    statuses = ["excused", "absent", "late", "present", "rejected"]
    before = len(await audit(api, teacher_headers, lesson_id))
    responses = await asyncio.gather(
        *(
            correct(
                api,
                teacher_headers,
                lesson_id,
                number,
                {"status": statuses[i % len(statuses)], "reason": f"reason {i}"},
            )
            for i in range(10)
        )
    )
    for response in responses:
        assert response.status_code in (200, 409), response.text
        if response.status_code == 409:
            assert error_code(response) == "record_changed"
    succeeded = [response.json() for response in responses if response.status_code == 200]
    assert succeeded, "at least one correction must win"
    entries = (await audit(api, teacher_headers, lesson_id))[before:]
    assert len(entries) == len(succeeded)
    assert sorted((e["new_status"], e["reason"]) for e in entries) == sorted(
        (r["status"], r["reason"]) for r in succeeded
    )
    # the changes happened one after the other: each starts from the one before
    olds = [e["old_status"] for e in entries]
    news = [start_status] + [e["new_status"] for e in entries[:-1]]
    assert olds == news, entries
    [record] = [
        r for r in await roll(api, teacher_headers, lesson_id) if r["student_number"] == number
    ]
    assert (record["status"], record["reason"]) == (
        entries[-1]["new_status"],
        entries[-1]["reason"],
    )
    counts = await lesson_counts(api, teacher_headers, lesson_id)
    assert counts == {
        **dict.fromkeys(counts, 0),
        record["status"]: 1,
        "attended": 1 if record["status"] in ("present", "late") else 0,
    }


async def test_concurrent_corrections_of_one_live_record(api: Api) -> None:
    lesson, teacher_headers, [(student, _)] = await joined_lesson(api, 1)
    await concurrent_corrections(
        api, teacher_headers, lesson["lesson_id"], student.school_number, "present"
    )


async def test_concurrent_corrections_of_one_persisted_record(api: Api) -> None:
    lesson, teacher_headers, [(student, _)] = await joined_lesson(api, 1)
    lesson_id = lesson["lesson_id"]
    await finish(api, teacher_headers, lesson_id)
    await persist(api, lesson_id)
    await concurrent_corrections(api, teacher_headers, lesson_id, student.school_number, "present")
