"""A tour of every page, for the checks that hold on all of them (axe-core, phones, keyboard):
the people who open them, the screen sizes, the lessons they show, and the list of visits.

A new page is one more `Visit` in `VISITS`: who opens it, its path (with `{live}`,
`{finished}`, `{course}`, `{teacher}` and `{student}` filled in from the `Scene`), the sizes it
is checked at, and, for a page reached by sending a form, what to do there (`arrive`, which
finds the controls by id or role, never by their words: the tour runs in every page language).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote_plus

from playwright.sync_api import BrowserContext, Page, Route, ViewportSize, expect

from tests.support.browser import ARTIFACTS, Server
from tests.support.pages import Lesson, NewContext, Person, check_in, sign_in, start_lesson

TOUR_SHOTS = ARTIFACTS / "screenshots" / "tour"

Size = ViewportSize
PHONE = Size(width=360, height=740)
LAPTOP = Size(width=1280, height=900)
PROJECTOR = Size(width=1280, height=720)
BIG_PROJECTOR = Size(width=1920, height=1080)

KEYBOARD_TEACHER = Person("T7002", "Tuna Erdem", "teacher")
KEYBOARD_STUDENT = Person("S7003", "Ada Köse", "student")
KEYBOARD_LATECOMER = Person("S7004", "Umut Şimşek", "student")


@dataclass(frozen=True)
class Cast:
    """The people of one tour, and the course they meet in (one tour per page language)."""

    teacher: Person
    student: Person
    latecomer: Person  # checks in during the tour (the join and result pages)
    admin: Person
    course: str

    def people(self) -> list[Person]:
        return [self.teacher, self.student, self.latecomer, self.admin]


CASTS = {
    "en": Cast(
        Person("T7001", "Gül Şenyürek", "teacher"),
        Person("S7001", "Oğuz Çakır", "student"),
        Person("S7002", "Işıl Ünal", "student"),
        Person("A7001", "Nur Aksoy", "admin"),
        "Biology 3",
    ),
    "tr": Cast(
        Person("T7101", "Gökhan Işıkçı", "teacher"),
        Person("S7101", "Şükrü Ağaoğlu", "student"),
        Person("S7102", "İpek Güçlü", "student"),
        Person("A7101", "Çağla Öğüt", "admin"),
        "Biyoloji 3",
    ),
}
TOUR_PEOPLE = [person for cast in CASTS.values() for person in cast.people()]


@dataclass
class Scene:
    """The signed-in pages of the tour, one per person, and the lessons they look at."""

    cast: Cast
    lang: str
    pages: dict[str, Page]
    live: str
    finished: str

    def path(self, template: str) -> str:
        return template.format(
            live=self.live,
            finished=self.finished,
            course=quote_plus(self.cast.course),
            teacher=quote_plus(self.cast.teacher.name),
            student=quote_plus(self.cast.student.number),
        )


def signed_in_page(new_context: NewContext, person: Person, viewport: Size) -> Page:
    context: BrowserContext = new_context(viewport=viewport)
    page = context.new_page()
    page.goto("/login")
    sign_in(page, person)
    expect(page).not_to_have_url(re.compile(r"/login"))
    return page


def finish(page: Page) -> None:
    """Finish the lesson shown, confirming when the page asks first."""
    page.get_by_role("button", name="Finish the lesson").click()
    finished = page.locator('#roll-body[data-live="no"]')
    confirm = page.get_by_role("button", name="Finish now")
    expect(finished.or_(confirm)).to_be_visible()
    if confirm.is_visible():
        confirm.click()
    expect(finished).to_be_visible()


def build_scene(server: Server, new_context: NewContext, lang: str) -> Scene:
    """A finished lesson of the cast's course, swept to SQL (history, course, my attendance),
    and a live one of the same course with a check-in on its roll; the pages are then shown
    in `lang` (the language cookie the page's own language link sets)."""
    cast = CASTS[lang]
    teacher = signed_in_page(new_context, cast.teacher, LAPTOP)
    student = signed_in_page(new_context, cast.student, PHONE)
    latecomer = signed_in_page(new_context, cast.latecomer, PHONE)
    admin = signed_in_page(new_context, cast.admin, LAPTOP)
    anonymous = new_context(viewport=PHONE).new_page()

    teacher.goto("/teacher")
    finished = start_lesson(teacher, cast.course)
    student.goto(f"/join/{finished}")
    check_in(student, Lesson(finished, teacher.context).code())
    teacher.goto(f"/teacher/lessons/{finished}")
    finish(teacher)
    swept = server.attn("sweep", "--once")
    assert swept.returncode == 0, swept.stderr

    teacher.goto("/teacher")
    live = start_lesson(teacher, cast.course)
    student.goto(f"/join/{live}")
    check_in(student, Lesson(live, teacher.context).code())
    pages = {
        "anonymous": anonymous,
        "teacher": teacher,
        "student": student,
        "latecomer": latecomer,
        "admin": admin,
    }
    for page in pages.values():
        page.goto(f"/login?lang={lang}")  # the language link's way: a cookie for a year
    return Scene(cast=cast, lang=lang, pages=pages, live=live, finished=finished)


def send_the_code(page: Page, scene: Scene) -> None:
    """On the join page: type the projector's code and send it (the result page)."""
    page.locator("#code").fill(Lesson(scene.live, scene.pages["teacher"].context).code())
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".result")).to_be_visible()


def wrong_password(page: Page, scene: Scene) -> None:
    """On the sign-in page: a wrong password (the refusal is shown on the form)."""
    page.locator("#school_number").fill(scene.cast.student.number)
    page.locator("#password").fill("not the password")
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_role("alert")).to_be_visible()


def wrong_code(page: Page, scene: Scene) -> None:
    """On the join page: a code that is not the lesson's (the refusal, on the join page)."""
    code = Lesson(scene.live, scene.pages["teacher"].context).code()
    page.locator("#code").fill("000000" if code != "000000" else "111111")
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_role("alert")).to_be_visible()


def cross_site_start(page: Page, scene: Scene) -> None:
    """The dashboard's start form as another site's page would send it (the 403 page): the
    request goes out with `Sec-Fetch-Site: cross-site`, which a browser does not let a page set,
    so Playwright sends it in the browser's place and hands the answer back to the page."""

    def from_elsewhere(route: Route) -> None:
        headers = {**route.request.headers, "sec-fetch-site": "cross-site"}
        route.fulfill(response=route.fetch(headers=headers))

    page.route("**/teacher/start", from_elsewhere)
    try:
        page.locator("#lesson_name").fill("Elsewhere")  # in any page language
        page.locator("main form[action='/teacher/start'] button[type=submit]").click()
        expect(page.get_by_role("alert")).to_be_visible()
    finally:
        page.unroute("**/teacher/start", from_elsewhere)


def taken_number(page: Page, scene: Scene) -> None:
    """On the new-user form: the number of an account that exists (refused on the form)."""
    page.locator("#school_number").fill(scene.cast.student.number)
    page.locator("#full_name").fill(scene.cast.student.name)
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_role("alert")).to_be_visible()


def bad_import(page: Page, scene: Scene) -> None:
    """On the import form: a file with bad rows (the preview lists each, nothing imported)."""
    page.locator("#csv_text").fill(
        "school_number,full_name,role,password\n"
        f"{scene.cast.student.number},{scene.cast.student.name},student,x\n"
        "bad number!,Someone,janitor,x\n"
    )
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".problems")).to_be_visible()


@dataclass(frozen=True)
class Visit:
    """One page of the tour: who opens it, where, the sizes it is checked at, and the HTTP
    status it answers with."""

    name: str
    who: str
    path: str
    sizes: tuple[Size, ...] = (PHONE, LAPTOP)
    status: int = 200
    arrive: Callable[[Page, Scene], None] | None = None
    ready: str = "main h1"


VISITS = [
    Visit("sign-in", "anonymous", "/login"),
    Visit("sign-in-expired", "anonymous", "/login?expired=1"),
    Visit("sign-in-refused", "anonymous", "/login", status=401, arrive=wrong_password),
    Visit("check-in", "student", "/student"),
    Visit("check-in-found", "student", "/student?lesson_name={course}&teacher_name={teacher}"),
    Visit("join", "latecomer", "/join/{live}"),
    Visit("join-refused", "latecomer", "/join/{live}", status=403, arrive=wrong_code),
    Visit("joined", "latecomer", "/join/{live}", arrive=send_the_code),
    Visit("my-attendance", "student", "/student/history"),
    Visit("dashboard", "teacher", "/teacher"),
    Visit("lesson-live", "teacher", "/teacher/lessons/{live}"),
    Visit("lesson-finished", "teacher", "/teacher/lessons/{finished}"),
    Visit(
        "projector",
        "teacher",
        "/teacher/lessons/{live}/projector",
        sizes=(PHONE, PROJECTOR, BIG_PROJECTOR),
        ready="#code",
    ),
    Visit("history", "teacher", "/teacher/history"),
    Visit("course", "teacher", "/teacher/course?name={course}"),
    Visit("admin", "admin", "/admin"),
    Visit("admin-search", "admin", "/admin?q={student}&role=student&active=yes"),
    Visit("admin-user", "admin", "/admin/users/{student}"),
    Visit("admin-new", "admin", "/admin/users/new"),
    Visit("admin-new-refused", "admin", "/admin/users/new", status=409, arrive=taken_number),
    Visit("admin-import", "admin", "/admin/import"),
    Visit("admin-import-refused", "admin", "/admin/import", status=422, arrive=bad_import),
    Visit("admin-audit", "admin", "/admin/audit"),
    Visit("not-found", "teacher", "/teacher/lessons/" + "0" * 32, status=404),
    Visit("forbidden", "teacher", "/teacher", status=403, arrive=cross_site_start),
]


def open_visit(scene: Scene, visit: Visit) -> Page:
    """Go to the visit's page as its person; the page, shown and settled."""
    page = scene.pages[visit.who]
    response = page.goto(scene.path(visit.path))
    assert response is not None
    if visit.arrive is None:
        assert response.status == visit.status, f"{visit.name}: {response.status} at {page.url}"
    else:
        with page.expect_response(lambda r: r.request.method == "POST") as answered:
            visit.arrive(page, scene)
        assert answered.value.status == visit.status, f"{visit.name}: {answered.value.status}"
    expect(page.locator(visit.ready).first).to_be_visible()
    return page


def tour_shot(page: Page, name: str, size: Size) -> Path:
    """A full-page screenshot at the page's current size, named after the visit and size."""
    TOUR_SHOTS.mkdir(parents=True, exist_ok=True)
    path = TOUR_SHOTS / f"{name}-{size['width']}x{size['height']}.png"
    page.screenshot(path=path, full_page=True)
    return path
