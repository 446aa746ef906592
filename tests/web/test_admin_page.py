"""The administration pages without a browser: the list of users (search with Turkish letters
folded, filters, pages), a new user, an account's name and role, a password set or a one-time
password shown once, deactivating (the user is signed out at once) and reactivating, the last
administrator kept, an import previewed row by row then confirmed (checked again: all rows or
none), the audit in words, CSRF, and no admin page for another role."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest

from attn.models import NewAccount
from tests.api.test_roster_accounts import roster_only_student
from tests.support.api import PASSWORD, Api
from tests.support.sign_in_form import csrf_of, page_browser, sign_in


@dataclass
class Admin:
    account: NewAccount
    browser: httpx.AsyncClient


@pytest.fixture
async def admin(api: Api) -> AsyncIterator[Admin]:
    account = await api.add_user("admin", "A0001", "Ada Yönetici")
    async with page_browser(api.app) as browser:
        assert (await sign_in(browser, account.school_number)).status_code == 303
        yield Admin(account, browser)


def main_of(page: httpx.Response) -> str:
    found = re.search(r"<main.*?</main>", page.text, re.S)
    assert found, page.text[:500]
    return html.unescape(found.group(0))


def form_fields(
    page: httpx.Response, action: str, *, holding: str = "", **values: str
) -> dict[str, str]:
    """The hidden fields of the page's form that posts to `action` (the first that holds
    `holding`), with `values` added."""
    forms = re.findall(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', page.text, re.S)
    for found_action, body in forms:
        if html.unescape(found_action) == action and holding in body:
            hidden = re.findall(r'<input type="hidden" name="([a-z0-9_]+)" value="([^"]*)">', body)
            return {**dict(hidden), **values}
    raise AssertionError(f"no form posts to {action}: {[a for a, _ in forms]}")


def listed(page: httpx.Response) -> list[str]:
    return re.findall(r'<tr data-user="([^"]+)">', page.text)


@asynccontextmanager
async def signed_in(
    api: Api, number: str, password: str = PASSWORD
) -> AsyncIterator[httpx.AsyncClient]:
    async with page_browser(api.app) as browser:
        assert (await sign_in(browser, number, password)).status_code == 303
        yield browser


async def signed_out(browser: httpx.AsyncClient, page: str) -> bool:
    """Whether the browser's next page sends it to sign in."""
    response = await browser.get(page)
    return response.status_code == 303 and response.headers["location"].startswith("/login")


async def sign_in_status(api: Api, number: str, password: str) -> int:
    async with page_browser(api.app) as browser:
        return (await sign_in(browser, number, password)).status_code


async def test_an_admin_lands_on_the_users_page_with_the_admin_menu(api: Api) -> None:
    admin = await api.add_user("admin")
    async with page_browser(api.app) as browser:
        browser.max_redirects = 5
        browser.follow_redirects = True
        landed = await sign_in(browser, admin.school_number)
        assert landed.status_code == 200, landed.text[:300]
        assert landed.url.path == "/admin"
        assert "<h1>Users</h1>" in landed.text
        menu = re.search(r"<nav aria-label=\"Main\">(.*?)</nav>", landed.text, re.S)
        assert menu
        links = re.findall(r'<a href="(/admin[^"?]*)"[^>]*>([^<]+)</a>', menu.group(1))
        assert links == [
            ("/admin", "Users"),
            ("/admin/import", "Import"),
            ("/admin/audit", "Audit"),
            ("/admin/lti", "Learning platforms"),
        ]
        assert 'href="/admin" aria-current="page"' in menu.group(1)
        assert listed(landed) == [admin.school_number]
        # the other roles' pages send an admin home, and home is the admin page
        for page in ("/", "/teacher", "/student", "/student/history"):
            response = await browser.get(page)
            assert (response.status_code, response.url.path) == (200, "/admin"), page
        turkish = await browser.get("/admin", params={"lang": "tr"})
        assert "<h1>Kullanıcılar</h1>" in turkish.text
        assert "Çıkış yap" in turkish.text
        browser.follow_redirects = False
        signed_off = await browser.post("/logout", data={"csrf": csrf_of(turkish)})
        assert signed_off.headers["location"] == "/login"
        assert (await browser.get("/admin")).status_code == 303


ADMIN_PAGES = ["/admin", "/admin/users/new", "/admin/import", "/admin/audit"]


@pytest.mark.parametrize("role", ["teacher", "student"])
async def test_a_teacher_or_student_gets_no_admin_page(api: Api, role: str) -> None:
    person = await api.add_user(role)
    target = await api.add_user("student", "S5001", "Elif Kaya")
    async with signed_in(api, person.school_number) as browser:
        for page in [*ADMIN_PAGES, "/admin/users/S5001", "/admin/audit?number=S5001"]:
            response = await browser.get(page)
            assert (response.status_code, response.headers.get("location")) == (303, "/"), page
        csrf = csrf_of(await browser.get(f"/{role}"))
        for action, data in (
            ("/admin/users/S5001/active", {"active": "0"}),
            ("/admin/users/S5001/password", {"password_mode": "set", "password": "x" * 12}),
            ("/admin/users/S5001", {"full_name": "Someone Else", "role": "admin"}),
            ("/admin/users/new", {"school_number": "A9", "full_name": "Me", "role": "admin"}),
        ):
            refused = await browser.post(action, data={"csrf": csrf, **data})
            assert (refused.status_code, refused.headers.get("location")) == (303, "/"), action
    assert await sign_in_status(api, target.school_number, PASSWORD) == 303
    async with signed_in(api, (await api.add_user("admin")).school_number) as admin:
        page = await admin.get("/admin/users/S5001")
        assert "<h1>Elif Kaya</h1>" in page.text and "Deactivate" in page.text
        assert (await admin.get("/admin/users/A9")).status_code == 404


async def test_the_list_finds_by_folded_name_and_number_with_filters_and_pages(
    api: Api, admin: Admin
) -> None:
    await api.add_user("student", "S1001", "Şükrü Ağaoğlu")
    await api.add_user("teacher", "T1001", "Işıl Çelik")
    await api.add_user("student", "S1002", "Sukran Demir")
    page = await admin.browser.get("/admin", params={"q": "sukru"})
    assert page.status_code == 200
    assert listed(page) == ["S1001"]
    assert "Şükrü Ağaoğlu" in main_of(page)
    assert 'value="sukru"' in page.text  # the search stays in its field
    assert listed(await admin.browser.get("/admin", params={"q": "isil cel"})) == ["T1001"]
    assert listed(await admin.browser.get("/admin", params={"q": "S100"})) == ["S1001", "S1002"]
    assert listed(await admin.browser.get("/admin", params={"role": "teacher"})) == ["T1001"]
    both = await admin.browser.get("/admin", params={"q": "s", "role": "student"})
    assert listed(both) == ["S1001", "S1002"]

    deactivated = await admin.browser.post(
        "/admin/users/S1002/active",
        data=form_fields(
            await admin.browser.get("/admin/users/S1002"), "/admin/users/S1002/active"
        ),
    )
    assert deactivated.status_code == 303
    assert listed(await admin.browser.get("/admin", params={"active": "no"})) == ["S1002"]
    active = await admin.browser.get("/admin", params={"active": "yes", "role": "student"})
    assert listed(active) == ["S1001"]
    assert "Deactivated" in main_of(await admin.browser.get("/admin", params={"q": "S1002"}))
    nobody = await admin.browser.get("/admin", params={"q": "nobody"})
    assert listed(nobody) == [] and "No user matches." in nobody.text

    refused = await admin.browser.get("/admin", params={"role": "janitor"})
    assert refused.status_code == 422
    assert "Role: “janitor” is not one of the choices." in main_of(refused)
    assert (await admin.browser.get("/admin", params={"page": "0"})).status_code == 422

    for number in range(26):
        await api.add_user("student", f"P{number:03d}", f"Paged Student {number}")
    first = await admin.browser.get("/admin", params={"q": "P"})
    assert listed(first) == [f"P{n:03d}" for n in range(25)]
    assert 'href="/admin?q=P&amp;page=2" rel="next"' in first.text
    assert 'rel="prev"' not in first.text
    second = await admin.browser.get("/admin", params={"q": "P", "page": "2"})
    assert listed(second) == ["P025"]
    assert 'rel="next"' not in second.text and "Page 2" in second.text
    everyone = await admin.browser.get("/admin", params={"page": "2"})
    assert len(listed(everyone)) == 30 - 25  # the whole list (A0001, S1001, ...) goes on too
    assert 'href="/admin?page=1" rel="prev"' in everyone.text


async def test_a_new_user_is_created_with_a_password_or_a_one_time_password(
    api: Api, admin: Admin
) -> None:
    new = await admin.browser.get("/admin/users/new")
    assert new.status_code == 200
    fields = form_fields(new, "/admin/users/new")
    typed = await admin.browser.post(
        "/admin/users/new",
        data={
            **fields,
            "school_number": "T2001",
            "full_name": "Ayşe Yılmaz",
            "role": "teacher",
            "password_mode": "set",
            "password": "a typed password",
        },
    )
    assert (typed.status_code, typed.headers["location"]) == (
        303,
        "/admin/users/T2001?done=created",
    )
    page = await admin.browser.get(typed.headers["location"])
    assert "The user is created." in page.text and "<h1>Ayşe Yılmaz</h1>" in page.text
    assert await sign_in_status(api, "T2001", "a typed password") == 303

    made = await admin.browser.post(
        "/admin/users/new",
        data={**fields, "school_number": "S2001", "full_name": "Elif Kaya", "role": "student"},
    )
    assert made.status_code == 200
    assert made.headers["cache-control"] == "no-store"
    one_time = re.search(
        r'<output id="one-time-password" class="otp"[^>]*>([^<]+)</output>', made.text
    )
    assert one_time, main_of(made)
    assert "Elif Kaya (S2001) is created." in main_of(made)
    assert await sign_in_status(api, "S2001", one_time.group(1)) == 303

    sso = await admin.browser.post(
        "/admin/users/new",
        data={
            **fields,
            "school_number": "S2002",
            "full_name": "Can Öztürk",
            "role": "student",
            "password_mode": "none",
        },
    )
    assert sso.status_code == 303
    assert "single sign-on" in main_of(await admin.browser.get("/admin/users/S2002"))

    # refusals are said on the form, which keeps what was typed
    taken = await admin.browser.post(
        "/admin/users/new",
        data={**fields, "school_number": "S2001", "full_name": "Other Kaya", "role": "student"},
    )
    assert taken.status_code == 409
    assert "A user with this school number already exists." in main_of(taken)
    assert 'value="Other Kaya"' in taken.text
    for data, status, message in (
        ({"school_number": "S2003", "full_name": "  ", "role": "student"}, 422, "Full name:"),
        (
            {"school_number": "bad number!", "full_name": "A B", "role": "student"},
            422,
            "is not a school number",
        ),
        (
            {"school_number": "S2003", "full_name": "A B", "role": "janitor"},
            422,
            "Role: “janitor” is not one of the choices.",
        ),
        (
            {
                "school_number": "S2003",
                "full_name": "A B",
                "role": "student",
                "password_mode": "set",
            },
            422,
            "Password:",
        ),
    ):
        refused = await admin.browser.post("/admin/users/new", data={**fields, **data})
        assert refused.status_code == status, (data, main_of(refused))
        assert message in main_of(refused), (data, main_of(refused))
    assert listed(await admin.browser.get("/admin", params={"q": "S2003"})) == []


async def test_name_and_role_are_changed_and_a_new_role_ends_the_session(
    api: Api, admin: Admin
) -> None:
    teacher = await api.add_user("teacher", "T3001", "Mehmet Demir")
    async with signed_in(api, teacher.school_number) as teacher_browser:
        page = await admin.browser.get("/admin/users/T3001")
        fields = form_fields(page, "/admin/users/T3001")
        renamed = await admin.browser.post(
            "/admin/users/T3001", data={**fields, "full_name": "Mehmet Demirci", "role": "teacher"}
        )
        assert renamed.headers["location"] == "/admin/users/T3001?done=saved"
        assert "<h1>Mehmet Demirci</h1>" in (await admin.browser.get("/admin/users/T3001")).text
        assert not await signed_out(teacher_browser, "/teacher")  # a new name signs no one out
        blank = await admin.browser.post(
            "/admin/users/T3001", data={**fields, "full_name": "", "role": "student"}
        )
        assert blank.status_code == 422
        assert "Full name: must not be empty." in main_of(blank)
        student = await admin.browser.post(
            "/admin/users/T3001", data={**fields, "full_name": "Mehmet Demirci", "role": "student"}
        )
        assert student.status_code == 303
        assert await signed_out(teacher_browser, "/teacher")
    assert await sign_in_status(api, "T3001", PASSWORD) == 303  # now as a student
    page = main_of(await admin.browser.get("/admin/users/T3001"))
    assert "role: teacher → student" in page
    assert "name: Mehmet Demir → Mehmet Demirci" in page


async def test_a_set_password_replaces_the_old_one_and_ends_the_session(
    api: Api, admin: Admin
) -> None:
    student = await api.add_user("student", "S4001", "Zeynep Arslan")
    async with signed_in(api, student.school_number) as student_browser:
        assert not await signed_out(student_browser, "/student")
        page = await admin.browser.get("/admin/users/S4001")
        fields = form_fields(
            page, "/admin/users/S4001/password", holding='value="set"', password="a new password"
        )
        assert fields["password_mode"] == "set"
        done = await admin.browser.post("/admin/users/S4001/password", data=fields)
        assert (done.status_code, done.headers["location"]) == (
            303,
            "/admin/users/S4001?done=password_set",
        )
        assert "a new password" not in done.headers["location"]
        assert await signed_out(student_browser, "/student")
    assert await sign_in_status(api, "S4001", PASSWORD) == 401
    assert await sign_in_status(api, "S4001", "a new password") == 303
    page = await admin.browser.get(done.headers["location"])
    assert "The new password is set" in page.text
    assert "password set" in main_of(page) and "a new password" not in page.text
    # an empty password is refused on the form and changes nothing
    empty = await admin.browser.post(
        "/admin/users/S4001/password",
        data=form_fields(page, "/admin/users/S4001/password", holding='value="set"', password=""),
    )
    assert empty.status_code == 422 and "Password:" in main_of(empty)
    assert await sign_in_status(api, "S4001", "a new password") == 303


async def test_a_one_time_password_is_shown_once_and_a_reload_shows_none(
    api: Api, admin: Admin
) -> None:
    student = await api.add_user("student", "S4101", "Selin Koç")
    async with signed_in(api, student.school_number) as student_browser:
        page = await admin.browser.get("/admin/users/S4101")
        fields = form_fields(page, "/admin/users/S4101/password")
        assert fields["password_mode"] == "generate"
        answer = await admin.browser.post("/admin/users/S4101/password", data=fields)
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "no-store"
        found = re.search(r'id="one-time-password" class="otp"[^>]*>([^<]+)<', answer.text)
        assert found, main_of(answer)
        one_time = found.group(1)
        assert len(one_time) == 12
        assert str(answer.url).endswith("/admin/users/S4101/password")  # not in any URL
        assert await signed_out(student_browser, "/student")
    # the reload sends the same form again: refused, no password shown, nothing changed
    again = await admin.browser.post("/admin/users/S4101/password", data=fields)
    assert again.status_code == 409
    assert 'id="one-time-password"' not in again.text
    assert "This account changed after the page was opened" in main_of(again)
    assert await sign_in_status(api, "S4101", PASSWORD) == 401
    assert await sign_in_status(api, "S4101", one_time) == 303
    # the account's page and the audit never show it
    for shown in ("/admin/users/S4101", "/admin/audit", "/admin/audit?number=S4101"):
        assert one_time not in (await admin.browser.get(shown)).text, shown


async def test_deactivating_signs_out_at_once_and_reactivating_lets_them_in(
    api: Api, admin: Admin
) -> None:
    teacher = await api.add_user("teacher", "T5001", "Hakan Öz")
    async with signed_in(api, teacher.school_number) as teacher_browser:
        page = await admin.browser.get("/admin/users/T5001")
        assert "Deactivating signs Hakan Öz out everywhere at once" in main_of(page)
        done = await admin.browser.post(
            "/admin/users/T5001/active", data=form_fields(page, "/admin/users/T5001/active")
        )
        assert done.headers["location"] == "/admin/users/T5001?done=deactivated"
        assert await signed_out(teacher_browser, "/teacher")
    assert await sign_in_status(api, "T5001", PASSWORD) == 401
    page = await admin.browser.get(done.headers["location"])
    assert "Deactivated: they were signed out everywhere." in page.text
    assert "active: yes → no" in main_of(page)
    reactivated = await admin.browser.post(
        "/admin/users/T5001/active", data=form_fields(page, "/admin/users/T5001/active")
    )
    assert reactivated.headers["location"] == "/admin/users/T5001?done=reactivated"
    assert await sign_in_status(api, "T5001", PASSWORD) == 303
    bogus = await admin.browser.post(
        "/admin/users/T5001/active",
        data={**form_fields(page, "/admin/users/T5001/active"), "active": "maybe"},
    )
    assert bogus.status_code == 422


async def test_the_last_admin_is_kept_with_a_message_on_the_form(api: Api, admin: Admin) -> None:
    page = await admin.browser.get("/admin/users/A0001")
    assert "This is your own account" in page.text
    refused = await admin.browser.post(
        "/admin/users/A0001/active", data=form_fields(page, "/admin/users/A0001/active")
    )
    assert refused.status_code == 409
    section = re.search(r'aria-labelledby="active-h">(.*?)</section>', refused.text, re.S)
    assert section and "This is the last active administrator" in html.unescape(section.group(1))
    demoted = await admin.browser.post(
        "/admin/users/A0001",
        data=form_fields(page, "/admin/users/A0001", full_name="Ada Yönetici", role="teacher"),
    )
    assert demoted.status_code == 409
    assert "This is the last active administrator" in main_of(demoted)
    assert not await signed_out(admin.browser, "/admin")  # still the admin, still signed in
    turkish = await admin.browser.post(
        "/admin/users/A0001/active?lang=tr", data=form_fields(page, "/admin/users/A0001/active")
    )
    assert "Bu, son etkin yönetici" in main_of(turkish)


IMPORT = (
    "school_number,full_name,role,password\n"
    "S6001,Deniz Aydın,student,first password\n"
    "T6001,Burak Şahin,teacher,\n"
    "R1,Roster Student,student,claimed password\n"
)


async def preview(admin: Admin, csv: str, *, file: bool = False) -> httpx.Response:
    csrf = csrf_of(await admin.browser.get("/admin/import"))
    if file:
        return await admin.browser.post(
            "/admin/import/preview",
            data={"csrf": csrf},
            files={"csv_file": ("people.csv", csv.encode(), "text/csv")},
        )
    return await admin.browser.post("/admin/import/preview", data={"csrf": csrf, "csv_text": csv})


async def test_an_import_is_previewed_with_every_bad_row_then_confirmed_all_or_none(
    api: Api, admin: Admin
) -> None:
    await roster_only_student(api, "R1")  # known from a roster, no account yet
    await api.add_user("student", "S6009", "Taken Already")

    bad = (
        "school_number,full_name,role,password\n"
        "S6001,Deniz Aydın,student,pw\n"
        "bad number!,Someone,student,pw\n"
        "S6002,Eda,janitor,pw\n"
        "S6001,Deniz Again,student,pw\n"
        "S6009,Taken Already,student,pw\n"
        "S6003,Too,many,columns,here\n"
    )
    refused = await preview(admin, bad)
    assert refused.status_code == 422
    text = main_of(refused)
    assert "5 problems: fix them and preview again. Nothing was imported." in text
    rows = re.findall(r"<tr><td>(\d+)</td><td>(.*?)</td></tr>", text)
    assert [line for line, _ in rows] == ["3", "4", "5", "6", "7"]
    assert rows[0][1].startswith("School number:")
    assert rows[1][1].startswith("Role:")
    assert rows[2][1] == "S6001 appears twice in the file."
    assert rows[3][1] == "S6009 already has an account."
    assert rows[4][1] == "This row needs 4 columns: school_number,full_name,role,password."
    assert 'action="/admin/import"' not in refused.text  # nothing to confirm
    assert "pw" not in re.sub(r"<textarea.*?</textarea>", "", text, flags=re.S)  # no password
    turkish = await admin.browser.post(
        "/admin/import/preview?lang=tr", data={"csrf": csrf_of(refused), "csv_text": bad}
    )
    assert "5 sorun var" in main_of(turkish)
    assert "S6001 dosyada iki kez geçiyor." in main_of(turkish)
    await admin.browser.get("/admin/import?lang=en")

    good = await preview(admin, IMPORT, file=True)
    assert good.status_code == 200, main_of(good)
    text = main_of(good)
    assert "New accounts: 2" in text and "Students claimed: 1" in text
    created = re.search(r'<ul class="names created">(.*?)</ul>', text, re.S)
    claimed = re.search(r'<ul class="names claimed">(.*?)</ul>', text, re.S)
    assert created and "Deniz Aydın" in created.group(1) and "Burak Şahin" in created.group(1)
    assert claimed and "R1" in claimed.group(1)
    assert "first password" not in text
    assert listed(await admin.browser.get("/admin", params={"q": "S6001"})) == []  # not yet

    # one row is taken between the preview and the confirmation: nothing is imported
    confirm = form_fields(good, "/admin/import")
    await api.add_user("teacher", "T6001", "Burak Şahin")
    late = await admin.browser.post("/admin/import", data=confirm)
    assert late.status_code == 422
    assert "T6001 already has an account." in main_of(late)
    assert listed(await admin.browser.get("/admin", params={"q": "S6001"})) == []

    fixed = await preview(admin, IMPORT.replace("T6001", "T6002"))
    done = await admin.browser.post("/admin/import", data=form_fields(fixed, "/admin/import"))
    assert (done.status_code, done.headers["location"]) == (
        303,
        "/admin/import?imported=3&claimed=1",
    )
    assert (
        "Imported 3 accounts (1 of them claimed students)."
        in (await admin.browser.get(done.headers["location"])).text
    )
    assert await sign_in_status(api, "S6001", "first password") == 303
    assert await sign_in_status(api, "R1", "claimed password") == 303
    sso_only = main_of(await admin.browser.get("/admin/users/T6002"))
    assert "single sign-on" in sso_only
    # a confirmation that is no base64 is refused as a whole
    broken = await admin.browser.post("/admin/import", data={**confirm, "csv_b64": "%%"})
    assert broken.status_code == 422
    header_only = await preview(admin, "school_number,full_name,role,password\n")
    assert header_only.status_code == 422 and "The file has no users." in main_of(header_only)
    csrf = csrf_of(header_only)
    latin = await admin.browser.post(
        "/admin/import/preview",
        data={"csrf": csrf},
        files={"csv_file": ("people.csv", "S1,Şükrü,student,x".encode("iso-8859-9"), "text/csv")},
    )
    assert latin.status_code == 422 and "The file must be UTF-8 text." in main_of(latin)


async def test_the_audit_says_who_when_and_what_before_and_after(api: Api, admin: Admin) -> None:
    await api.add_user("teacher", "T7001", "Gül Şen")
    page = await admin.browser.get("/admin/users/T7001")
    await admin.browser.post(
        "/admin/users/T7001",
        data=form_fields(page, "/admin/users/T7001", full_name="Gül Şen", role="student"),
    )
    await admin.browser.post(
        "/admin/users/T7001/active", data=form_fields(page, "/admin/users/T7001/active")
    )
    page = await admin.browser.get("/admin/users/T7001")  # the password form of now
    await admin.browser.post(
        "/admin/users/T7001/password",
        data=form_fields(
            page, "/admin/users/T7001/password", holding='value="set"', password="another password"
        ),
    )
    audit = await admin.browser.get("/admin/audit")
    assert audit.status_code == 200
    text = main_of(audit)
    rows = re.findall(r"<tr>(.*?)</tr>", text.split("<tbody>", 1)[1], re.S)
    # newest first: the password, the deactivation, the role, then the accounts' creation
    assert "password set" in rows[0] and "A0001" in rows[0] and "changed" in rows[0]
    assert "active: yes → no" in rows[1]
    assert "role: teacher → student" in rows[2]
    assert "created" in rows[3] and "the attn command" in rows[3] and "name: Gül Şen" in rows[3]
    assert "another password" not in audit.text
    assert "has_password" not in text and "{" not in text
    one = await admin.browser.get("/admin/audit", params={"number": "T7001"})
    assert "The changes of T7001." in main_of(one)
    assert len(re.findall(r"<tr>", main_of(one).split("<tbody>", 1)[1])) == 4
    turkish = main_of(await admin.browser.get("/admin/audit", params={"lang": "tr"}))
    assert "rol: öğretmen → öğrenci" in turkish and "etkin: evet → hayır" in turkish
    assert "şifre belirlendi" in turkish
    assert (
        await admin.browser.get("/admin/audit", params={"number": "bad number!"})
    ).status_code == 422


async def test_every_admin_form_without_its_csrf_token_is_refused(api: Api, admin: Admin) -> None:
    await api.add_user("teacher", "T8001", "Kerem Doğan")
    for action, data in (
        ("/admin/users/T8001/active", {"active": "0"}),
        ("/admin/users/T8001/password", {"password_mode": "set", "password": "stolen password"}),
        ("/admin/users/T8001", {"full_name": "Evil", "role": "admin"}),
        ("/admin/users/new", {"school_number": "A6666", "full_name": "Evil", "role": "admin"}),
        ("/admin/import/preview", {"csv_text": IMPORT}),
        ("/admin/import", {"csv_b64": "c2Nob29s"}),
    ):
        for csrf in ({}, {"csrf": "0" * 32}):
            refused = await admin.browser.post(action, data={**data, **csrf})
            assert (refused.status_code, refused.headers["location"]) == (
                303,
                "/login?expired=1",
            ), action
    assert await sign_in_status(api, "T8001", PASSWORD) == 303
    assert await sign_in_status(api, "T8001", "stolen password") == 401
    page = main_of(await admin.browser.get("/admin/users/T8001"))
    assert "<h1>Kerem Doğan</h1>" in page and "teacher" in page
    assert listed(await admin.browser.get("/admin", params={"q": "A6666"})) == []
