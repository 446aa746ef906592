"""The pages in Turkish in a real browser, at a phone's and a teacher's laptop's size: times in
the institution's zone (the browser tests' server runs with Europe/Istanbul) with the zone
named, percentages written `%100`, the change list and a refused form in Turkish words."""

from __future__ import annotations

import re

from playwright.sync_api import Page, ViewportSize, expect

from tests.support.browser import Server, add_person
from tests.support.pages import (
    LESSON_URL,
    PHONE,
    SHOTS,
    NewContext,
    Person,
    sign_in,
)

TEACHER_AT_LAPTOP = {"width": 1280, "height": 900}
LAPTOP = ViewportSize(width=1280, height=900)
TEACHER = Person("T1091", "Gül Ekinci", "teacher")
STUDENT = Person("S2190", "Oğuz Çınar", "student")
OTHER_STUDENT = Person("S2191", "Ece Tunç", "student")
ZONE_NOTE = "Saatler Europe/Istanbul saat dilimine göredir."
# a time as a Turkish page writes it: `1 Ara 2026 14:05`
TURKISH_TIME = re.compile(
    r"\d{1,2} (Oca|Şub|Mar|Nis|May|Haz|Tem|Ağu|Eyl|Eki|Kas|Ara) \d{4} \d\d:\d\d"
)


def shoot(page: Page, name: str, *sizes: dict[str, int]) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size in sizes:
        page.set_viewport_size(ViewportSize(width=size["width"], height=size["height"]))
        label = f"{size['width']}x{size['height']}"
        page.screenshot(path=SHOTS / f"{name}-{label}.png", full_page=True)


def add_people(server: Server) -> None:
    for person in (TEACHER, STUDENT, OTHER_STUDENT):
        add_person(server, person)


def test_a_lesson_in_turkish_on_a_laptop_and_a_phone(
    attn_server: Server, new_context: NewContext
) -> None:
    add_people(attn_server)
    teacher = new_context(viewport=TEACHER_AT_LAPTOP).new_page()
    teacher.goto("/login?lang=tr")
    sign_in(teacher, TEACHER)
    expect(teacher.get_by_role("heading", level=1)).to_have_text("Panel")

    # a refused start says what is wrong, in Turkish, naming the field by its label
    teacher.get_by_label("Ders adı").fill("Fizik 101")
    teacher.get_by_label("İzinli alt ağlar (isteğe bağlı, virgülle)").fill("10.0.0.0/33")
    teacher.get_by_role("button", name="Başlat", exact=True).click()
    expect(teacher.get_by_role("alert")).to_have_text(
        "İzinli alt ağlar: 10.0.0.0/33 bir ağ değil (örneğin 10.1.2.0/24)."
    )
    shoot(teacher, "tr-refused-start", TEACHER_AT_LAPTOP, PHONE)
    teacher.set_viewport_size(LAPTOP)

    teacher.get_by_label("İzinli alt ağlar (isteğe bağlı, virgülle)").fill("")
    teacher.get_by_role("button", name="Başlat", exact=True).click()
    expect(teacher).to_have_url(LESSON_URL)
    found = LESSON_URL.search(teacher.url)
    assert found is not None
    lesson_id = found.group(1)
    expect(teacher.locator("footer.zone")).to_have_text(ZONE_NOTE)
    expect(teacher.locator("main p").filter(has_text="Başladı")).to_contain_text(TURKISH_TIME)

    other = new_context(viewport=PHONE).new_page()
    other.goto(f"/login?lang=tr&next=/join/{lesson_id}")
    sign_in(other, OTHER_STUDENT)
    other.locator("main form button[type=submit]").click()
    expect(other.locator(".result")).to_have_text("Yoklamaya katıldınız: var.")

    student = new_context(viewport=PHONE).new_page()
    student.goto("/login?lang=tr")
    sign_in(student, STUDENT)
    student.get_by_label("Ders adı").fill("fizik 101")
    student.get_by_label("Öğretmen adı").fill(TEACHER.name)
    student.get_by_role("button", name="Bul").click()
    card = student.locator(".found-lesson").filter(has_text="Fizik 101")
    expect(card).to_contain_text(TURKISH_TIME)
    expect(student.locator("footer.zone")).to_have_text(ZONE_NOTE)
    shoot(student, "tr-student-search", PHONE)
    card.get_by_role("link", name="Katıl").click()
    student.locator("main form button[type=submit]").click()
    expect(student.locator(".result")).to_have_text("Yoklamaya katıldınız: var.")

    # the teacher rejects one of them: the change list says it in Turkish
    teacher.goto(f"/teacher/lessons/{lesson_id}")
    row = teacher.locator(f'tr[data-student="{OTHER_STUDENT.number}"]')
    row.get_by_placeholder("Gerekçe").fill("Başka sınıfta")
    row.get_by_role("button", name="Reddet").click()
    change = teacher.locator("ol.audit li").filter(has_text="reddedildi")
    expect(change).to_contain_text("var → reddedildi (öğretmen): Başka sınıfta")
    shoot(teacher, "tr-lesson", TEACHER_AT_LAPTOP, PHONE)
    teacher.set_viewport_size(LAPTOP)
    teacher.get_by_role("button", name="Dersi bitir").click()
    teacher.get_by_role("button", name="Şimdi bitir").click()  # the finish asks first
    expect(teacher.locator("main p").filter(has_text="Başladı")).to_contain_text("bitti")
    swept = attn_server.attn("sweep", "--once")  # the course's table is of persisted lessons
    assert swept.returncode == 0, swept.stderr

    teacher.goto("/teacher/history")
    expect(teacher.locator("tbody tr").first).to_contain_text(TURKISH_TIME)
    shoot(teacher, "tr-history", TEACHER_AT_LAPTOP)
    teacher.goto("/teacher/course?name=Fizik%20101")
    rows = teacher.locator("tbody tr")
    expect(rows.filter(has_text=STUDENT.name)).to_contain_text("%100")
    expect(rows.filter(has_text=OTHER_STUDENT.name)).to_contain_text("%0")
    shoot(teacher, "tr-course", TEACHER_AT_LAPTOP)

    student.goto("/student/history")
    rate = student.locator("main ul li").first
    expect(rate).to_contain_text(f"Fizik 101 — {TEACHER.name}: ")
    expect(rate).to_contain_text("%100")
    expect(student.locator("tbody tr").first).to_contain_text(TURKISH_TIME)
    shoot(student, "tr-student-history", PHONE)
