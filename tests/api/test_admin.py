"""The administrator's API: accounts found, created, changed, deactivated and imported, the
sessions a change ends at once, the last administrator kept, and the append-only audit."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from attn.db import history
from attn.models import utc_now
from tests.support.api import PASSWORD, Api

HEADER = "school_number,full_name,role,password\n"


async def _admin(api: Api) -> dict[str, str]:
    _, headers = await api.user_headers("admin")
    return headers


async def _login(api: Api, number: str, password: str = PASSWORD) -> Any:
    return await api.client.post(
        "/auth/login", json={"school_number": number, "password": password}
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/admin/users", None),
        ("GET", "/admin/users/S1", None),
        ("POST", "/admin/users", {"school_number": "X1", "full_name": "X", "role": "student"}),
        ("PATCH", "/admin/users/S1", {"active": False}),
        ("POST", "/admin/users/import", None),
        ("GET", "/admin/audit", None),
    ],
)
async def test_only_an_admin_may_administer(
    api: Api, method: str, path: str, body: dict[str, Any] | None
) -> None:
    anonymous = await api.client.request(method, path, json=body)
    assert anonymous.status_code == 401
    for role in ("teacher", "student"):
        _, headers = await api.user_headers(role)
        refused = await api.client.request(method, path, json=body, headers=headers)
        assert refused.status_code == 403, (role, refused.text)
        assert refused.json()["error"]["code"] == "forbidden"


async def test_create_then_find_by_number_and_folded_name(api: Api) -> None:
    admin = await _admin(api)
    created = await api.client.post(
        "/admin/users",
        json={"school_number": "S9001", "full_name": "Şükrü Yılmaz", "role": "student"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["school_number"] == "S9001"
    assert body["active"] is True
    assert body["has_password"] is False  # single sign-on only
    assert body["sso"] is False
    assert body["last_login_at"] is None
    await api.client.post(
        "/admin/users",
        json={
            "school_number": "T9001",
            "full_name": "Sükran Öz",
            "role": "teacher",
            "password": "teacher-pw",
        },
        headers=admin,
    )

    async def numbers(**params: Any) -> list[str]:
        found = await api.client.get("/admin/users", params=params, headers=admin)
        assert found.status_code == 200, found.text
        return [user["school_number"] for user in found.json()]

    assert await numbers(query="sukru") == ["S9001"]
    assert await numbers(query="yil") == ["S9001"]
    assert await numbers(query="SÜK") == ["S9001", "T9001"]
    assert await numbers(query="S90") == ["S9001"]
    assert await numbers(query="suk", role="teacher") == ["T9001"]
    assert await numbers(query="nobody") == []
    assert await numbers(query="%") == []  # a LIKE wildcard is a letter like any other
    assert await numbers(query="suk", limit=1, offset=1) == ["T9001"]
    teacher = await _login(api, "T9001", "teacher-pw")
    assert teacher.status_code == 200
    found = await api.client.get("/admin/users/T9001", headers=admin)
    assert found.json()["has_password"] is True
    assert found.json()["last_login_at"] is not None


async def test_create_refusals(api: Api) -> None:
    admin = await _admin(api)
    user = {"school_number": "S9010", "full_name": "Elif Kaya", "role": "student"}
    assert (await api.client.post("/admin/users", json=user, headers=admin)).status_code == 201
    again = await api.client.post("/admin/users", json=user, headers=admin)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "user_exists"
    for bad in (
        {**user, "school_number": "S 1"},
        {**user, "role": "principal"},
        {**user, "full_name": ""},
        {**user, "password": ""},
        {**user, "extra": 1},
    ):
        refused = await api.client.post("/admin/users", json=bad, headers=admin)
        assert refused.status_code == 422, bad
        assert refused.json()["error"]["code"] == "validation_error"
    missing = await api.client.patch("/admin/users/NOPE1", json={"active": False}, headers=admin)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "user_not_found"


async def test_deactivating_ends_sessions_at_once_and_login_looks_like_a_wrong_password(
    api: Api,
) -> None:
    admin = await _admin(api)
    student = await api.add_user("student")
    device = "d" * 32
    login = await api.client.post(
        "/auth/login",
        json={
            "school_number": student.school_number,
            "password": PASSWORD,
            "remember_device": True,
            "device_id": device,
        },
    )
    token = {"Authorization": f"Bearer {login.json()['access_token']}"}
    refresh_token = login.json()["refresh_token"]
    device_id = login.json()["device_id"]
    assert (await api.client.get("/auth/me", headers=token)).status_code == 200

    changed = await api.client.patch(
        f"/admin/users/{student.school_number}", json={"active": False}, headers=admin
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["active"] is False
    assert (await api.client.get("/auth/me", headers=token)).status_code == 401
    refreshed = await api.client.post(
        "/auth/refresh", json={"refresh_token": refresh_token, "device_id": device_id}
    )
    assert refreshed.status_code == 401
    refused = await _login(api, student.school_number)
    wrong = await _login(api, student.school_number, "not-the-password")
    assert refused.status_code == wrong.status_code == 401
    assert refused.json() == wrong.json()

    back = await api.client.patch(
        f"/admin/users/{student.school_number}", json={"active": True}, headers=admin
    )
    assert back.json()["active"] is True
    assert (await _login(api, student.school_number)).status_code == 200


async def test_a_role_change_ends_the_session_and_the_next_login_has_the_new_role(
    api: Api,
) -> None:
    admin = await _admin(api)
    teacher, token = await api.user_headers("teacher")
    changed = await api.client.patch(
        f"/admin/users/{teacher.school_number}", json={"role": "student"}, headers=admin
    )
    assert changed.json()["role"] == "student"
    assert (await api.client.get("/auth/me", headers=token)).status_code == 401
    again = await _login(api, teacher.school_number)
    assert again.json()["user"]["role"] == "student"


async def test_setting_a_password_ends_sessions_and_only_the_new_one_works(api: Api) -> None:
    admin = await _admin(api)
    student, token = await api.user_headers("student")
    changed = await api.client.patch(
        f"/admin/users/{student.school_number}", json={"password": "brand-new-pw"}, headers=admin
    )
    assert changed.status_code == 200
    assert (await api.client.get("/auth/me", headers=token)).status_code == 401
    assert (await _login(api, student.school_number)).status_code == 401
    assert (await _login(api, student.school_number, "brand-new-pw")).status_code == 200


async def test_a_rename_keeps_the_session(api: Api) -> None:
    admin = await _admin(api)
    student, token = await api.user_headers("student")
    changed = await api.client.patch(
        f"/admin/users/{student.school_number}", json={"full_name": "Zeynep Çelik"}, headers=admin
    )
    assert changed.json()["full_name"] == "Zeynep Çelik"
    assert (await api.client.get("/auth/me", headers=token)).status_code == 200
    found = await api.client.get("/admin/users", params={"query": "celik"}, headers=admin)
    assert [user["school_number"] for user in found.json()] == [student.school_number]


async def test_the_last_active_admin_stays(api: Api) -> None:
    me, headers = await api.user_headers("admin")
    for change in ({"active": False}, {"role": "teacher"}):
        refused = await api.client.patch(
            f"/admin/users/{me.school_number}", json=change, headers=headers
        )
        assert refused.status_code == 409, change
        assert refused.json()["error"]["code"] == "last_admin"
    assert (await api.client.get("/auth/me", headers=headers)).status_code == 200
    other = await api.add_user("admin")
    demoted = await api.client.patch(
        f"/admin/users/{other.school_number}", json={"role": "teacher"}, headers=headers
    )
    assert demoted.status_code == 200
    again = await api.client.patch(
        f"/admin/users/{me.school_number}", json={"active": False}, headers=headers
    )
    assert again.status_code == 409


async def test_two_admins_deactivating_each_other_at_once_leave_one(api: Api) -> None:
    first, first_headers = await api.user_headers("admin")
    second, second_headers = await api.user_headers("admin")
    answers = await asyncio.gather(
        api.client.patch(
            f"/admin/users/{second.school_number}", json={"active": False}, headers=first_headers
        ),
        api.client.patch(
            f"/admin/users/{first.school_number}", json={"active": False}, headers=second_headers
        ),
    )
    statuses = sorted(answer.status_code for answer in answers)
    # one wins; the other is refused (409 last_admin, or 401: its own session just ended)
    assert statuses[0] == 200 and statuses[1] in (401, 409, 503), [a.text for a in answers]
    login_first = await _login(api, first.school_number)
    login_second = await _login(api, second.school_number)
    assert sorted([login_first.status_code, login_second.status_code]) == [200, 401]


async def test_import_all_or_nothing_with_every_bad_row(api: Api) -> None:
    admin = await _admin(api)
    await api.add_user("teacher", school_number="T9100")
    bad = (
        HEADER
        + "S9100,Good One,student,pw1\n"
        + "S 9101,Bad Number,student,pw2\n"
        + "T9100,Taken,teacher,pw3\n"
        + "S9102,Bad Role,principal,pw4\n"
        + "S9100,Twice,student,pw5\n"
    )
    refused = await api.client.post(
        "/admin/users/import", content=bad.encode(), headers={**admin, "Content-Type": "text/csv"}
    )
    assert refused.status_code == 422, refused.text
    details = refused.json()["error"]["details"]
    assert [(d["line"], d["problem"]) for d in details] == [
        (3, "invalid"),
        (4, "exists"),
        (5, "invalid"),
        (6, "duplicate"),
    ]
    found = await api.client.get("/admin/users", params={"query": "S91"}, headers=admin)
    assert found.json() == []

    good = HEADER + "S9100,Good One,student,pw1\nT9101,New Teacher,teacher,\n"
    dry = await api.client.post(
        "/admin/users/import", params={"dry_run": "true"}, content=good.encode(), headers=admin
    )
    assert dry.status_code == 200
    assert dry.json() == {
        "imported": 0,
        "claimed": [],
        "school_numbers": ["S9100", "T9101"],
        "dry_run": True,
    }
    assert (await _login(api, "S9100", "pw1")).status_code == 401  # nothing made yet
    done = await api.client.post("/admin/users/import", content=good.encode(), headers=admin)
    assert done.status_code == 200, done.text
    assert done.json()["imported"] == 2
    assert (await _login(api, "S9100", "pw1")).status_code == 200
    not_utf8 = await api.client.post("/admin/users/import", content=b"\xff\xfe\x00", headers=admin)
    assert not_utf8.status_code == 422
    assert not_utf8.json()["error"]["details"][0]["problem"] == "encoding"
    empty = await api.client.post("/admin/users/import", content=HEADER.encode(), headers=admin)
    assert empty.status_code == 422
    assert empty.json()["error"]["details"][0]["problem"] == "empty"


async def test_every_change_is_audited_without_passwords_and_the_audit_cannot_change(
    api: Api,
) -> None:
    admin_user, admin = await api.user_headers("admin")
    await api.client.post(
        "/admin/users",
        json={"school_number": "S9200", "full_name": "Can Öztürk", "role": "student"},
        headers=admin,
    )
    await api.client.patch(
        "/admin/users/S9200", json={"active": False, "password": "secret-pw-1"}, headers=admin
    )
    await api.client.post(
        "/admin/users/import",
        content=(HEADER + "S9201,Imported,student,pw\n").encode(),
        headers=admin,
    )
    log = await api.client.get("/admin/audit", headers=admin)
    assert log.status_code == 200
    entries = log.json()
    mine = [e for e in entries if e["actor"] == admin_user.school_number]
    assert [(e["action"], e["target"]) for e in mine] == [
        ("import", "S9201"),
        ("update", "S9200"),
        ("create", "S9200"),
    ]
    update = mine[1]
    assert update["before"]["active"] is True and update["after"]["active"] is False
    assert update["before"]["has_password"] is False and update["after"]["has_password"] is True
    assert update["after"]["password"] == "set"
    assert mine[2]["before"] is None
    assert "secret-pw-1" not in log.text and "argon2" not in log.text
    one = await api.client.get("/admin/audit", params={"target": "S9201"}, headers=admin)
    assert [e["target"] for e in one.json()] == ["S9201"]

    db = api.context.db
    for statement in ("UPDATE admin_audit SET actor = 'someone'", "DELETE FROM admin_audit"):
        with pytest.raises(DBAPIError):
            async with db() as session, session.begin():
                await session.execute(text(statement))
    again = await api.client.get("/admin/audit", headers=admin)
    assert again.json() == entries


async def test_an_unclaimed_student_is_claimed_by_create_and_a_made_one_is_not(api: Api) -> None:
    admin = await _admin(api)
    async with api.context.db() as session, session.begin():
        await history.ensure_student(
            session=session, school_number="S9300", full_name="Seen In A Lesson", now=utc_now()
        )
    found = await api.client.get("/admin/users/S9300", headers=admin)
    assert found.json()["has_password"] is False
    claim = {"school_number": "S9300", "full_name": "Claimed", "role": "student"}
    claimed = await api.client.post(
        "/admin/users", json={**claim, "password": "claimed-pw"}, headers=admin
    )
    assert claimed.status_code == 201, claimed.text
    assert claimed.json()["full_name"] == "Claimed"
    assert (await _login(api, "S9300", "claimed-pw")).status_code == 200
    again = await api.client.post("/admin/users", json=claim, headers=admin)
    assert again.status_code == 409  # claimed now: taken
