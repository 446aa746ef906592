"""Network rules: a lesson admits joins from its subnets (by default the teacher's own /24 or
/64); X-Forwarded-For counts only through trusted proxies and is walked from the right;
malformed subnets are refused."""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import ip_network
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.check_in import (
    assert_error,
    assert_nothing_written,
    client_from,
    join,
    start,
    started,
)


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
