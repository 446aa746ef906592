"""LTI 1.3, what a launch means in ATTN: who signs in (the account claim, the role map), the
LMS course as the teacher's ATTN course (its lessons are named by the LMS course's title),
its roster kept as the LMS membership (Names and Role Provisioning), and the course's
attendance rates sent back as grades (Assignment and Grade Services) through an outbox.

**Accounts.** `ATTN_LTI_ACCOUNT_CLAIM` names the claim that carries the school number: the
`lis` claim's `person_sourcedid`, the email's part before `@` (of a domain in
`ATTN_LTI_EMAIL_DOMAINS` when that is set) or a custom parameter. The platform's user id
(`sub`) is remembered with the account, so a member the roster lists later is known by it.

**Rosters.** A sync makes the ATTN roster the course's active learners (members with a role
the role map makes students); a learner who left (or is no longer active) is marked "left" in
`lti_members`, and their attendance records stay as they are. Each sync's changes go to the
administrators' audit (action `lti_roster_sync`).

**Grades.** Persisting a lesson of a linked course (the sweep) writes a job in the outbox in
the lesson's own transaction. The worker drains it: the course's line item "Attendance"
(found again by its resourceId, created once) gets each roster student's rate as a score
out of 100, computed by `attendance.rate_of` with the course's weights. A score the platform
accepted is stored, so a retried or repeated passback sends only what changed; a failure is
retried later (doubling waits, up to an hour) and never lost.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from pydantic import TypeAdapter, ValidationError

from attn.db import account_audit, course_settings, history, rosters
from attn.db import lti as lti_db
from attn.db.tables import LtiCourseRow, LtiMemberRow
from attn.errors import (
    AttnError,
    LtiNoGradeService,
    LtiNotLinked,
    LtiPlatformFailed,
    SsoRefused,
)
from attn.models import (
    SCHOOL_NUMBER_PATTERN,
    DisplayName,
    ExternalIdentity,
    RecordStatus,
    Role,
    RosterStudent,
    normalize_name,
)
from attn.services import lti
from attn.services.attendance import DEFAULT_WEIGHTS, rate_of
from attn.services.context import ServiceContext

log = logging.getLogger("attn.lti")

_SCHOOL_NUMBER = re.compile(SCHOOL_NUMBER_PATTERN)
_NAME: TypeAdapter[str] = TypeAdapter(DisplayName)
LINE_ITEM_LABEL = "Attendance"
LINE_ITEM_RESOURCE = "attn-attendance"
MAX_RETRY_SECONDS = 3600
AUDIT_ACTION = "lti_roster_sync"


# --- who a launch signs in -------------------------------------------------------------------


def role_words(roles: Any) -> list[str]:
    """The last word of each LTI role URI ("...membership#Instructor" -> "Instructor"; a
    sub-role "...membership/Instructor#TeachingAssistant" -> "TeachingAssistant")."""
    if not isinstance(roles, list):
        return []
    return [re.split(r"[#/]", str(role))[-1] for role in roles if str(role)]


def attn_role(ctx: ServiceContext, roles: Any) -> Role | None:
    """The ATTN role of a launch's (or a member's) LTI roles: a teacher's when any maps to
    teacher, else a student's when any maps to student, else None."""
    mapped = {ctx.settings.lti_role_map.get(word) for word in role_words(roles)}
    if "teacher" in mapped:
        return Role.TEACHER
    if "student" in mapped:
        return Role.STUDENT
    return None


def school_number_of(ctx: ServiceContext, *, sourcedid: str, email: str, custom: str) -> str:
    """The school number the account claim gives, or "" when it gives none."""
    claim = ctx.settings.LTI_ACCOUNT_CLAIM
    if claim == "lis":
        value = sourcedid
    elif claim == "email":
        local, at, domain = email.strip().rpartition("@")
        domains = {
            d.strip().lower() for d in ctx.settings.LTI_EMAIL_DOMAINS.split(",") if d.strip()
        }
        value = local if at and (not domains or domain.lower() in domains) else ""
    else:
        value = custom
    value = value.strip()
    return value if _SCHOOL_NUMBER.fullmatch(value) else ""


def _display_name(value: str) -> str:
    try:
        return _NAME.validate_python(" ".join(value.split()))
    except ValidationError:
        return ""


@dataclass(frozen=True, slots=True)
class Entry:
    """A checked launch in ATTN's terms, kept in a one-time ticket until the browser's GET."""

    platform_id: int
    user_id: str
    school_number: str
    full_name: str
    role: str
    context_id: str
    course_name: str
    memberships_url: str
    lineitems_url: str
    ags_scopes: list[str]
    return_url: str
    lineitem_url: str = ""  # the link's own grade column, when the platform gives one

    def dump(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def load(cls, raw: str) -> Entry:
        return cls(**json.loads(raw))

    @property
    def identity(self) -> ExternalIdentity:
        return ExternalIdentity(self.school_number, self.full_name, Role(self.role))


def entry_of(ctx: ServiceContext, launch: lti.CheckedLaunch) -> Entry:
    """Who the launch signs in and into which course; SsoRefused when it says neither."""
    if launch.claim("message_type") != "LtiResourceLinkRequest":
        raise SsoRefused("only resource link launches open ATTN")
    role = attn_role(ctx, launch.claim("roles", []))
    if role is None:
        raise SsoRefused("the launch's roles map to no ATTN role (ATTN_LTI_ROLE_MAP)")
    claims = launch.claims
    lis = launch.claim("lis") or {}
    custom = launch.claim("custom") or {}
    claim = ctx.settings.LTI_ACCOUNT_CLAIM
    number = school_number_of(
        ctx,
        sourcedid=str(lis.get("person_sourcedid") or "") if isinstance(lis, dict) else "",
        email=str(claims.get("email") or ""),
        custom=str(custom.get(claim.removeprefix("custom:")) or "")
        if isinstance(custom, dict)
        else "",
    )
    if not number:
        raise SsoRefused(f"the launch's {claim} claim gives no school number")
    context = launch.claim("context") or {}
    if not isinstance(context, dict) or not context.get("id"):
        raise SsoRefused("the launch has no course (context claim)")
    title = _display_name(str(context.get("title") or context.get("label") or ""))
    if not title:
        raise SsoRefused("the launch's course has no title ATTN can name lessons by")
    nrps = claims.get(lti.NRPS_CLAIM) or {}
    ags = claims.get(lti.AGS_CLAIM) or {}
    presentation = launch.claim("launch_presentation") or {}
    full_name = str(claims.get("name") or "") or " ".join(
        str(claims.get(part) or "") for part in ("given_name", "family_name")
    )
    return Entry(
        platform_id=launch.platform.id,
        user_id=str(claims["sub"])[:255],
        school_number=number,
        full_name=_display_name(full_name),
        role=role.value,
        context_id=str(context["id"])[:255],
        course_name=title,
        memberships_url=str(nrps.get("context_memberships_url") or "")
        if isinstance(nrps, dict)
        else "",
        lineitems_url=str(ags.get("lineitems") or "") if isinstance(ags, dict) else "",
        ags_scopes=[str(s) for s in ags.get("scope") or []] if isinstance(ags, dict) else [],
        return_url=str(presentation.get("return_url") or "")
        if isinstance(presentation, dict)
        else "",
        lineitem_url=str(ags.get("lineitem") or "") if isinstance(ags, dict) else "",
    )


def course_path(course_name: str) -> str:
    return f"/lti/course?name={quote(course_name)}"


async def after_sign_in(ctx: ServiceContext, entry: Entry, school_number: str, role: Role) -> str:
    """Once the launch's account is signed in: remember the platform's user id, link the
    course (a teacher's launch, which also syncs the roster) and say where to go. `role` is
    the account's own (an existing account keeps the role its administrator gave it, the
    launch's role aside)."""
    async with ctx.db() as session, session.begin():
        await lti_db.remember_user(
            session=session,
            platform_id=entry.platform_id,
            user_id=entry.user_id,
            school_number=school_number,
        )
        if role is Role.TEACHER:
            await lti_db.link_course(
                session=session,
                platform_id=entry.platform_id,
                context_id=entry.context_id,
                teacher_school_number=school_number,
                course_key=normalize_name(entry.course_name),
                course_name=entry.course_name,
                memberships_url=entry.memberships_url or None,
                lineitems_url=entry.lineitems_url or None,
                ags_scopes=entry.ags_scopes,
                lineitem_url=entry.lineitem_url or None,
            )
    if role is Role.STUDENT:
        return f"/lti/student?{_query(entry)}"
    if role is not Role.TEACHER:
        return "/"  # an administrator's own start page
    if entry.memberships_url:
        try:
            await sync_roster(
                ctx,
                platform_id=entry.platform_id,
                context_id=entry.context_id,
                teacher=school_number,
            )
        except AttnError as exc:  # the page says the sync failed; the launch goes on
            log.warning("lti: roster sync at launch failed: %s", exc.message)
    return course_path(entry.course_name)


def _query(entry: Entry) -> str:
    return urlencode({"platform": entry.platform_id, "context": entry.context_id})


async def student_lesson(
    ctx: ServiceContext, *, platform_id: int, context_id: str
) -> tuple[str, str | None]:
    """The course's name and the id of its lesson that is on now (None when none is), for a
    student's launch: the active lesson of any teacher linked to the course, of its name."""
    async with ctx.db() as session:
        courses = await lti_db.courses_of_context(
            session=session, platform_id=platform_id, context_id=context_id
        )
    if not courses:
        return "", None
    now = ctx.now()
    wanted = {(course.teacher_school_number, course.course_key) for course in courses}
    lessons = await ctx.redis_client.teachers_active_lessons(sorted({t for t, _ in wanted}))
    for lesson in lessons:
        key = (lesson.teacher_school_number, normalize_name(lesson.lesson_name))
        if lesson.is_active(now) and key in wanted:
            return courses[0].course_name, lesson.lesson_id
    return courses[0].course_name, None


# --- linked courses, as their teacher sees them ----------------------------------------------


async def linked_courses(ctx: ServiceContext, *, teacher: str, course: str) -> list[LtiCourseRow]:
    async with ctx.db() as session:
        return await lti_db.courses_of_teacher(
            session=session, teacher_school_number=teacher, course_key=normalize_name(course)
        )


async def _linked(ctx: ServiceContext, *, teacher: str, course: str) -> LtiCourseRow:
    found = await linked_courses(ctx, teacher=teacher, course=course)
    if not found:
        raise LtiNotLinked
    return found[0]


async def set_grades_on(ctx: ServiceContext, *, teacher: str, course: str, on: bool) -> None:
    """Turn the course's grade passback on or off (every LMS course linked to it)."""
    key = normalize_name(course)
    async with ctx.db() as session, session.begin():
        rows = await lti_db.courses_of_teacher(
            session=session, teacher_school_number=teacher, course_key=key
        )
        if not rows:
            raise LtiNotLinked
        for row in rows:
            row.grades_on = on


@dataclass(frozen=True, slots=True)
class MemberView:
    school_number: str | None
    full_name: str
    status: str  # "active" | "left"


async def members(ctx: ServiceContext, course: LtiCourseRow) -> list[MemberView]:
    async with ctx.db() as session:
        rows = await lti_db.members_of(
            session=session, platform_id=course.platform_id, context_id=course.context_id
        )
    return sorted(
        (
            MemberView(row.school_number, row.full_name, row.status)
            for row in rows.values()
            if row.learner
        ),
        key=lambda m: (m.status != "active", m.full_name, m.school_number or ""),
    )


@dataclass(frozen=True, slots=True)
class RosterChange:
    """One sync that changed the course's roster, as the audit keeps it."""

    at: datetime
    added: list[str]  # school numbers
    left: list[str]


async def roster_changes(
    ctx: ServiceContext, course: LtiCourseRow, *, limit: int = 5
) -> list[RosterChange]:
    """The latest syncs that changed the course's roster, newest first (from the audit)."""
    async with ctx.db() as session:
        rows = await account_audit.entries(
            session=session, target=course.teacher_school_number, limit=200, offset=0
        )
    changes = []
    for row in rows:
        if row.action != AUDIT_ACTION:
            continue
        after = json.loads(row.after or "{}")
        before = json.loads(row.before or "{}")
        if after.get("context") != course.context_id or after.get("course") != course.course_name:
            continue
        added = [str(number) for number in after.get("added", [])]
        left = [str(number) for number in before.get("left", [])]
        changes.append(RosterChange(row.at, added, left))
        if len(changes) == limit:
            break
    return changes


# --- roster sync -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RosterSync:
    added: list[tuple[str, str]]  # (school number, name) now on the roster
    left: list[tuple[str, str]]  # taken off it: no longer an active member
    unknown: int  # learners whose school number ATTN does not know (yet)
    students: int  # on the roster now

    @property
    def changed(self) -> bool:
        return bool(self.added or self.left)


async def sync_roster(
    ctx: ServiceContext, *, platform_id: int, context_id: str, teacher: str
) -> RosterSync:
    """Make the course's roster its LMS membership (NRPS, every page); LtiPlatformFailed
    when the platform does not answer, LtiNotLinked when the course has no NRPS endpoint."""
    async with ctx.db() as session:
        course = await lti_db.get_course(
            session=session,
            platform_id=platform_id,
            context_id=context_id,
            teacher_school_number=teacher,
        )
        platform_row = await lti_db.get_platform(session=session, platform_id=platform_id)
    if course is None or platform_row is None or not course.memberships_url:
        raise LtiNotLinked
    platform = lti.Platform.of(platform_row)
    client = await lti.ServiceClient.of(ctx, platform)
    now = ctx.now()
    try:
        listed = await client.members(course.memberships_url)
    except LtiPlatformFailed as exc:
        async with ctx.db() as session, session.begin():
            row = await lti_db.get_course(
                session=session,
                platform_id=platform_id,
                context_id=context_id,
                teacher_school_number=teacher,
            )
            if row is not None:
                row.sync_error = exc.message[:500]
        raise
    async with ctx.db() as session, session.begin():
        known = await lti_db.known_users(
            session=session, platform_id=platform_id, user_ids=[m.user_id for m in listed]
        )
        before = await lti_db.members_of(
            session=session, platform_id=platform_id, context_id=context_id
        )
        stored = (
            await rosters.stored_students(
                session=session,
                teacher_school_number=teacher,
                course_key=course.course_key,
                lock=True,
            )
            or {}
        )
        roster: dict[str, str] = {}
        unknown = 0
        seen: set[str] = set()
        for member in listed:
            if not member.user_id or member.user_id in seen:
                continue
            seen.add(member.user_id)
            learner = attn_role(ctx, list(member.roles)) is Role.STUDENT
            number = known.get(member.user_id) or school_number_of(
                ctx, sourcedid=member.sourcedid, email=member.email, custom=""
            )
            name = _display_name(member.name) or (number or "?")
            status = "active" if member.active else "left"
            member_row = before.get(member.user_id)
            if member_row is None:
                member_row = LtiMemberRow(
                    platform_id=platform_id, context_id=context_id, user_id=member.user_id
                )
                session.add(member_row)
            member_row.school_number = number or None
            member_row.full_name = name
            member_row.learner = learner
            if member_row.status != status:
                member_row.changed_at = now
            member_row.status = status
            if member_row.changed_at is None:
                member_row.changed_at = now
            if not learner or not member.active:
                continue
            if not number:
                unknown += 1
                continue
            roster[number] = name
        for user_id, member_row in before.items():
            if user_id not in seen and member_row.status != "left":
                member_row.status = "left"
                member_row.changed_at = now
        added = sorted((n, roster[n]) for n in roster if n not in stored)
        left = sorted((n, stored[n]) for n in stored if n not in roster)
        await rosters.replace_roster(
            session=session,
            teacher_school_number=teacher,
            course_key=course.course_key,
            course_name=course.course_name,
            students=[RosterStudent(school_number=n, full_name=v) for n, v in roster.items()],
            now=now,
        )
        row_course = await lti_db.get_course(
            session=session,
            platform_id=platform_id,
            context_id=context_id,
            teacher_school_number=teacher,
        )
        if row_course is not None:
            row_course.synced_at = now
            row_course.sync_error = None
        if added or left:
            await account_audit.record(
                session=session,
                at=now,
                actor=f"lti:{platform_id}",
                action=AUDIT_ACTION,
                target=teacher,
                before={"course": course.course_name, "left": [n for n, _ in left]},
                after={
                    "course": course.course_name,
                    "context": context_id,
                    "added": [n for n, _ in added],
                    "students": len(roster),
                },
            )
    result = RosterSync(added, left, unknown, len(roster))
    log.info(
        "lti: roster of %r synced: %d students, %d added, %d left, %d unknown",
        course.course_name,
        len(roster),
        len(added),
        len(left),
        unknown,
    )
    return result


async def sync_course(ctx: ServiceContext, *, teacher: str, course: str) -> RosterSync:
    """The teacher's "sync now": the roster of the course's (first) linked LMS course."""
    linked = await _linked(ctx, teacher=teacher, course=course)
    return await sync_roster(
        ctx, platform_id=linked.platform_id, context_id=linked.context_id, teacher=teacher
    )


# --- grades ----------------------------------------------------------------------------------


@dataclass
class DrainSummary:
    courses: int = 0
    scores: int = 0
    failed: int = 0


async def course_percents(ctx: ServiceContext, *, teacher: str, course_key: str) -> dict[str, int]:
    """Each student's attendance rate in the course as a whole percentage, by the course's
    rule (`rate_of` with its weights); students no lesson counts for are left out."""
    async with ctx.db() as session:
        lessons = await history.teacher_lessons_named(
            session=session, teacher_school_number=teacher, course_key=course_key
        )
        records = await history.records_of_lessons(
            session=session, lesson_ids=[lesson.lesson_id for lesson in lessons]
        )
        found = await course_settings.get_weights(session=session, courses=[(teacher, course_key)])
    weights = found.get((teacher, course_key), DEFAULT_WEIGHTS)
    by_student: dict[str, list[RecordStatus]] = {}
    for record in records:
        by_student.setdefault(record.student_number, []).append(record.status)
    percents = {}
    for number, statuses in by_student.items():
        percent = rate_of(statuses, weights).percent
        if percent is not None:
            percents[number] = percent
    return percents


async def pass_back(ctx: ServiceContext, course: LtiCourseRow) -> int:
    """Send the course's rates to its line item; how many scores were sent (a score the
    platform accepted before is not sent again)."""
    scopes = course.ags_scopes.split()
    if not (course.lineitems_url or course.lineitem_url) or lti.AGS_SCOPES[2] not in scopes:
        raise LtiNoGradeService("the LMS course offers no grade service (AGS) with scores")
    async with ctx.db() as session:
        platform_row = await lti_db.get_platform(session=session, platform_id=course.platform_id)
        members_now = await lti_db.members_of(
            session=session, platform_id=course.platform_id, context_id=course.context_id
        )
        sent_before = await lti_db.scores_of(
            session=session,
            platform_id=course.platform_id,
            context_id=course.context_id,
            teacher=course.teacher_school_number,
        )
    if platform_row is None:
        raise LtiNotLinked
    client = await lti.ServiceClient.of(ctx, lti.Platform.of(platform_row))
    lineitem_url = course.lineitem_url
    if not lineitem_url and course.lineitems_url:
        lineitem_url = await client.attendance_line_item(
            course.lineitems_url, scopes, resource_id=LINE_ITEM_RESOURCE, label=LINE_ITEM_LABEL
        )
        async with ctx.db() as session, session.begin():
            row = await lti_db.get_course(
                session=session,
                platform_id=course.platform_id,
                context_id=course.context_id,
                teacher_school_number=course.teacher_school_number,
            )
            if row is not None:
                row.lineitem_url = lineitem_url
    if not lineitem_url:
        raise LtiNoGradeService("the LMS course offers no line item to score")
    percents = await course_percents(
        ctx, teacher=course.teacher_school_number, course_key=course.course_key
    )
    sent = 0
    for member in members_now.values():
        if member.status != "active" or not member.learner or not member.school_number:
            continue
        percent = percents.get(member.school_number)
        if percent is None or sent_before.get(member.user_id) == float(percent):
            continue
        now = ctx.now()
        await client.post_score(
            lineitem_url,
            scopes,
            user_id=member.user_id,
            percent=percent,
            timestamp=now,
        )
        async with ctx.db() as session, session.begin():
            await lti_db.put_score(
                session=session,
                platform_id=course.platform_id,
                context_id=course.context_id,
                teacher=course.teacher_school_number,
                user_id=member.user_id,
                score=float(percent),
                now=now,
            )
        sent += 1
    return sent


def retry_wait(ctx: ServiceContext, attempts: int) -> timedelta:
    """The wait before the next try of a job that failed `attempts` times (1, 2, ...)."""
    seconds = ctx.settings.LTI_GRADE_RETRY_SECONDS * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(MAX_RETRY_SECONDS, seconds))


async def drain_grades(ctx: ServiceContext, *, limit: int = 50) -> DrainSummary:
    """One pass over the outbox's due jobs: each course once, whatever its number of jobs.
    A failure leaves the course's jobs for a later pass; nothing here raises."""
    summary = DrainSummary()
    now = ctx.now()
    async with ctx.db() as session:
        jobs = await lti_db.due_grade_jobs(session=session, now=now, limit=limit)
    courses: dict[tuple[int, str, str], list[Any]] = {}
    for job in jobs:
        courses.setdefault((job.platform_id, job.context_id, job.teacher_school_number), []).append(
            job
        )
    for (platform_id, context_id, teacher), course_jobs in courses.items():
        summary.courses += 1
        try:
            async with ctx.db() as session:
                course = await lti_db.get_course(
                    session=session,
                    platform_id=platform_id,
                    context_id=context_id,
                    teacher_school_number=teacher,
                )
            if course is not None and course.grades_on:
                summary.scores += await pass_back(ctx, course)
        except LtiNoGradeService as exc:
            # nothing to retry: the jobs are done, with the reason
            log.warning("lti: grades of course %s not sent: %s", context_id, exc.message)
            async with ctx.db() as session, session.begin():
                await lti_db.finish_grade_jobs(
                    session=session,
                    platform_id=platform_id,
                    context_id=context_id,
                    teacher=teacher,
                    up_to=max(job.created_at for job in course_jobs),
                    now=ctx.now(),
                    note=exc.message,
                )
            continue
        except Exception as exc:
            summary.failed += 1
            error = exc.message if isinstance(exc, AttnError) else f"{type(exc).__name__}: {exc}"
            log.warning("lti: grades of course %s not sent: %s", context_id, error)
            async with ctx.db() as session, session.begin():
                for job in course_jobs:
                    await lti_db.fail_grade_job(
                        session=session,
                        job_id=job.id,
                        error=error,
                        retry_at=ctx.now() + retry_wait(ctx, job.attempts + 1),
                    )
            continue
        async with ctx.db() as session, session.begin():
            await lti_db.finish_grade_jobs(
                session=session,
                platform_id=platform_id,
                context_id=context_id,
                teacher=teacher,
                up_to=max(job.created_at for job in course_jobs),
                now=ctx.now(),
            )
    return summary


async def queue_grades(session: Any, lessons: list[tuple[str, str, str]], now: datetime) -> int:
    """The sweep's hook, in its transaction: outbox jobs for the persisted lessons of linked
    courses (a savepoint, so that a failure here never fails the lessons' write)."""
    try:
        async with session.begin_nested():
            return await lti_db.queue_grade_jobs(session=session, lessons=lessons, now=now)
    except Exception as exc:
        log.error("lti: grade jobs not queued: %s: %s", type(exc).__name__, exc)
        return 0
