"""Check-in security: rotating codes, networks, devices, late status and their combinations.

Every test tries an attack on a join (a guessed, stale, future or malformed code; brute
force; a forged X-Forwarded-For; a shared device) and asserts the exact status and error
code, and that a refused join writes nothing. Time is frozen (the module's `clock` only moves
when a test advances it), so code windows and rate-limit windows are hit to the second.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from ipaddress import ip_network
from typing import Any

import httpx
import pytest

from attn.services import codes
from tests.api.issued_devices import issued_device_id, on_phone
from tests.conftest import Api, Clock

Headers = dict[str, str]
DEVICE_A = "device-A-0123456789"
DEVICE_B = "device-B-0123456789"
NO_BODY = object()


class FrozenClock(Clock):
    """The conftest Clock without the real time running underneath: time moves only by
    `advance`, so a test can stand on the exact second a code window changes."""

    def __init__(self) -> None:
        super().__init__()
        self.base = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.base + self.offset

    def advance_to(self, moment: datetime) -> None:
        delta = moment - self()
        assert delta >= timedelta(0), "time only moves forward"
        self.advance(microseconds=delta // timedelta(microseconds=1))


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


# --- helpers -------------------------------------------------------------------------------


@asynccontextmanager
async def client_from(api: Api, host: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the same app whose connection comes from `host`."""
    transport = httpx.ASGITransport(app=api.app, client=(host, 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver/api/v1") as c:
        yield c


async def start(
    api: Api, headers: Headers, client: httpx.AsyncClient | None = None, **fields: Any
) -> httpx.Response:
    body = {"lesson_name": "Networks", "duration_minutes": 60, **fields}
    return await (client or api.client).post("/teacher/lessons", json=body, headers=headers)


async def started(api: Api, headers: Headers, **fields: Any) -> dict[str, Any]:
    response = await start(api, headers, **fields)
    assert response.status_code == 201, response.text
    lesson: dict[str, Any] = response.json()
    return lesson


async def join(
    api: Api,
    lesson_id: str,
    headers: Headers,
    *,
    code: Any = NO_BODY,
    device: str | None = None,
    client: httpx.AsyncClient | None = None,
    extra: list[tuple[str, str]] | None = None,
) -> httpx.Response:
    sent: list[tuple[str, str]] = list(headers.items()) + (extra or [])
    if device is not None:
        sent.append(("X-ATTN-Device", issued_device_id(api, headers, device)))
    body = None if code is NO_BODY else {"code": code}
    return await (client or api.client).post(
        f"/student/lessons/{lesson_id}/attendance", json=body, headers=sent
    )


def code_at(api: Api, lesson_id: str, window: int) -> str:
    return codes.code_for_window(codes.lesson_secret(api.context.secret_key, lesson_id), window)


def window_now(api: Api, clock: Clock) -> int:
    rotation: int = api.context.settings.CODE_ROTATION_SECONDS
    return int(clock().timestamp()) // rotation


def now_code(api: Api, lesson_id: str, clock: Clock) -> str:
    rotation = api.context.settings.CODE_ROTATION_SECONDS
    return codes.current_code(api.context.secret_key, lesson_id, clock(), rotation)[0]


def wrong_codes(api: Api, lesson_id: str, clock: Clock, count: int = 1) -> list[str]:
    """Near misses: six-digit codes next to the current one that are not accepted now."""
    window = window_now(api, clock)
    accepted = {code_at(api, lesson_id, window), code_at(api, lesson_id, window - 1)}
    right = int(code_at(api, lesson_id, window))
    near = (f"{(right + step) % 10**6:06d}" for step in range(1, count + 3))
    return [code for code in near if code not in accepted][:count]


def wrong_code(api: Api, lesson_id: str, clock: Clock) -> str:
    return wrong_codes(api, lesson_id, clock)[0]


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code, response.text


async def students(api: Api, count: int) -> list[Headers]:
    return [(await api.user_headers("student"))[1] for _ in range(count)]


async def assert_nothing_written(
    api: Api, teacher_headers: Headers, lesson_id: str, student_headers: Headers, count: int
) -> None:
    lesson = await api.client.get(f"/teacher/lessons/{lesson_id}", headers=teacher_headers)
    assert lesson.json()["attendee_count"] == count
    roll = await api.client.get(f"/teacher/lessons/{lesson_id}/records", headers=teacher_headers)
    assert len(roll.json()) == count
    own = await api.client.get("/student/attendance", headers=student_headers)
    assert own.status_code == 200
    assert own.json() == []
    one = await api.client.get(f"/student/lessons/{lesson_id}/attendance", headers=student_headers)
    assert_error(one, 404, "record_not_found")


# --- rotating codes ------------------------------------------------------------------------


async def test_code_endpoint_shows_the_current_code_and_a_join_link(
    make_api: Callable[..., Any], clock: FrozenClock
) -> None:
    async with make_api(CODE_ROTATION_SECONDS=15) as api:
        _, teacher = await api.user_headers("teacher")
        _, student = await api.user_headers("student")
        lesson = await started(api, teacher, security=["code"])
        assert lesson["security"] == ["code"]
        lesson_id = lesson["lesson_id"]
        for step in range(16):  # every second of one window, and into the next
            response = await api.client.get(f"/teacher/lessons/{lesson_id}/code", headers=teacher)
            assert response.status_code == 200, response.text
            shown = response.json()
            expected, left = codes.current_code(api.context.secret_key, lesson_id, clock(), 15)
            assert shown["code"] == expected, step
            assert len(shown["code"]) == 6 and shown["code"].isdigit()
            assert shown["valid_for_seconds"] == left
            assert 1 <= shown["valid_for_seconds"] <= 15
            assert shown["rotation_seconds"] == 15
            assert lesson_id in shown["join_url"]
            assert f"code={shown['code']}" in shown["join_url"]
            clock.advance(seconds=1)

        code = (await api.client.get(f"/teacher/lessons/{lesson_id}/code", headers=teacher)).json()[
            "code"
        ]
        joined = await join(api, lesson_id, student, code=code)
        assert joined.status_code == 201, joined.text
        assert joined.json()["status"] == "present"


async def test_code_is_the_teachers_only(api: Api, teacher: Any, student: Any) -> None:
    _, teacher_headers = teacher
    _, student_headers = student
    lesson_id = (await started(api, teacher_headers, security=["code"]))["lesson_id"]
    for path in ("code", "code.svg"):
        as_student = await api.client.get(
            f"/teacher/lessons/{lesson_id}/{path}", headers=student_headers
        )
        assert_error(as_student, 403, "forbidden")
        _, stranger = await api.user_headers("teacher")
        as_stranger = await api.client.get(f"/teacher/lessons/{lesson_id}/{path}", headers=stranger)
        assert_error(as_stranger, 404, "lesson_not_found")
        anonymous = await api.client.get(f"/teacher/lessons/{lesson_id}/{path}")
        assert_error(anonymous, 401, "not_authenticated")
    # nor does the student's view of the lesson carry anything that derives the code
    found = await api.client.get(
        "/student/lessons",
        params={"lesson_name": "Networks", "teacher_name": teacher[0].full_name},
        headers=student_headers,
    )
    assert [item["lesson_id"] for item in found.json()] == [lesson_id]
    assert "code" not in found.json()[0]
    assert "allowed_subnets" not in found.json()[0]


@pytest.mark.parametrize("path", ["code", "code.svg"])
@pytest.mark.parametrize("security", [[], ["network", "device"]])
async def test_code_of_a_lesson_without_codes_is_409(
    api: Api, teacher: Any, path: str, security: list[str]
) -> None:
    _, headers = teacher
    lesson_id = (await started(api, headers, security=security))["lesson_id"]
    response = await api.client.get(f"/teacher/lessons/{lesson_id}/{path}", headers=headers)
    assert_error(response, 409, "code_not_enabled")


@pytest.mark.parametrize("how", ["finished", "past_its_end"])
async def test_code_of_an_ended_lesson_is_not_shown_nor_accepted(
    api: Api, teacher: Any, student: Any, clock: FrozenClock, how: str
) -> None:
    _, headers = teacher
    lesson_id = (await started(api, headers, security=["code"], duration_minutes=10))["lesson_id"]
    if how == "finished":
        finished = await api.client.post(f"/teacher/lessons/{lesson_id}/finish", headers=headers)
        assert finished.status_code == 200
    else:
        clock.advance(minutes=10)
    for path in ("code", "code.svg"):
        response = await api.client.get(f"/teacher/lessons/{lesson_id}/{path}", headers=headers)
        assert_error(response, 409, "lesson_not_active")
    # the lesson's state is checked before the code: right or wrong, the join is 409
    for code in (now_code(api, lesson_id, clock), "000000x"):
        response = await join(api, lesson_id, student[1], code=code)
        assert_error(response, 409, "lesson_not_active")


async def test_code_svg_is_a_standalone_svg(api: Api, teacher: Any, clock: FrozenClock) -> None:
    _, headers = teacher
    lesson_id = (await started(api, headers, security=["code"]))["lesson_id"]
    response = await api.client.get(f"/teacher/lessons/{lesson_id}/code.svg", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.text.lstrip().startswith("<svg")
    assert response.text.rstrip().endswith("</svg>")
    rotation = api.context.settings.CODE_ROTATION_SECONDS
    left = codes.current_code(api.context.secret_key, lesson_id, clock(), rotation)[1]
    assert response.headers["cache-control"] == f"private, max-age={left}"


@pytest.mark.parametrize("rotation", [15, 60])
async def test_code_windows_to_the_second(
    make_api: Callable[..., Any], clock: FrozenClock, rotation: int
) -> None:
    """Only the current window's code and the previous one's are accepted; never a code of
    two windows ago, and never the next window's (a code cannot be predicted)."""
    async with make_api(CODE_ROTATION_SECONDS=rotation, CODE_MAX_FAILURES=1000) as api:
        _, teacher = await api.user_headers("teacher")
        prober, *joiners = await students(api, 5)
        lesson_id = (await started(api, teacher, security=["code"]))["lesson_id"]
        window = window_now(api, clock) + 1
        clock.advance_to(datetime.fromtimestamp(window * rotation, UTC))  # first instant

        shown = (await api.client.get(f"/teacher/lessons/{lesson_id}/code", headers=teacher)).json()
        assert shown["code"] == code_at(api, lesson_id, window)
        assert shown["valid_for_seconds"] == rotation
        for stale in (window - 2, window - 3, window + 1, window + 2):
            code = code_at(api, lesson_id, stale)
            if code in (code_at(api, lesson_id, window), code_at(api, lesson_id, window - 1)):
                continue  # a collision of six digits: the code is valid for another reason
            assert_error(await join(api, lesson_id, prober, code=code), 403, "invalid_code")
        joined = await join(api, lesson_id, joiners[0], code=code_at(api, lesson_id, window - 1))
        assert joined.status_code == 201, joined.text

        # the last instant of the window: the previous code still holds
        clock.advance_to(
            datetime.fromtimestamp((window + 1) * rotation, UTC) - timedelta(milliseconds=1)
        )
        shown = (await api.client.get(f"/teacher/lessons/{lesson_id}/code", headers=teacher)).json()
        assert shown["code"] == code_at(api, lesson_id, window)
        assert shown["valid_for_seconds"] == 1
        joined = await join(api, lesson_id, joiners[1], code=code_at(api, lesson_id, window - 1))
        assert joined.status_code == 201, joined.text

        # one millisecond later the window changes: window - 1 is two rotations old now
        clock.advance(milliseconds=1)
        shown = (await api.client.get(f"/teacher/lessons/{lesson_id}/code", headers=teacher)).json()
        assert shown["code"] == code_at(api, lesson_id, window + 1)
        assert shown["valid_for_seconds"] == rotation
        old = code_at(api, lesson_id, window - 1)
        if old not in (code_at(api, lesson_id, window), code_at(api, lesson_id, window + 1)):
            assert_error(await join(api, lesson_id, prober, code=old), 403, "invalid_code")
        joined = await join(api, lesson_id, joiners[2], code=code_at(api, lesson_id, window))
        assert joined.status_code == 201, joined.text

        # the code shown now (window + 1) works right after the next rotation, not two later
        clock.advance(seconds=rotation)
        joined = await join(api, lesson_id, joiners[3], code=shown["code"])
        assert joined.status_code == 201, joined.text
        clock.advance(seconds=rotation)
        if shown["code"] not in (
            code_at(api, lesson_id, window + 2),
            code_at(api, lesson_id, window + 3),
        ):
            too_old = await join(api, lesson_id, prober, code=shown["code"])
            assert_error(too_old, 403, "invalid_code")
        roll = await api.client.get(f"/teacher/lessons/{lesson_id}/records", headers=teacher)
        assert len(roll.json()) == 4


async def test_code_shown_is_accepted_after_one_rotation_and_refused_after_two(
    make_api: Callable[..., Any], clock: FrozenClock
) -> None:
    async with make_api(CODE_ROTATION_SECONDS=15) as api:
        _, teacher = await api.user_headers("teacher")
        first, second = await students(api, 2)
        lesson_id = (await started(api, teacher, security=["code"]))["lesson_id"]
        shown = (await api.client.get(f"/teacher/lessons/{lesson_id}/code", headers=teacher)).json()
        clock.advance(seconds=shown["valid_for_seconds"])  # the code has just rotated
        joined = await join(api, lesson_id, first, code=shown["code"])
        assert joined.status_code == 201, joined.text
        clock.advance(seconds=15)  # two rotations after it was shown
        if shown["code"] != now_code(api, lesson_id, clock):
            refused = await join(api, lesson_id, second, code=shown["code"])
            assert_error(refused, 403, "invalid_code")


@pytest.mark.parametrize(
    "spell",
    [
        lambda c: c,
        lambda c: f"{c[:3]} {c[3:]}",
        lambda c: f" {c} ",
        lambda c: f"{c[:2]} {c[2:4]} {c[4:]}",
        lambda c: f"{c[:3]}\t{c[3:]}\n",
    ],
    ids=["plain", "3-3", "padded", "2-2-2", "tab-newline"],
)
async def test_code_typed_with_spaces_is_accepted(
    api: Api, teacher: Any, student: Any, clock: FrozenClock, spell: Callable[[str], str]
) -> None:
    lesson_id = (await started(api, teacher[1], security=["code"]))["lesson_id"]
    response = await join(api, lesson_id, student[1], code=spell(now_code(api, lesson_id, clock)))
    assert response.status_code == 201, response.text


FULLWIDTH = {ord("0") + d: 0xFF10 + d for d in range(10)}
ARABIC_INDIC = {ord("0") + d: 0x0660 + d for d in range(10)}
SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


async def test_malformed_codes_are_refused_without_a_500(
    make_api: Callable[..., Any], clock: FrozenClock
) -> None:
    async with make_api(CODE_MAX_FAILURES=1000) as api:
        _, teacher = await api.user_headers("teacher")
        _, student = await api.user_headers("student")
        lesson_id = (await started(api, teacher, security=["code"]))["lesson_id"]
        right = now_code(api, lesson_id, clock)
        refused_403 = [
            "",
            "   ",
            "abcdef",
            right[:5],
            right + "0",
            "0" + right,
            right[:5] + "x",
            "-" + right[1:],
            "+" + right[1:],
            right[:3] + "." + right[3:],
            right[:3] + "-" + right[3:],
            right[:3] + "\u200b" + right[3:],  # zero-width space is not white space
            right.translate(FULLWIDTH),  # the right digits, but not ASCII ones
            right.translate(ARABIC_INDIC),
            right.translate(SUPERSCRIPT),
            "\U0001f600" * 6,
            right[:5] + "\x00",
            "1e5",
            "0x1f4e",
            "9" * 32,
            wrong_code(api, lesson_id, clock),
        ]
        for code in refused_403:
            response = await join(api, lesson_id, student, code=code)
            assert_error(response, 403, "invalid_code")
        assert_error(await join(api, lesson_id, student, code=None), 403, "invalid_code")
        for body in [int(right), [right], {"code": right}, True, "9" * 33]:
            response = await join(api, lesson_id, student, code=body)
            assert_error(response, 422, "validation_error")
        # a character outside the BMP, and a lone surrogate, sent as raw JSON escapes
        raw = await api.client.post(
            f"/student/lessons/{lesson_id}/attendance",
            content=b'{"code": "\\ud800\\udfff1"}',
            headers={**student, "Content-Type": "application/json"},
        )
        assert_error(raw, 403, "invalid_code")
        lone = await api.client.post(
            f"/student/lessons/{lesson_id}/attendance",
            content=b'{"code": "12345\\ud800"}',
            headers={**student, "Content-Type": "application/json"},
        )
        assert_error(lone, 422, "validation_error")
        await assert_nothing_written(api, teacher, lesson_id, student, 0)
        assert (await join(api, lesson_id, student, code=right)).status_code == 201


@pytest.mark.parametrize("body", ["omitted", "empty", "null"])
async def test_missing_code_is_invalid_code(
    api: Api, teacher: Any, student: Any, body: str
) -> None:
    lesson_id = (await started(api, teacher[1], security=["code"]))["lesson_id"]
    path = f"/student/lessons/{lesson_id}/attendance"
    if body == "omitted":
        response = await api.client.post(path, headers=student[1])
    elif body == "empty":
        response = await api.client.post(path, json={}, headers=student[1])
    else:
        response = await api.client.post(path, json={"code": None}, headers=student[1])
    assert_error(response, 403, "invalid_code")
    await assert_nothing_written(api, teacher[1], lesson_id, student[1], 0)


async def test_code_of_another_lesson_is_refused(
    api: Api, student: Any, clock: FrozenClock
) -> None:
    _, first_teacher = await api.user_headers("teacher")
    _, second_teacher = await api.user_headers("teacher")
    first = (await started(api, first_teacher, security=["code"]))["lesson_id"]
    second = (await started(api, second_teacher, security=["code"]))["lesson_id"]
    other = now_code(api, second, clock)
    valid = {
        code_at(api, first, window_now(api, clock)),
        code_at(api, first, window_now(api, clock) - 1),
    }
    if other not in valid:
        assert_error(await join(api, first, student[1], code=other), 403, "invalid_code")
    assert (await join(api, first, student[1], code=now_code(api, first, clock))).status_code == 201


async def test_wrong_codes_are_rate_limited_per_student_and_lesson(
    make_api: Callable[..., Any], clock: FrozenClock
) -> None:
    """Brute force: after CODE_MAX_FAILURES wrong codes even the right code is refused until
    CODE_FAILURE_WINDOW_SECONDS have passed; other students and other lessons are untouched."""
    async with make_api(
        CODE_ROTATION_SECONDS=15, CODE_MAX_FAILURES=3, CODE_FAILURE_WINDOW_SECONDS=60
    ) as api:
        _, teacher = await api.user_headers("teacher")
        _, other_teacher = await api.user_headers("teacher")
        attacker, bystander = await students(api, 2)
        lesson_id = (await started(api, teacher, security=["code"]))["lesson_id"]
        other_lesson = (await started(api, other_teacher, security=["code"]))["lesson_id"]

        for wrong in wrong_codes(api, lesson_id, clock, 3):
            assert_error(await join(api, lesson_id, attacker, code=wrong), 403, "invalid_code")

        blocked = await join(api, lesson_id, attacker, code=now_code(api, lesson_id, clock))
        assert_error(blocked, 429, "too_many_attempts")
        assert blocked.headers["retry-after"] == "60"
        assert_error(await join(api, lesson_id, attacker, code="000000"), 429, "too_many_attempts")
        await assert_nothing_written(api, teacher, lesson_id, attacker, 0)

        # the limit is per student ...
        ok = await join(api, lesson_id, bystander, code=now_code(api, lesson_id, clock))
        assert ok.status_code == 201, ok.text
        # ... and per lesson
        elsewhere = await join(api, other_lesson, attacker, code=now_code(api, other_lesson, clock))
        assert elsewhere.status_code == 201, elsewhere.text

        clock.advance(seconds=59)
        still = await join(api, lesson_id, attacker, code=now_code(api, lesson_id, clock))
        assert_error(still, 429, "too_many_attempts")
        assert still.headers["retry-after"] == "1"

        clock.advance(seconds=1)  # the failure window has passed: counting starts again
        again = await join(api, lesson_id, attacker, code="abcdef")
        assert_error(again, 403, "invalid_code")
        joined = await join(api, lesson_id, attacker, code=now_code(api, lesson_id, clock))
        assert joined.status_code == 201, joined.text


async def test_code_rate_limit_speaks_of_codes_not_logins(
    make_api: Callable[..., Any],
) -> None:
    """The 429 of a join is about check-in codes; a student whose login is fine must not be
    told that their logins failed."""
    async with make_api(CODE_MAX_FAILURES=1) as api:
        _, teacher = await api.user_headers("teacher")
        _, student = await api.user_headers("student")
        lesson_id = (await started(api, teacher, security=["code"]))["lesson_id"]
        assert_error(await join(api, lesson_id, student, code="abcdef"), 403, "invalid_code")
        blocked = await join(api, lesson_id, student, code="abcdef")
        assert_error(blocked, 429, "too_many_attempts")
        assert "login" not in blocked.json()["error"]["message"].lower()


async def test_rate_limit_window_counts_from_the_first_failure(
    make_api: Callable[..., Any], clock: FrozenClock
) -> None:
    async with make_api(CODE_MAX_FAILURES=3, CODE_FAILURE_WINDOW_SECONDS=60) as api:
        _, teacher = await api.user_headers("teacher")
        _, student = await api.user_headers("student")
        lesson_id = (await started(api, teacher, security=["code"]))["lesson_id"]
        assert_error(await join(api, lesson_id, student, code="abcdef"), 403, "invalid_code")
        clock.advance(seconds=30)
        assert_error(await join(api, lesson_id, student, code="abcdef"), 403, "invalid_code")
        assert_error(await join(api, lesson_id, student, code="abcdef"), 403, "invalid_code")
        blocked = await join(api, lesson_id, student, code=now_code(api, lesson_id, clock))
        assert_error(blocked, 429, "too_many_attempts")
        assert blocked.headers["retry-after"] == "30"
        clock.advance(seconds=30)
        joined = await join(api, lesson_id, student, code=now_code(api, lesson_id, clock))
        assert joined.status_code == 201, joined.text


async def test_retried_join_returns_the_first_record_whatever_it_sends(
    make_api: Callable[..., Any], clock: FrozenClock
) -> None:
    async with make_api(CODE_MAX_FAILURES=1) as api:
        _, teacher = await api.user_headers("teacher")
        _, student = await api.user_headers("student")
        lesson_id = (
            await started(
                api,
                teacher,
                security=["code", "network", "device"],
                allowed_subnets=["127.0.0.0/24"],
            )
        )["lesson_id"]
        first = await join(
            api, lesson_id, student, code=now_code(api, lesson_id, clock), device=DEVICE_A
        )
        assert first.status_code == 201, first.text
        clock.advance(minutes=5)
        async with client_from(api, "10.1.2.3") as outside:
            for attempt in range(3):  # wrong code, wrong network, no device: more than the limit
                again = await join(api, lesson_id, student, code="999999x", client=outside)
                assert again.status_code == 200, (attempt, again.text)
                assert again.json() == first.json()
        finished = await api.client.post(f"/teacher/lessons/{lesson_id}/finish", headers=teacher)
        assert finished.status_code == 200
        after = await join(api, lesson_id, student, code="nope")
        assert after.status_code == 200
        assert after.json() == first.json()
        lesson = await api.client.get(f"/teacher/lessons/{lesson_id}", headers=teacher)
        assert lesson.json()["attendee_count"] == 1


# --- networks ------------------------------------------------------------------------------


async def test_network_defaults_to_the_teachers_subnet(
    api: Api, teacher: Any, student: Any
) -> None:
    lesson = await started(api, teacher[1], security=["network"])
    assert lesson["allowed_subnets"] == ["127.0.0.0/24"]
    async with client_from(api, "10.1.2.3") as outside:
        refused = await join(api, lesson["lesson_id"], student[1], client=outside)
    assert_error(refused, 403, "network_not_allowed")
    await assert_nothing_written(api, teacher[1], lesson["lesson_id"], student[1], 0)
    async with client_from(api, "127.0.0.200") as inside:
        joined = await join(api, lesson["lesson_id"], student[1], client=inside)
    assert joined.status_code == 201, joined.text


async def test_teacher_cannot_move_the_default_subnet_with_a_forged_header(
    api: Api, teacher: Any
) -> None:
    response = await api.client.post(
        "/teacher/lessons",
        json={"lesson_name": "Networks", "duration_minutes": 60, "security": ["network"]},
        headers={**teacher[1], "X-Forwarded-For": "10.1.2.3"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["allowed_subnets"] == ["127.0.0.0/24"]


@pytest.mark.parametrize(
    ("subnets", "host", "allowed"),
    [
        (["10.1.2.0/24"], "10.1.2.3", True),
        (["10.1.2.0/24"], "10.1.3.3", False),
        (["10.1.2.3/32"], "10.1.2.3", True),
        (["10.1.2.3/32"], "10.1.2.4", False),
        (["10.1.2.77/24"], "10.1.2.3", True),  # host bits are ignored
        (["192.168.0.0/16", "10.0.0.0/8"], "10.200.1.1", True),
        (["192.168.0.0/16", "10.0.0.0/8"], "11.0.0.1", False),
        (["0.0.0.0/0"], "203.0.113.9", True),
        (["0.0.0.0/0"], "2001:db8::1", False),  # an IPv4 rule admits no IPv6 client
        (["2001:db8::/32"], "2001:db8:ffff::1", True),
        (["2001:db8::/32"], "2001:db9::1", False),
        (["2001:db8::/32"], "10.1.2.3", False),
        (["::/0"], "10.1.2.3", False),  # an IPv6 rule admits no IPv4 client
        (["10.1.2.0/24"], "::ffff:10.1.2.3", True),  # IPv4-mapped IPv6 is the IPv4 address
        (["2001:db8:0:1::/64"], "2001:db8:0:1:abcd::5", True),
        (["2001:db8:0:1::/64"], "2001:db8:0:2::5", False),
        (["fe80::/10", "10.1.2.0/24"], "fe80::1", True),
    ],
)
async def test_network_allowed_subnets(
    api: Api, teacher: Any, student: Any, subnets: list[str], host: str, allowed: bool
) -> None:
    lesson = await started(api, teacher[1], security=["network"], allowed_subnets=subnets)
    assert lesson["allowed_subnets"] == [str(ip_network(net, strict=False)) for net in subnets]
    async with client_from(api, host) as client:
        response = await join(api, lesson["lesson_id"], student[1], client=client)
    if allowed:
        assert response.status_code == 201, response.text
    else:
        assert_error(response, 403, "network_not_allowed")


@pytest.mark.parametrize(
    ("teacher_host", "default", "inside", "outside"),
    [
        ("10.1.2.3", "10.1.2.0/24", "10.1.2.254", "10.1.3.1"),
        ("::ffff:127.0.0.1", "127.0.0.0/24", "127.0.0.9", "127.0.1.9"),
        ("2001:db8:1:2::10", "2001:db8:1:2::/64", "2001:db8:1:2:ffff::1", "2001:db8:1:3::10"),
    ],
)
async def test_network_default_follows_the_teachers_address(
    api: Api, student: Any, teacher_host: str, default: str, inside: str, outside: str
) -> None:
    _, teacher = await api.user_headers("teacher")
    async with client_from(api, teacher_host) as teacher_client:
        response = await start(api, teacher, client=teacher_client, security=["network"])
    assert response.status_code == 201, response.text
    lesson = response.json()
    assert lesson["allowed_subnets"] == [default]
    async with client_from(api, outside) as client:
        refused = await join(api, lesson["lesson_id"], student[1], client=client)
    assert_error(refused, 403, "network_not_allowed")
    async with client_from(api, inside) as client:
        joined = await join(api, lesson["lesson_id"], student[1], client=client)
    assert joined.status_code == 201, joined.text


@pytest.mark.parametrize("trusted", ["", "10.9.0.0/16"])
@pytest.mark.parametrize(
    "forwarded",
    [
        ["127.0.0.1"],
        ["127.0.0.1", "127.0.0.1"],
        ["10.9.0.5, 127.0.0.1"],
    ],
)
async def test_forged_forwarded_for_from_an_untrusted_client_is_ignored(
    make_api: Callable[..., Any], trusted: str, forwarded: list[str]
) -> None:
    async with make_api(TRUSTED_PROXIES=trusted) as api:
        _, teacher = await api.user_headers("teacher")
        _, student = await api.user_headers("student")
        lesson = await started(api, teacher, security=["network"])
        assert lesson["allowed_subnets"] == ["127.0.0.0/24"]
        async with client_from(api, "10.1.2.3") as outside:
            response = await join(
                api,
                lesson["lesson_id"],
                student,
                client=outside,
                extra=[("X-Forwarded-For", value) for value in forwarded],
            )
        assert_error(response, 403, "network_not_allowed")
        await assert_nothing_written(api, teacher, lesson["lesson_id"], student, 0)


@pytest.mark.parametrize(
    ("forwarded", "allowed"),
    [
        ([], False),  # the proxy's own address is not in the classroom
        (["127.0.0.7"], True),
        (["127.0.0.7, 10.1.2.3"], False),  # the rightmost untrusted hop is 10.1.2.3
        (["127.0.0.1, 10.1.2.3"], False),  # a fake the client prepended
        (["127.0.0.1", "10.1.2.3"], False),  # the same in two header lines
        (["10.1.2.3, 127.0.0.7"], True),  # what the client wrote is never reached
        (["127.0.0.7, 10.9.0.8"], True),  # a chain of trusted proxies is skipped
        (["127.0.0.7", "10.9.3.4"], True),
        (["10.9.0.8"], False),  # only trusted hops: the leftmost is no classroom address
        (["::ffff:127.0.0.7"], True),
        (["garbage"], False),
        (["127.0.0.7, garbage"], False),  # a malformed hop: nothing left of it is trusted
        (["garbage, 127.0.0.7"], True),
        (["127.0.0.7:4711"], False),
        ([""], False),
    ],
)
async def test_forwarded_for_through_a_trusted_proxy(
    make_api: Callable[..., Any], forwarded: list[str], allowed: bool
) -> None:
    async with make_api(TRUSTED_PROXIES="10.9.0.0/16") as api:
        _, teacher = await api.user_headers("teacher")
        _, student = await api.user_headers("student")
        lesson = await started(api, teacher, security=["network"])
        assert lesson["allowed_subnets"] == ["127.0.0.0/24"]
        async with client_from(api, "10.9.0.5") as proxy:
            response = await join(
                api,
                lesson["lesson_id"],
                student,
                client=proxy,
                extra=[("X-Forwarded-For", value) for value in forwarded],
            )
        if allowed:
            assert response.status_code == 201, response.text
        else:
            assert_error(response, 403, "network_not_allowed")


@pytest.mark.parametrize(
    ("peer", "allowed"),
    [
        ("10.9.0.5", True),
        ("::ffff:10.9.0.5", True),  # a dual-stack socket reports the proxy like this
        ("10.9.0.6", False),
        ("::ffff:10.9.0.6", False),
    ],
)
async def test_trusted_proxy_given_as_one_address(
    make_api: Callable[..., Any], peer: str, allowed: bool
) -> None:
    async with make_api(TRUSTED_PROXIES="10.9.0.5, 2001:db8:ffff::/48") as api:
        _, teacher = await api.user_headers("teacher")
        _, student = await api.user_headers("student")
        lesson_id = (await started(api, teacher, security=["network"]))["lesson_id"]
        async with client_from(api, peer) as client:
            response = await join(
                api, lesson_id, student, client=client, extra=[("X-Forwarded-For", "127.0.0.7")]
            )
        if allowed:
            assert response.status_code == 201, response.text
        else:
            assert_error(response, 403, "network_not_allowed")


async def test_teacher_behind_a_trusted_proxy_gets_the_forwarded_subnet(
    make_api: Callable[..., Any],
) -> None:
    async with make_api(TRUSTED_PROXIES="10.9.0.0/16") as api:
        _, teacher = await api.user_headers("teacher")
        async with client_from(api, "10.9.0.5") as proxy:
            response = await proxy.post(
                "/teacher/lessons",
                json={"lesson_name": "Networks", "duration_minutes": 60, "security": ["network"]},
                headers={**teacher, "X-Forwarded-For": "10.1.2.3, 192.168.7.20"},
            )
            assert response.status_code == 201, response.text
            assert response.json()["allowed_subnets"] == ["192.168.7.0/24"]
            _, other = await api.user_headers("teacher")
            unknown = await proxy.post(
                "/teacher/lessons",
                json={"lesson_name": "Networks", "duration_minutes": 60, "security": ["network"]},
                headers={**other, "X-Forwarded-For": "garbage"},
            )
            assert_error(unknown, 422, "validation_error")
            assert unknown.json()["error"]["details"][0]["type"] == "network_unknown"


MALFORMED_SUBNETS: list[Any] = [
    ["10.1.2.0/33"],
    ["10.1.2.300/24"],
    ["not-a-network"],
    [""],
    ["10.1.2.0/24", "nope"],
    ["2001:db8::/129"],
    ["10.1.2.0/-1"],
    ["10.1.2.0/24/8"],
    ["1" * 65],
    [24],
    "10.1.2.0/24",
    ["10.1.2.0/24"] * 33,
]


@pytest.mark.parametrize("security", [["network"], ["code", "network"]])
async def test_malformed_subnets_are_refused(api: Api, teacher: Any, security: list[str]) -> None:
    for subnets in MALFORMED_SUBNETS:
        response = await start(api, teacher[1], security=security, allowed_subnets=subnets)
        assert_error(response, 422, "validation_error")
    listed = await api.client.get("/teacher/lessons", headers=teacher[1])
    assert listed.json() == []


# --- devices -------------------------------------------------------------------------------


async def test_device_missing_or_malformed_is_required(
    api: Api, teacher: Any, student: Any
) -> None:
    lesson_id = (await started(api, teacher[1], security=["device"]))["lesson_id"]
    for device_headers in [
        {},
        {"X-ATTN-Device": ""},
        {"X-ATTN-Device": "a" * 15},  # too short
        {"X-ATTN-Device": "a" * 129},  # too long
        {"X-ATTN-Device": "abcdefghijklmnop!"},
        {"X-ATTN-Device": "abcdefgh ijklmnop"},
        {"X-ATTN-Device": "abcdefgh.ijklmnop"},
        {"X-ATTN-Device": "abcdefgh%2Fijklmnop"},
        {"Cookie": "attn_device=short"},
        {"Cookie": "other_cookie=abcdefghijklmnopqrst"},
    ]:
        response = await api.client.post(
            f"/student/lessons/{lesson_id}/attendance", headers={**student[1], **device_headers}
        )
        assert_error(response, 403, "device_required")
    await assert_nothing_written(api, teacher[1], lesson_id, student[1], 0)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"X-ATTN-Device": DEVICE_A}, {"X-ATTN-Device": DEVICE_A}),
        ({"Cookie": f"attn_device={DEVICE_A}"}, {"Cookie": f"attn_device={DEVICE_A}"}),
        ({"X-ATTN-Device": DEVICE_A}, {"Cookie": f"attn_device={DEVICE_A}"}),
        ({"X-ATTN-Device": DEVICE_A}, {"Cookie": f"theme=dark; attn_device={DEVICE_A}; x=1"}),
        # a bad header does not hide a valid cookie
        ({"X-ATTN-Device": DEVICE_A}, {"X-ATTN-Device": "x", "Cookie": f"attn_device={DEVICE_A}"}),
        ({"X-ATTN-Device": "A" * 128}, {"X-ATTN-Device": "A" * 128}),
        ({"X-ATTN-Device": "a_b-" * 4}, {"X-ATTN-Device": "a_b-" * 4}),
    ],
    ids=[
        "header",
        "cookie",
        "header-then-cookie",
        "among-other-cookies",
        "bad-header-good-cookie",
        "128",
        "16",
    ],
)
async def test_device_shared_by_two_students_is_refused(
    api: Api, teacher: Any, first: dict[str, str], second: dict[str, str]
) -> None:
    lesson_id = (await started(api, teacher[1], security=["device"]))["lesson_id"]
    owner, other = await students(api, 2)
    path = f"/student/lessons/{lesson_id}/attendance"
    created = await api.client.post(path, headers={**owner, **on_phone(api, owner, first)})
    assert created.status_code == 201, created.text
    refused = await api.client.post(path, headers={**other, **on_phone(api, other, second)})
    assert_error(refused, 409, "device_already_used")
    await assert_nothing_written(api, teacher[1], lesson_id, other, 1)
    again = await api.client.post(path, headers={**owner, **on_phone(api, owner, second)})
    assert again.status_code == 200
    assert again.json() == created.json()


async def test_devices_are_distinct_per_student_and_per_lesson(api: Api, teacher: Any) -> None:
    lesson_id = (await started(api, teacher[1], security=["device"]))["lesson_id"]
    first, second = await students(api, 2)
    assert (await join(api, lesson_id, first, device=DEVICE_A)).status_code == 201
    assert (await join(api, lesson_id, second, device=DEVICE_B)).status_code == 201
    # the same device in another teacher's lesson is free
    _, other_teacher = await api.user_headers("teacher")
    other_lesson = (await started(api, other_teacher, security=["device"]))["lesson_id"]
    assert (await join(api, other_lesson, second, device=DEVICE_A)).status_code == 201
    roll = await api.client.get(f"/teacher/lessons/{lesson_id}/records", headers=teacher[1])
    assert len(roll.json()) == 2


async def test_device_is_ignored_by_lessons_without_the_option(api: Api, teacher: Any) -> None:
    lesson_id = (await started(api, teacher[1]))["lesson_id"]
    first, second = await students(api, 2)
    assert (await join(api, lesson_id, first, device=DEVICE_A)).status_code == 201
    assert (await join(api, lesson_id, second, device=DEVICE_A)).status_code == 201
    third = (await students(api, 1))[0]
    assert (await join(api, lesson_id, third)).status_code == 201


# --- late ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("late_after", "after", "expected"),
    [
        (5, timedelta(0), "present"),
        (5, timedelta(minutes=4, seconds=59), "present"),
        (5, timedelta(minutes=5), "present"),
        (5, timedelta(minutes=5, milliseconds=1), "late"),
        (5, timedelta(minutes=6), "late"),
        (0, timedelta(0), "present"),
        (0, timedelta(seconds=1), "late"),
        (None, timedelta(minutes=59), "present"),
    ],
)
async def test_late_after_minutes(
    api: Api,
    teacher: Any,
    student: Any,
    clock: FrozenClock,
    late_after: int | None,
    after: timedelta,
    expected: str,
) -> None:
    lesson = await started(api, teacher[1], late_after_minutes=late_after)
    assert lesson["late_after_minutes"] == late_after
    clock.advance(microseconds=after // timedelta(microseconds=1))
    response = await join(api, lesson["lesson_id"], student[1])
    assert response.status_code == 201, response.text
    assert response.json()["status"] == expected
    own = await api.client.get(
        f"/student/lessons/{lesson['lesson_id']}/attendance", headers=student[1]
    )
    assert own.json()["status"] == expected
    roll = await api.client.get(
        f"/teacher/lessons/{lesson['lesson_id']}/records", headers=teacher[1]
    )
    assert [record["status"] for record in roll.json()] == [expected]


async def test_late_after_minutes_is_validated(api: Api, teacher: Any) -> None:
    for late_after in [-1, 721, 5.0, 5.5, "5", True]:
        response = await start(api, teacher[1], late_after_minutes=late_after)
        assert_error(response, 422, "validation_error")


# --- combinations --------------------------------------------------------------------------


@pytest.mark.parametrize("failure", ["code", "network", "device_missing", "device_used", "none"])
async def test_code_network_and_device_together(
    make_api: Callable[..., Any], clock: FrozenClock, failure: str
) -> None:
    """Each check fails on its own with its own error; a refused join writes nothing (not
    even the device claim); all checks satisfied give 201."""
    async with make_api(CODE_MAX_FAILURES=3) as api:
        _, teacher = await api.user_headers("teacher")
        owner, student, later = await students(api, 3)
        lesson = await started(api, teacher, security=["code", "network", "device"])
        assert sorted(lesson["security"]) == ["code", "device", "network"]
        assert lesson["allowed_subnets"] == ["127.0.0.0/24"]
        lesson_id = lesson["lesson_id"]
        code = now_code(api, lesson_id, clock)
        owned = await join(api, lesson_id, owner, code=code, device=DEVICE_B)
        assert owned.status_code == 201, owned.text
        roll_before = (
            await api.client.get(f"/teacher/lessons/{lesson_id}/records", headers=teacher)
        ).json()

        async with client_from(api, "10.1.2.3") as outside:
            if failure == "code":
                response = await join(
                    api, lesson_id, student, code=wrong_code(api, lesson_id, clock), device=DEVICE_A
                )
                assert_error(response, 403, "invalid_code")
            elif failure == "network":
                response = await join(
                    api, lesson_id, student, code=code, device=DEVICE_A, client=outside
                )
                assert_error(response, 403, "network_not_allowed")
            elif failure == "device_missing":
                response = await join(api, lesson_id, student, code=code)
                assert_error(response, 403, "device_required")
            elif failure == "device_used":
                response = await join(api, lesson_id, student, code=code, device=DEVICE_B)
                assert_error(response, 409, "device_already_used")
            else:
                response = await join(api, lesson_id, student, code=code, device=DEVICE_A)
                assert response.status_code == 201, response.text
                assert response.json()["status"] == "present"
                return

        roll_after = (
            await api.client.get(f"/teacher/lessons/{lesson_id}/records", headers=teacher)
        ).json()
        assert roll_after == roll_before
        await assert_nothing_written(api, teacher, lesson_id, student, 1)
        # the refused attempt did not claim DEVICE_A: another student may use it
        taken = await join(api, lesson_id, later, code=code, device=DEVICE_A)
        assert taken.status_code == 201, taken.text
        # and the refused student can still join once everything is right
        fixed = await join(api, lesson_id, student, code=code, device="device-C-0123456789")
        assert fixed.status_code == 201, fixed.text


@pytest.mark.parametrize(
    ("right_code", "right_network", "device", "expected"),
    [
        (False, False, None, (403, "invalid_code")),
        (False, True, DEVICE_B, (403, "invalid_code")),
        (True, False, None, (403, "network_not_allowed")),
        (True, False, DEVICE_B, (403, "network_not_allowed")),
        (True, True, None, (403, "device_required")),
        (True, True, DEVICE_B, (409, "device_already_used")),
    ],
)
async def test_checks_are_made_in_the_documented_order(
    make_api: Callable[..., Any],
    clock: FrozenClock,
    right_code: bool,
    right_network: bool,
    device: str | None,
    expected: tuple[int, str],
) -> None:
    """Code, then network, then device: several failures report the first of them."""
    async with make_api(CODE_MAX_FAILURES=100) as api:
        _, teacher = await api.user_headers("teacher")
        owner, student = await students(api, 2)
        lesson_id = (await started(api, teacher, security=["device", "network", "code"]))[
            "lesson_id"
        ]
        code = now_code(api, lesson_id, clock)
        assert (await join(api, lesson_id, owner, code=code, device=DEVICE_B)).status_code == 201
        async with client_from(api, "127.0.0.5" if right_network else "10.1.2.3") as client:
            response = await join(
                api,
                lesson_id,
                student,
                code=code if right_code else wrong_code(api, lesson_id, clock),
                device=device,
                client=client,
            )
        assert_error(response, *expected)
        await assert_nothing_written(api, teacher, lesson_id, student, 1)


async def test_only_wrong_codes_count_towards_the_limit(
    make_api: Callable[..., Any], clock: FrozenClock
) -> None:
    async with make_api(CODE_MAX_FAILURES=2) as api:
        _, teacher = await api.user_headers("teacher")
        _, student = await api.user_headers("student")
        lesson_id = (await started(api, teacher, security=["code", "network", "device"]))[
            "lesson_id"
        ]
        code = now_code(api, lesson_id, clock)
        async with client_from(api, "10.1.2.3") as outside:
            for _ in range(4):
                response = await join(api, lesson_id, student, code=code, client=outside)
                assert_error(response, 403, "network_not_allowed")
        for _ in range(4):
            assert_error(await join(api, lesson_id, student, code=code), 403, "device_required")
        joined = await join(api, lesson_id, student, code=code, device=DEVICE_A)
        assert joined.status_code == 201, joined.text


# --- verification --------------------------------------------------------------------------


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


# --- races ---------------------------------------------------------------------------------


async def test_parallel_guesses_cannot_exceed_the_limit(
    make_api: Callable[..., Any], clock: FrozenClock
) -> None:
    """Brute force in parallel: the count and the check are one atomic step."""
    async with make_api(CODE_MAX_FAILURES=3) as api:
        _, teacher = await api.user_headers("teacher")
        _, student = await api.user_headers("student")
        lesson_id = (await started(api, teacher, security=["code"]))["lesson_id"]
        guesses = wrong_codes(api, lesson_id, clock, 20)
        assert len(guesses) == 20
        responses = await asyncio.gather(
            *(join(api, lesson_id, student, code=guess) for guess in guesses)
        )
        codes_seen = sorted(response.json()["error"]["code"] for response in responses)
        assert codes_seen == ["invalid_code"] * 3 + ["too_many_attempts"] * 17
        await assert_nothing_written(api, teacher, lesson_id, student, 0)


async def test_parallel_joins_with_one_device_admit_one_student(api: Api, teacher: Any) -> None:
    lesson_id = (await started(api, teacher[1], security=["device"]))["lesson_id"]
    crowd = await students(api, 6)
    responses = await asyncio.gather(
        *(join(api, lesson_id, headers, device=DEVICE_A) for headers in crowd)
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * 5
    assert all(
        response.json()["error"]["code"] == "device_already_used"
        for response in responses
        if response.status_code == 409
    )
    lesson = await api.client.get(f"/teacher/lessons/{lesson_id}", headers=teacher[1])
    assert lesson.json()["attendee_count"] == 1


async def test_parallel_repeated_joins_create_one_record(
    api: Api, teacher: Any, student: Any, clock: FrozenClock
) -> None:
    lesson_id = (await started(api, teacher[1], security=["code", "device"]))["lesson_id"]
    code = now_code(api, lesson_id, clock)
    responses = await asyncio.gather(
        *(join(api, lesson_id, student[1], code=code, device=DEVICE_A) for _ in range(8))
    )
    assert sorted(response.status_code for response in responses) == [200] * 7 + [201]
    assert len({response.text for response in responses}) == 1
    lesson = await api.client.get(f"/teacher/lessons/{lesson_id}", headers=teacher[1])
    assert lesson.json()["attendee_count"] == 1
