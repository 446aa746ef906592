"""Redis key names (`attn.store.keys`): the keys one Lua script touches share a hash tag, so
they sit in one cluster slot, and different lessons and users spread over slots."""

from __future__ import annotations

from redis.crc import key_slot

from attn.store import keys


def slot_of_each(*names: str) -> set[int]:
    return {key_slot(name.encode()) for name in names}


def test_every_script_touches_one_slot() -> None:
    lesson_id = keys.new_lesson_id("Linear Algebra", "Ada Lovelace")
    assert (
        len(
            slot_of_each(
                keys.lesson(lesson_id),
                keys.lesson_records(lesson_id),
                keys.lesson_discovery_index(lesson_id),
                keys.discovery_index(keys.discovery_tag("linear  ALGEBRA", "ada lovelace")),
            )
        )
        == 1
    )
    assert len(slot_of_each(keys.teacher_active_lesson("T1"), keys.teacher_lessons("T1"))) == 1
    assert (
        len(slot_of_each(keys.session("S1"), keys.login_failures("S1"), keys.student_lessons("S1")))
        == 1
    )
    # different lessons and users spread over slots
    other = keys.new_lesson_id("Chemistry", "Ada Lovelace")
    assert key_slot(keys.lesson(other).encode()) != key_slot(keys.lesson(lesson_id).encode())
