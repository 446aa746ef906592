"""A whole lesson walked as people would, in English and in Turkish, in a real browser.

A teacher at a 1280x900 laptop uploads the course roster (three students and one who never
comes), previews and saves it, starts "Fizik 101" with a rotating code and external
verification in a room, and copies the projector link. A classroom PC with no session opens
that link at 1280x720 and 1920x1080 (it fits, QR large). Three students on 360x740 phones
check in: A by the "Now" tap on /student, B by the QR scanned while signed out and signing in
40 s (four code windows) later, C by typing "fizik" and "ayse" in the search. Each waits for
the fake verifier, and the result arrives on the phone without a reload. The teacher's roll
fills live (the not-yet count goes down), the teacher marks C late, reads the change list with
names, finishes through the confirmation; the projector says closed with the final count. A
sweep moves the lesson to SQL: the history lists it with the roll's counts, the course page
shows its attended count, rate and chart, and C's "My attendance" shows the course page's rate.

The test runs its own `attn serve` (beside the package's, on the same databases) with a code
rotating every 10 s, times in Europe/Istanbul and the fake verifier answering after 2 s.
Screenshots: test-artifacts/walkthrough/<lang>/NN-<step>-<WxH>.png; the time from the scan to
"checked in" is printed and written to test-artifacts/walkthrough-<lang>.txt.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    FilePayload,
    Page,
    ViewportSize,
    expect,
)

from attn.web.i18n import TEXTS
from tests.support.axe import AxeUnavailable, assert_accessible, axe_source, overflow_problem
from tests.support.browser import ARTIFACTS, Server, own_server
from tests.support.database import Database
from tests.support.pages import WATCH_STREAM, Person, assert_projector_fits, sign_in

ROTATION = 10  # s: the 40 s between the scan and the sign-in are four code windows
SCAN_WAIT = 40.0  # s
VERIFIER_DELAY = 2.0  # s
RESULT_WAIT = 15_000  # ms: the verifier's delay plus a few polls of the phone's result page
LIVE_WAIT = 5_000  # ms: how soon an open roll or projector must show a change
SECRET = "fake-verifier-secret-walkthrough"
ZONE = "Europe/Istanbul"

LAPTOP = ViewportSize(width=1280, height=900)
PHONE = ViewportSize(width=360, height=740)
PROJECTORS = [ViewportSize(width=1280, height=720), ViewportSize(width=1920, height=1080)]
LESSON = "Fizik 101"
ROOM = "B-204"
PROJECTOR_LINK = re.compile(r"^http://127\.0\.0\.1:\d+/projector/[0-9a-f]{32}\.\d+\.[\w-]{43}$")
SHOTS = ARTIFACTS / "walkthrough"


@dataclass(frozen=True)
class Cast:
    teacher: Person
    tapper: Person  # A: the "Now" tap on /student
    scanner: Person  # B: the QR, scanned signed out
    searcher: Person  # C: "fizik" and "ayse" typed in the search
    absentee: Person  # on the roster, never comes (no account needed)


CASTS = {
    "en": Cast(
        Person("T8001", "Ayşe Demirtaş", "teacher"),
        Person("S8101", "Elif Şahin", "student"),
        Person("S8102", "Can Güler", "student"),
        Person("S8103", "Zeynep Çakır", "student"),
        Person("S8104", "Mert Öz", "student"),
    ),
    "tr": Cast(
        Person("T8002", "Ayşe Karaçam", "teacher"),
        Person("S8201", "Gökhan Işık", "student"),
        Person("S8202", "Ilgın Ünal", "student"),
        Person("S8203", "Şeyma Doğru", "student"),
        Person("S8204", "Ömer Ağca", "student"),
    ),
}

# What each page says at each step, written out in each language (not read from the
# catalogue, so a page in the wrong language fails here).
SAYS = {
    "en": {
        "saved": "The roster is saved: 4 students.",
        "added": "Added: 4",
        "joining": "Sign in to check in to {lesson} — {teacher}",
        "now": "Now: {lesson} — {teacher} · {room}",
        "pending": "Checked in, waiting for verification.",
        "present": "You are checked in: present.",
        "not_yet": "Not yet: {n}",
        "verified": "pending → present (verifier)",
        "corrected": "{name} {number}: present → late (teacher",  # a number may follow
        "finish": "3 attended, 1 not yet.",
        "closed": "Check-in closed",
        "count": "3 attended",
        "zone": f"Times are in the {ZONE} time zone.",
        "rate": "{lesson} — {teacher}: 100% of 1 lesson",
        "lesson_rate": "75%",
    },
    "tr": {
        "saved": "Liste kaydedildi: 4 öğrenci.",
        "added": "Eklenecek: 4",
        "joining": "{lesson} — {teacher} yoklamasına katılmak için giriş yapın",
        "now": "Şimdi: {lesson} — {teacher} · {room}",
        "pending": "Katıldınız, doğrulama bekleniyor.",
        "present": "Yoklamaya katıldınız: var.",
        "not_yet": "Henüz katılmayan: {n}",
        "verified": "bekliyor → var (doğrulayıcı)",
        "corrected": "{name} {number}: var → geç (öğretmen",
        "finish": "3 katılan, 1 henüz katılmadı.",
        "closed": "Yoklama kapandı",
        "count": "3 katılan",
        "zone": f"Saatler {ZONE} saat dilimine göredir.",
        "rate": "{lesson} — {teacher}: %100 1 dersten",
        "lesson_rate": "%75",
    },
}


@pytest.fixture(scope="module")
def walk_server(
    attn_server: Server,
    database: Database,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Server]:
    """This test's server and verifier, started after the package's server (which empties
    the databases first), with everyone of both casts imported."""
    with own_server(
        database,
        redis_url,
        tmp_path_factory.mktemp("attn-walk"),
        name="walk",
        people=[
            person
            for cast in CASTS.values()
            for person in (cast.teacher, cast.tapper, cast.scanner, cast.searcher)
        ],
        settings={"CODE_ROTATION_SECONDS": str(ROTATION), "TIMEZONE": ZONE},
        verifier_args=["--delay", str(VERIFIER_DELAY)],
        verifier_secret=SECRET,
    ) as server:
        yield server


class Walk:
    """The browser contexts of one walk (closed at the end), its numbered screenshots and
    its accessibility checks."""

    def __init__(self, browser: Browser, server: Server, lang: str) -> None:
        self.browser, self.server, self.lang = browser, server, lang
        self.contexts: list[BrowserContext] = []
        self.step = 0
        self.folder = SHOTS / lang
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        try:
            self.axe: str | None = axe_source()
        except AxeUnavailable as exc:  # the walk still runs; only the axe checks are left out
            print(f"axe-core unavailable, the walkthrough runs without it: {exc}")
            self.axe = None

    def t(self, key: str) -> str:
        return TEXTS[key][self.lang]

    def says(self, key: str, **values: object) -> str:
        return SAYS[self.lang][key].format(**values)

    def context(self, viewport: ViewportSize) -> BrowserContext:
        context = self.browser.new_context(
            base_url=self.server.base_url,
            viewport=viewport,
            locale="tr-TR" if self.lang == "tr" else "en-US",
        )
        context.set_default_timeout(10_000)
        context.set_default_navigation_timeout(15_000)
        self.contexts.append(context)
        return context

    def close(self) -> None:
        for context in self.contexts:
            context.close()

    def shot(self, page: Page, name: str, *, full_page: bool = True, axe: bool = True) -> None:
        """Screenshot the page as it is now; check it with axe and for sideways scrolling."""
        self.step += 1
        size = page.viewport_size
        assert size is not None
        label = f"{size['width']}x{size['height']}"
        page.screenshot(
            path=self.folder / f"{self.step:02d}-{name}-{label}.png", full_page=full_page
        )
        problem = overflow_problem(page, f"{self.lang} {name}")
        assert problem is None, problem
        if axe and self.axe is not None:
            assert_accessible(page, f"walkthrough {self.lang} {self.step:02d} {name}", self.axe)


def roster_csv(cast: Cast) -> bytes:
    rows = [cast.tapper, cast.scanner, cast.searcher, cast.absentee]
    text = "school_number,full_name\r\n" + "".join(f"{p.number},{p.name}\r\n" for p in rows)
    return text.encode("utf-8")


def check_in_with_code(walk: Walk, phone: Page, code: str, name: str) -> None:
    """On the join page: type the code, send; pending, then the verifier's result arrives
    without a reload."""
    phone.locator("#code").fill(code)
    phone.locator("main form button[type=submit]").click()
    expect(phone.locator("#result")).to_have_text(walk.says("pending"))
    walk.shot(phone, f"{name}-pending")
    navigations: list[str] = []
    phone.on("framenavigated", lambda frame: navigations.append(frame.url))
    expect(phone.locator("#result")).to_have_text(walk.says("present"), timeout=RESULT_WAIT)
    expect(phone.locator("#waiting")).to_have_count(0)
    assert navigations == [], navigations  # the result came in by itself
    walk.shot(phone, f"{name}-verified")


@pytest.mark.parametrize("lang", ["en", "tr"])
def test_a_whole_lesson_walked_through(walk_server: Server, browser: Browser, lang: str) -> None:
    walk = Walk(browser, walk_server, lang)
    try:
        _walk(walk, walk_server, CASTS[lang])
    finally:
        walk.close()


def _walk(walk: Walk, server: Server, cast: Cast) -> None:
    t, says, lang = walk.t, walk.says, walk.lang
    teacher = cast.teacher.name

    # 1. The teacher signs in at the laptop and uploads the course roster: preview, save.
    laptop_context = walk.context(LAPTOP)
    laptop_context.grant_permissions(["clipboard-read", "clipboard-write"])
    laptop = laptop_context.new_page()
    laptop.goto("/login")
    expect(laptop.get_by_role("heading", level=1)).to_have_text(t("sign_in"))
    sign_in(laptop, cast.teacher)
    expect(laptop).to_have_url(server.url("/teacher"))
    expect(laptop.get_by_role("heading", level=1)).to_have_text(t("dashboard"))
    laptop.get_by_role("link", name=t("rosters")).click()
    expect(laptop).to_have_url(server.url("/teacher/rosters"))
    laptop.get_by_label(t("course_name")).fill(LESSON)
    laptop.get_by_label(t("csv_file")).set_input_files(
        files=FilePayload(name="fizik-101.csv", mimeType="text/csv", buffer=roster_csv(cast))
    )
    walk.shot(laptop, "roster-upload")
    laptop.get_by_role("button", name=t("preview")).click()
    expect(laptop.locator("#added-h")).to_have_text(says("added"))
    for student in (cast.tapper, cast.scanner, cast.searcher, cast.absentee):
        expect(laptop.locator(".names.added")).to_contain_text(student.name)
    walk.shot(laptop, "roster-preview")
    laptop.get_by_role("button", name=t("confirm_roster")).click()
    expect(laptop.locator(".notice")).to_have_text(says("saved"))
    expect(laptop.locator(".roster-table tbody tr")).to_have_count(4)
    walk.shot(laptop, "roster-saved")

    # 2. "Fizik 101" with a code and external verification, in room B-204.
    laptop.goto("/teacher")
    laptop.get_by_label(t("lesson_name")).fill(LESSON)
    laptop.get_by_label(t("room_optional")).fill(ROOM)
    laptop.get_by_label(t("opt_code")).check()
    laptop.get_by_label(t("opt_verification")).check()
    walk.shot(laptop, "start-form")
    laptop.get_by_role("button", name=t("start"), exact=True).click()
    expect(laptop).to_have_url(re.compile(r"/teacher/lessons/[0-9a-f]{32}$"))
    lesson_id = laptop.url.rsplit("/", 1)[1]
    expect(laptop.get_by_role("heading", level=1)).to_have_text(LESSON)
    expect(laptop.locator("main strong").first).to_have_text(t("active"))
    expect(laptop.locator("footer.zone")).to_have_text(says("zone"))
    link_field = laptop.locator("#projector-url")
    expect(link_field).to_have_value(PROJECTOR_LINK)
    link = link_field.input_value()
    laptop.get_by_role("button", name=t("copy")).click()
    expect(laptop.get_by_text(t("copied"))).to_be_visible()
    assert laptop.evaluate("() => navigator.clipboard.readText()") == link
    # the roll, watched live from here on
    laptop.add_init_script(WATCH_STREAM)
    laptop.reload()
    laptop.wait_for_function("() => window.__attnStream && window.__attnStream.ready > 0")
    laptop.evaluate("() => { window.__neverReloaded = true; }")
    not_yet = laptop.locator("#not-yet summary")
    expect(not_yet).to_have_text(says("not_yet", n=4))
    walk.shot(laptop, "lesson-started")

    # 3. The classroom PC opens the projector link, with no session: it fits both sizes.
    projector = walk.context(PROJECTORS[0]).new_page()
    projector.goto(link)
    expect(projector.locator("h1")).to_have_text(LESSON)
    expect(projector.locator(".teacher")).to_have_text(teacher)
    expect(projector.locator(".scan")).to_have_text(t("scan"))
    expect(projector.locator("#code")).to_have_text(re.compile(r"^\d{6}$"))
    expect(projector.locator("#count")).to_have_text("0")
    expect(projector.locator("header")).to_have_count(0)
    expect(projector.get_by_text(t("sign_out"))).to_have_count(0)
    for size in PROJECTORS:
        projector.set_viewport_size(size)
        assert_projector_fits(projector, f"{lang} projector {size}", qr=True)
        walk.shot(projector, "projector-active", full_page=False)
    projector.set_viewport_size(PROJECTORS[0])
    alt = projector.locator("img#qr").get_attribute("alt") or ""
    assert alt.startswith("QR: "), alt
    join_url = alt.removeprefix("QR: ")
    scanned_code = join_url.rsplit("=", 1)[1]
    assert join_url == server.url(f"/join/{lesson_id}?code={scanned_code}"), join_url

    def projected_code() -> str:
        return projector.locator("#code").inner_text()

    # 4. Student B scans the QR signed out: the sign-in page names the lesson.
    scanner = walk.context(PHONE).new_page()
    scanned = time.monotonic()
    scanner.goto(join_url)
    expect(scanner).to_have_url(re.compile(r"/login\?next="))
    expect(scanner.locator(".joining")).to_have_text(
        says("joining", lesson=LESSON, teacher=teacher)
    )
    walk.shot(scanner, "scanner-sign-in")

    # 5. Student A (on the roster): "Now: Fizik 101 — <teacher>", one tap, the code.
    tapper = walk.context(PHONE).new_page()
    tapper.goto("/student")
    sign_in(tapper, cast.tapper)
    expect(tapper).to_have_url(server.url("/student"))
    now = tapper.locator(".now-lesson").filter(has_text=teacher)
    expect(now).to_have_count(1)
    expect(now).to_contain_text(says("now", lesson=LESSON, teacher=teacher, room=ROOM))
    walk.shot(tapper, "tapper-now")
    now.get_by_role("link", name=t("join")).click()
    expect(tapper).to_have_url(server.url(f"/join/{lesson_id}"))
    expect(tapper.locator("main .card h2")).to_have_text(LESSON)
    check_in_with_code(walk, tapper, projected_code(), "tapper")
    expect(not_yet).to_have_text(says("not_yet", n=3), timeout=LIVE_WAIT)
    expect(laptop.locator(f'tr[data-student="{cast.tapper.number}"] .pill')).to_have_text(
        t("st_present"), timeout=LIVE_WAIT
    )

    # 6. Student C types "fizik" and "ayse" (no Turkish letters) and checks in with the code.
    searcher = walk.context(PHONE).new_page()
    searcher.goto("/login")
    sign_in(searcher, cast.searcher)
    expect(searcher).to_have_url(server.url("/student"))
    searcher.get_by_label(t("search_lesson")).fill("fizik")
    searcher.get_by_label(t("search_teacher")).fill("ayse")
    searcher.get_by_role("button", name=t("find"), exact=True).click()
    found = searcher.locator(".found-lesson").filter(has_text=teacher)
    expect(found).to_have_count(1)
    expect(found.get_by_role("heading")).to_have_text(LESSON)
    expect(found).to_contain_text(f"{t('room')} {ROOM}")
    walk.shot(searcher, "searcher-found")
    found.get_by_role("link", name=t("join")).click()
    expect(searcher).to_have_url(server.url(f"/join/{lesson_id}"))
    check_in_with_code(walk, searcher, projected_code(), "searcher")
    expect(not_yet).to_have_text(says("not_yet", n=2), timeout=LIVE_WAIT)
    walk.shot(laptop, "roll-two-in")

    # 7. Student B signs in 40 s after the scan: the scanned code is four windows old.
    left = SCAN_WAIT - (time.monotonic() - scanned)
    print(f"[{lang}] A and C took {SCAN_WAIT - left:.1f} s of B's {SCAN_WAIT:.0f} s wait")
    if left > 0:
        time.sleep(left)
    assert projected_code() != scanned_code
    sign_in(scanner, cast.scanner)
    expect(scanner).to_have_url(join_url)
    expect(scanner.locator("#code")).to_have_value(scanned_code)
    signed_in = time.monotonic()
    walk.shot(scanner, "scanner-join")
    scanner.locator("main form button[type=submit]").click()
    expect(scanner.locator("#result")).to_have_text(says("pending"))
    checked_in = time.monotonic() - scanned
    expect(scanner.locator("#result")).to_have_text(says("present"), timeout=RESULT_WAIT)
    verified = time.monotonic() - scanned
    walk.shot(scanner, "scanner-verified")
    measured = (
        f"{lang}: scan to 'checked in' (pending) {checked_in:.1f} s, to verified present"
        f" {verified:.1f} s; signed in {signed_in - scanned:.1f} s after the scan"
        f" (code rotation {ROTATION} s, verifier delay {VERIFIER_DELAY:.0f} s)"
    )
    print(measured)
    (ARTIFACTS / f"walkthrough-{lang}.txt").write_text(measured + "\n", encoding="utf-8")

    # 8. The roll filled live; the teacher marks C late; the change list names everyone.
    expect(not_yet).to_have_text(says("not_yet", n=1), timeout=LIVE_WAIT)
    counts = laptop.locator("#roll-body .counts")
    expect(counts.locator('[data-count="attended"]')).to_have_text(
        f"{t('attended')}: 3", timeout=LIVE_WAIT
    )
    expect(counts.locator('[data-count="pending"]')).to_have_text(f"{t('st_pending')}: 0")
    expect(projector.locator("#count")).to_have_text("3", timeout=LIVE_WAIT)
    assert laptop.evaluate("() => window.__neverReloaded === true"), "the roll was reloaded"
    changes = laptop.locator("#changes-body li")
    expect(changes.filter(has_text=cast.scanner.name).first).to_contain_text(says("verified"))
    laptop.locator("#not-yet summary").click()
    expect(laptop.locator("#not-yet li")).to_have_text(
        f"{cast.absentee.name} {cast.absentee.number}"
    )
    walk.shot(laptop, "roll-all-in")
    row_c = laptop.locator(f'tr[data-student="{cast.searcher.number}"]')
    row_c.locator(f"#choice-{cast.searcher.number}").select_option("late")
    row_c.get_by_role("button", name=t("apply")).click()
    row_c = laptop.locator(f'tr[data-student="{cast.searcher.number}"]')
    expect(row_c.locator(".pill")).to_have_text(t("st_late"))
    expect(changes.first).to_contain_text(
        says("corrected", name=cast.searcher.name, number=cast.searcher.number)
    )
    for student in (cast.tapper, cast.scanner, cast.searcher):
        expect(changes.filter(has_text=f"{student.name} {student.number}").first).to_be_visible()
    expect(counts.locator('[data-count="late"]')).to_have_text(f"{t('st_late')}: 1")
    expect(counts.locator('[data-count="present"]')).to_have_text(f"{t('st_present')}: 2")
    walk.shot(laptop, "roll-corrected")

    # 9. Finish, through the confirmation; the projector says closed with the final count.
    laptop.get_by_role("button", name=t("finish")).click()
    confirm = laptop.locator("#finish-confirm")
    expect(confirm.get_by_role("heading")).to_have_text(t("finish_question").format(lesson=LESSON))
    expect(confirm).to_contain_text(says("finish"))
    walk.shot(laptop, "finish-question")
    confirm.get_by_role("button", name=t("finish_now")).click()
    expect(laptop.locator("main strong").first).to_have_text(t("finished"))
    expect(laptop.locator("#roll-body")).to_have_attribute("data-live", "no")
    expect(projector.locator("#closed")).to_have_text(says("closed"), timeout=LIVE_WAIT)
    expect(projector.locator(".count")).to_have_text(says("count"))
    expect(projector.locator("#qr")).to_have_count(0)
    for size in PROJECTORS:
        projector.set_viewport_size(size)
        assert_projector_fits(projector, f"{lang} projector closed {size}", qr=False)
        walk.shot(projector, "projector-closed", full_page=False)

    # 10. A sweep moves the lesson to SQL; the history lists it with the roll's counts.
    swept = server.attn("sweep", "--once")
    assert swept.returncode == 0, swept.stderr
    assert re.search(r"sweep: [1-9]\d* lessons persisted", swept.stdout), swept.stdout
    laptop.goto("/teacher/history")
    listed = laptop.locator("tbody tr").filter(
        has=laptop.locator(f'a[href="/teacher/lessons/{lesson_id}"]')
    )
    expect(listed).to_have_count(1)
    expected_counts = {"attended": 3, "present": 2, "late": 1, "pending": 0, "absent": 1}
    for status, number in expected_counts.items():
        label = t("attended") if status == "attended" else t(f"st_{status}")
        expect(listed.locator(f'[data-count="{status}"]')).to_have_text(f"{label}: {number}")
    started = listed.locator("td").nth(1).inner_text()  # the lesson's start, as pages write it
    walk.shot(laptop, "history")
    laptop.goto(f"/teacher/lessons/{lesson_id}")  # now read from SQL: the same counts
    for status, number in expected_counts.items():
        label = t("attended") if status == "attended" else t(f"st_{status}")
        expect(laptop.locator(f'#roll-body [data-count="{status}"]')).to_have_text(
            f"{label}: {number}"
        )
    expect(laptop.locator(f'tr[data-student="{cast.absentee.number}"] .pill')).to_have_text(
        t("st_absent")
    )
    walk.shot(laptop, "lesson-persisted")

    # 11. The course page: the lesson's attended count and rate, the chart, C's rate.
    laptop.goto(f"/teacher/course?name={LESSON}")
    expect(laptop.get_by_role("heading", level=1)).to_have_text(LESSON)
    expect(laptop.locator("table.course thead th.lesson")).to_have_count(1)
    # the lesson's column: its start in the institution's zone and the page's language
    expect(laptop.locator("table.course thead th.lesson")).to_have_text(started.replace(",", ""))
    expect(laptop.locator("footer.zone")).to_have_text(says("zone"))
    expect(laptop.locator(f'tfoot td[data-lesson="{lesson_id}"]')).to_have_text("3/4")
    expect(laptop.locator("tfoot tr.lesson-rate td").nth(1)).to_have_text(says("lesson_rate"))
    expect(laptop.locator("svg.chart circle")).to_have_count(1)
    expect(laptop.locator("svg.chart title").first).to_have_text(t("rate_chart"))
    course_rate = laptop.locator(f'tr[data-student="{cast.searcher.number}"] td.rate')
    expect(course_rate).to_have_attribute("data-percent", "100")
    expect(laptop.locator(f'tr[data-student="{cast.absentee.number}"] td.rate')).to_have_attribute(
        "data-percent", "0"
    )
    walk.shot(laptop, "course")

    # 12. C's own page shows the course page's rate.
    searcher.goto("/student/history")
    expect(searcher.get_by_role("heading", level=1)).to_have_text(t("my_attendance"))
    mine = searcher.locator("ul.rates .rate").filter(has_text=teacher)
    expect(mine).to_have_text(says("rate", lesson=LESSON, teacher=teacher))
    assert mine.get_attribute("data-percent") == course_rate.get_attribute("data-percent")
    expect(searcher.locator("tbody tr").filter(has_text=teacher).locator(".pill")).to_have_text(
        t("st_late")
    )
    walk.shot(searcher, "searcher-history")
