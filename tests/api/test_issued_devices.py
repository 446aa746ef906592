"""Device ids are the server's: issued at sign-in, sealed with the server key and bound to one
student, checked on every check-in (API and pages). The `device` option refuses any other id;
and since no browser can prove it is one phone, every lesson also flags the records that share
a device or a client address with another student's, for the teacher to see."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from redis.asyncio import RedisCluster

from attn.http.schemas import RecordOut
from attn.services import devices
from attn.store import keys
from attn.tasks.sweep import sweep_attendances
from tests.support.api import PASSWORD, Api
from tests.support.sign_in_form import sign_in_token_of

Headers = dict[str, str]
ISSUED = re.compile(r"^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}$")


async def login(api: Api, number: str, **body: Any) -> dict[str, Any]:
    response = await api.client.post(
        "/auth/login", json={"school_number": number, "password": PASSWORD, **body}
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def bearer(answer: dict[str, Any]) -> Headers:
    return {"Authorization": f"Bearer {answer['access_token']}"}


async def started(api: Api, headers: Headers, **options: Any) -> str:
    response = await api.client.post(
        "/teacher/lessons",
        json={"lesson_name": "Optics", "duration_minutes": 60, **options},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    lesson_id: str = response.json()["lesson_id"]
    return lesson_id


@asynccontextmanager
async def client_from(api: Api, host: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app whose connection comes from `host`."""
    transport = httpx.ASGITransport(app=api.app, client=(host, 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver/api/v1") as c:
        yield c


async def join(
    client: httpx.AsyncClient, lesson_id: str, headers: Headers, device: str | None = None
) -> httpx.Response:
    sent = dict(headers) | ({"X-ATTN-Device": device} if device is not None else {})
    return await client.post(f"/student/lessons/{lesson_id}/attendance", headers=sent)


def error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


async def test_login_hands_each_student_a_device_id_bound_to_them(api: Api) -> None:
    first = await api.add_user("student")
    second = await api.add_user("student")
    teacher = await api.add_user("teacher")
    secret = api.context.secret_key

    fresh = await login(api, first.school_number)
    phone = fresh["device_id"]
    assert ISSUED.fullmatch(phone), phone
    assert devices.is_issued(secret, phone, first.school_number)
    assert not devices.is_issued(secret, phone, second.school_number)
    # a login that brings the student's own id keeps it
    again = await login(api, first.school_number, device_id=phone)
    assert again["device_id"] == phone
    header_login = await api.client.post(
        "/auth/login",
        json={"school_number": first.school_number, "password": PASSWORD},
        headers={"X-ATTN-Device": phone},
    )
    assert header_login.json()["device_id"] == phone
    # another student signing in on the same phone gets the same phone, sealed for them
    borrowed = await login(api, second.school_number, device_id=phone)
    assert borrowed["device_id"] != phone
    assert devices.device_of(borrowed["device_id"]) == devices.device_of(phone)
    assert devices.is_issued(secret, borrowed["device_id"], second.school_number)
    # an id of the app's own making names one phone: the same id at every login
    made_up = "phone-made-up-0123456789"
    named = (await login(api, first.school_number, device_id=made_up))["device_id"]
    assert named == (await login(api, first.school_number, device_id=made_up))["device_id"]
    assert named != made_up and devices.is_issued(secret, named, first.school_number)
    # a teacher checks in nowhere: no device id unless a device is remembered
    assert (await login(api, teacher.school_number))["device_id"] is None

    # a remembered phone: the refresh token is bound to the id handed out with it
    remembered = await login(api, first.school_number, device_id=phone, remember_device=True)
    assert remembered["device_id"] == phone
    refreshed = await api.client.post(
        "/auth/refresh", json={"refresh_token": remembered["refresh_token"], "device_id": phone}
    )
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["device_id"] == phone
    # the same phone, whoever's id it carries, is the remembered one; another phone is not
    same_phone = await api.client.post(
        "/auth/refresh",
        json={"refresh_token": remembered["refresh_token"], "device_id": borrowed["device_id"]},
    )
    assert same_phone.status_code == 200
    assert same_phone.json()["device_id"] == phone
    for other_phone in (named, made_up, devices.issue(secret, first.school_number)):
        response = await api.client.post(
            "/auth/refresh",
            json={"refresh_token": remembered["refresh_token"], "device_id": other_phone},
        )
        assert response.status_code == 401
        assert error_code(response) == "invalid_refresh_token"


async def test_device_option_refuses_an_id_the_server_did_not_issue(api: Api) -> None:
    _, teacher = await api.user_headers("teacher")
    owner = await api.add_user("student")
    student = await api.add_user("student")
    lesson_id = await started(api, teacher, security=["device"])
    owner_phone = (await login(api, owner.school_number))["device_id"]
    answer = await login(api, student.school_number)
    headers, own_phone = bearer(answer), answer["device_id"]
    device_part = devices.device_of(own_phone)
    refused = {
        "made up": "phone-made-up-0123456789",
        "made up in the issued form": f"{device_part}.{'A' * 22}",
        "another student's": owner_phone,
        "a seal of another device": f"{devices.device_of(owner_phone)}.{own_phone[23:]}",
    }
    for what, device in refused.items():
        response = await join(api.client, lesson_id, headers, device)
        assert response.status_code == 403, (what, response.text)
        assert error_code(response) == "device_required", what
    cookie = await api.client.post(
        f"/student/lessons/{lesson_id}/attendance",
        headers={**headers, "Cookie": f"attn_device={owner_phone}"},
    )
    assert (cookie.status_code, error_code(cookie)) == (403, "device_required")
    roll = await api.client.get(f"/teacher/lessons/{lesson_id}/records", headers=teacher)
    assert roll.json() == []
    # the student's own id is taken, and names the phone in the lesson
    accepted = await join(api.client, lesson_id, headers, own_phone)
    assert accepted.status_code == 201, accepted.text
    owners = await api.context.redis_client.redis.hgetall(keys.lesson_devices(lesson_id))
    assert owners == {device_part: student.school_number}


async def test_device_option_refuses_one_phone_for_a_second_student(api: Api) -> None:
    _, teacher = await api.user_headers("teacher")
    first = await api.add_user("student")
    second = await api.add_user("student")
    lesson_id = await started(api, teacher, security=["device"])
    answer = await login(api, first.school_number)
    phone = answer["device_id"]
    assert (await join(api.client, lesson_id, bearer(answer), phone)).status_code == 201
    # the friend signs in on the same phone: the id is theirs, the phone is not
    friend = await login(api, second.school_number, device_id=phone)
    refused = await join(api.client, lesson_id, bearer(friend), friend["device_id"])
    assert (refused.status_code, error_code(refused)) == (409, "device_already_used")
    roll = await api.client.get(f"/teacher/lessons/{lesson_id}/records", headers=teacher)
    assert [(r["student_number"], r["flags"]) for r in roll.json()] == [(first.school_number, [])]


async def test_shared_device_and_shared_address_flag_both_records(
    api: Api, redis: aioredis.Redis
) -> None:
    _, teacher = await api.user_headers("teacher")
    people = [await api.add_user("student") for _ in range(5)]
    lesson_id = await started(api, teacher)
    feed = redis.pubsub()
    await feed.ssubscribe(keys.lesson_events(lesson_id))  # sharded: SPUBLISH in the scripts
    read = feed.get_sharded_message if isinstance(redis, RedisCluster) else feed.get_message
    await read(timeout=1)  # the subscription's confirmation

    async def sign_in(index: int, phone: str | None = None) -> tuple[Headers, str]:
        answer = await login(api, people[index].school_number, device_id=phone)
        return bearer(answer), answer["device_id"]

    first, phone = await sign_in(0)
    async with (
        client_from(api, "10.1.2.3") as classroom,
        client_from(api, "10.1.2.4") as other_seat,
        client_from(api, "10.1.2.5") as third_seat,
    ):
        assert (await join(classroom, lesson_id, first, phone)).json()["flags"] == []
        # a friend checks in on the first student's phone (signed in there), elsewhere
        friend, friend_phone = await sign_in(1, phone)
        joined = await join(other_seat, lesson_id, friend, friend_phone)
        assert joined.json()["flags"] == ["shared_device"]
        # another phone from the first student's address
        neighbour, neighbour_phone = await sign_in(2)
        joined = await join(classroom, lesson_id, neighbour, neighbour_phone)
        assert joined.json()["flags"] == ["shared_address"]
        # both at once: the same phone and the same address as the friend
        third, third_phone = await sign_in(3, friend_phone)
        joined = await join(other_seat, lesson_id, third, third_phone)
        assert joined.json()["flags"] == ["shared_device", "shared_address"]
        # a phone and an address of its own: nothing
        alone, alone_phone = await sign_in(4)
        assert (await join(third_seat, lesson_id, alone, alone_phone)).json()["flags"] == []

    roll = await api.client.get(f"/teacher/lessons/{lesson_id}/records", headers=teacher)
    flags = {r["student_number"]: r["flags"] for r in roll.json()}
    assert flags == {
        people[0].school_number: ["shared_device", "shared_address"],
        people[1].school_number: ["shared_device", "shared_address"],
        people[2].school_number: ["shared_address"],
        people[3].school_number: ["shared_device", "shared_address"],
        people[4].school_number: [],
    }
    # every stored record, flagged by its own join or by a later one, is the API's Record
    _, raw_roll = await api.context.redis_client.read_roll_json(lesson_id)
    for raw in raw_roll:
        assert RecordOut.model_validate_json(raw).model_dump_json() == raw
    # the earlier records were published again with their new flags
    published = []
    while (message := await read(timeout=0.5)) is not None:
        if message["type"] == "smessage":
            published.append(json.loads(message["data"]))
    await feed.aclose()
    first_updates = [
        r["flags"] for r in published if r["student_number"] == people[0].school_number
    ]
    assert first_updates == [[], ["shared_device"], ["shared_device", "shared_address"]]
    # the flags stay with the records in SQL, and in the exports
    await api.client.post(f"/teacher/lessons/{lesson_id}/finish", headers=teacher)
    assert (await sweep_attendances(api.context)).persisted == 1
    persisted = await api.client.get(f"/teacher/lessons/{lesson_id}/records", headers=teacher)
    assert {r["student_number"]: r["flags"] for r in persisted.json()} == flags
    token = teacher["Authorization"].removeprefix("Bearer ")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app),
        base_url="http://testserver",
        cookies={"attn_session": token},
    ) as pages:
        exported = await pages.get(f"/teacher/lessons/{lesson_id}/export.csv")
        table = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
        by_number = {row[0]: row[-1] for row in table[1:]}
        assert by_number[people[2].school_number] == "shared_address"
        assert by_number[people[0].school_number] == "shared_device, shared_address"


async def test_loopback_addresses_are_shared_by_everyone_and_flag_no_one(api: Api) -> None:
    """A proxy on the service's own host that does not pass the client's address on makes
    every student come from 127.0.0.1: that says nothing about a phone."""
    _, teacher = await api.user_headers("teacher")
    lesson_id = await started(api, teacher)
    for _ in range(3):
        student = await api.add_user("student")
        answer = await login(api, student.school_number)
        joined = await join(api.client, lesson_id, bearer(answer), answer["device_id"])
        assert joined.json()["flags"] == []
    addresses = await api.context.redis_client.redis.hgetall(keys.lesson_addresses(lesson_id))
    assert addresses == {}


# --- the pages ------------------------------------------------------------------------


def page_browser(api: Api, host: str = "127.0.0.1") -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app, client=(host, 5000)),
        base_url="http://testserver",
        headers={"Accept": "text/html"},
    )


async def page_sign_in(browser: httpx.AsyncClient, number: str) -> httpx.Response:
    form = await browser.get("/login")
    data = {
        "school_number": number,
        "password": PASSWORD,
        "next": "/",
        "sign_in_token": sign_in_token_of(form),
    }
    signed = await browser.post("/login", data=data)
    assert signed.status_code == 303, signed.text
    return signed


def csrf_of(page: httpx.Response) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert match, page.text[:300]
    return match.group(1)


async def page_join(browser: httpx.AsyncClient, lesson_id: str) -> httpx.Response:
    page = await browser.get(f"/join/{lesson_id}")
    return await browser.post(f"/student/lessons/{lesson_id}/join", data={"csrf": csrf_of(page)})


async def test_pages_issue_the_device_cookie_to_the_student_who_signs_in(api: Api) -> None:
    secret = api.context.secret_key
    first = await api.add_user("student")
    second = await api.add_user("student")
    teacher = await api.add_user("teacher")
    async with page_browser(api) as browser:
        # nobody signed in: no device id is handed out
        await browser.get("/login")
        assert "attn_device" not in browser.cookies
        await page_sign_in(browser, teacher.school_number)
        assert "attn_device" not in browser.cookies
        await page_sign_in(browser, first.school_number)
        phone = browser.cookies["attn_device"]
        assert devices.is_issued(secret, phone, first.school_number)
        # the same browser for another student: the same phone, sealed for them
        await page_sign_in(browser, second.school_number)
        resealed = browser.cookies["attn_device"]
        assert devices.is_issued(secret, resealed, second.school_number)
        assert devices.device_of(resealed) == devices.device_of(phone)


async def test_page_check_in_takes_only_an_issued_device_and_issues_one_if_needed(
    api: Api,
) -> None:
    _, teacher = await api.user_headers("teacher")
    lesson_id = await started(api, teacher, security=["device"])
    first = await api.add_user("student")
    second = await api.add_user("student")
    third = await api.add_user("student")
    store = api.context.redis_client.redis
    async with page_browser(api) as phone:
        await page_sign_in(phone, first.school_number)
        assert (await page_join(phone, lesson_id)).status_code == 200
        # a friend signs in on the same phone: refused in a lesson with the device option
        await page_sign_in(phone, second.school_number)
        refused = await page_join(phone, lesson_id)
        assert refused.status_code == 409
        assert "This device has already checked in another student" in refused.text
    async with page_browser(api) as laptop:
        await page_sign_in(laptop, third.school_number)
        # a cookie of the student's own making (or a huge one, up to the header limit) is not a
        # device id: the check-in gets an id issued for this phone instead, and only its device
        # part is stored
        [given] = [cookie for cookie in laptop.cookies.jar if cookie.name == "attn_device"]
        laptop.cookies.set("attn_device", "x" * 20_000, domain=given.domain)
        joined = await page_join(laptop, lesson_id)
        assert joined.status_code == 200, joined.text[:300]
        issued = laptop.cookies["attn_device"]
        assert devices.is_issued(api.context.secret_key, issued, third.school_number)
    owners = await store.hgetall(keys.lesson_devices(lesson_id))
    assert sorted(owners.values()) == sorted([first.school_number, third.school_number])
    assert all(len(device) == devices.DEVICE_CHARS for device in owners)


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ["same device as another student", "same address as another student"]),
        ("tr", ["başka öğrenciyle aynı cihaz", "başka öğrenciyle aynı adres"]),
    ],
)
async def test_roll_page_shows_the_shared_flags(api: Api, lang: str, words: list[str]) -> None:
    _, teacher = await api.user_headers("teacher")
    lesson_id = await started(api, teacher)
    first = await api.add_user("student")
    second = await api.add_user("student")
    async with client_from(api, "10.9.8.7") as seat:
        answer = await login(api, first.school_number)
        assert (await join(seat, lesson_id, bearer(answer), answer["device_id"])).is_success
        other = await login(api, second.school_number, device_id=answer["device_id"])
        assert (await join(seat, lesson_id, bearer(other), other["device_id"])).is_success
    token = teacher["Authorization"].removeprefix("Bearer ")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app),
        base_url="http://testserver",
        cookies={"attn_session": token},
    ) as pages:
        for path in (f"/teacher/lessons/{lesson_id}", f"/teacher/lessons/{lesson_id}/roll"):
            page = await pages.get(path, params={"lang": lang})
            assert page.status_code == 200
            for word in words:
                assert page.text.count(word) == 2, (path, word)  # on both students' rows
