"""Domain errors raised by the services; `attn.http.errors` maps each to one HTTP status."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Self


@dataclass(frozen=True, slots=True)
class BrokenRule:
    """The validation rule a value broke, kept with the error that reports it so that a page
    can say it in its own language: the field, pydantic's error type, the rule's limits
    (`ctx`: `max_length`, `ge`, ...), the value sent, and the line of a file it came from."""

    field: str
    kind: str
    limits: dict[str, Any] = dataclasses.field(default_factory=dict)
    value: str = ""
    line: int | None = None


class AttnError(Exception):
    """A failure the caller can act on; `code` is the contract's snake_case error code."""

    code = "error"
    message = "The request failed."
    # set (`with_rule`) when the failure is a broken validation rule
    rule: BrokenRule | None = None

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message

    def with_rule(self, rule: BrokenRule) -> Self:
        self.rule = rule
        return self


class InvalidCredentials(AttnError):
    code = "invalid_credentials"
    message = "The school number or password is wrong."


class MissingCredentials(AttnError):
    code = "missing_credentials"
    message = "Type your school number and password."


class TooManyAttempts(AttnError):
    code = "too_many_attempts"
    message = "Too many failed logins; try again later."

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TooManyEventStreams(TooManyAttempts):
    code = "too_many_streams"
    message = "You have as many live rolls open as allowed; close one first."


class NotAuthenticated(AttnError):
    code = "not_authenticated"
    message = "A valid access token is required."


class WrongRole(AttnError):
    code = "forbidden"
    message = "This action is not available to your role."


class LessonNotFound(AttnError):
    code = "lesson_not_found"
    message = "No such lesson."


class LessonNotActive(AttnError):
    code = "lesson_not_active"
    message = "The lesson is not active."


class LessonAlreadyActive(AttnError):
    code = "lesson_already_active"
    message = "You already have an active lesson; finish it first."


class RecordNotFound(AttnError):
    code = "record_not_found"
    message = "You have no attendance record in this lesson."


class UserExists(AttnError):
    code = "user_exists"
    message = "A user with this school number already exists."


class InvalidUser(AttnError):
    code = "invalid_user"
    message = "The user data is not valid."

    def __init__(self, message: str | None = None, problems: Sequence[RosterProblem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


class InvalidCode(AttnError):
    code = "invalid_code"
    message = "The check-in code is wrong or has expired; type the code shown now."


class NetworkNotAllowed(AttnError):
    code = "network_not_allowed"
    message = "Check-in is only possible from the classroom's network."


class DeviceRequired(AttnError):
    code = "device_required"
    message = "This lesson needs the check-in to come from your own registered device."


class DeviceAlreadyUsed(AttnError):
    code = "device_already_used"
    message = "This device has already checked in another student for this lesson."


class CodeNotEnabled(AttnError):
    code = "code_not_enabled"
    message = "This lesson does not use a check-in code."


class NetworkUnknown(AttnError):
    code = "network_unknown"
    message = "Your address is unknown, so list the allowed subnets yourself."


class VerificationUnavailable(AttnError):
    code = "verification_unavailable"
    message = "No verifier is configured (ATTN_VERIFIER_URL)."


class RecordExists(AttnError):
    code = "record_exists"
    message = "The student already has a record in this lesson."


class RecordChanged(AttnError):
    code = "record_changed"
    message = "The record changed while it was being corrected; try again."


class StudentNotFound(AttnError):
    code = "student_not_found"
    message = "No student with this school number is known."


class ReasonRequired(AttnError):
    code = "reason_required"
    message = "A rejection needs a reason."


class StatusNotAllowed(AttnError):
    code = "status_not_allowed"
    message = "A teacher can set present, late, rejected, excused or absent."


@dataclass(frozen=True, slots=True)
class RosterProblem:
    """What is wrong with one line of an uploaded roster or account import (line 1 is the
    header; 0 is the file as a whole): `kind` names the rule (`header`, `columns`, `number`,
    `name`, `duplicate`, `not_student`, `too_many`, `not_csv`, `encoding`; for an import also
    `invalid`, `exists`, `empty`), `value` the cell it is about, `message` the problem in
    words."""

    line: int
    kind: str
    value: str
    message: str


class InvalidRoster(AttnError):
    code = "invalid_roster"
    message = "The roster is not valid CSV with the header school_number,full_name."

    def __init__(self, message: str | None = None, problems: Sequence[RosterProblem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


class AmbiguousStudent(AttnError):
    code = "ambiguous_student"
    message = "Several roster students have this name; pick one by number."


class RosterChanged(AttnError):
    code = "roster_changed"
    message = "The roster changed since its preview; look at the new preview and confirm again."


class RosterNotFound(AttnError):
    code = "roster_not_found"
    message = "No roster for this course."


class InvalidSignature(AttnError):
    code = "invalid_signature"
    message = "The signature is missing, wrong or too old."


class VerificationNotFound(AttnError):
    code = "verification_not_found"
    message = "No open verification with this id (it may have timed out)."


class VerificationAlreadyAnswered(AttnError):
    code = "verification_already_answered"
    message = "This verification has already been answered."


class InvalidRequest(AttnError):
    code = "validation_error"
    message = "The request is not valid."


class CrossSiteRequest(AttnError):
    code = "cross_site_request"
    message = "This form was sent from another site's page, so it was refused."


class SignInFormExpired(AttnError):
    code = "sign_in_form_expired"
    message = "The sign-in form had expired or was not opened here; sign in again."


class InvalidRefreshToken(AttnError):
    code = "invalid_refresh_token"
    message = "The refresh token is unknown, expired, revoked or not for this device."


class ProjectorLinkNotFound(AttnError):
    code = "projector_link_not_found"
    message = "This projector link is not valid."


class ProjectorLinkRevoked(AttnError):
    code = "projector_link_revoked"
    message = "This projector link was revoked."


class ProjectorLinkExpired(AttnError):
    code = "projector_link_expired"
    message = "This projector link has expired: its lesson has ended."


class UserNotFound(AttnError):
    code = "user_not_found"
    message = "There is no user with this school number."


class LastAdmin(AttnError):
    code = "last_admin"
    message = "This is the last active administrator: make another one first."


class UnknownAccount(AttnError):
    code = "unknown_account"
    message = "There is no ATTN account for you yet; ask your administrator."


class AccountDisabled(AttnError):
    code = "account_disabled"
    message = "This account has been deactivated; ask your administrator."


class SsoRefused(AttnError):
    """A single sign-on answer that did not pass its checks; the message says which."""

    code = "sso_refused"
    message = "The sign-in through your identity provider failed."


class SsoUnavailable(AttnError):
    """The identity provider cannot be reached, or answers what no provider should."""

    code = "sso_unavailable"
    message = "The identity provider cannot be reached now; try again in a moment."


class AccountChanged(AttnError):
    """An administrator's form about an account that changed after the form was opened."""

    code = "account_changed"
    message = (
        "This account changed after the page was opened, so nothing was changed. "
        "Look at it again and try once more."
    )


class LtiRegistrationFailed(AttnError):
    """An LTI Dynamic Registration that could not complete: the platform's configuration or
    its answer to the registration is not what the specification asks for."""

    code = "lti_registration_failed"
    message = "The registration with the learning platform could not be completed."


class LtiPlatformFailed(AttnError):
    """A learning platform's service (roster, grades, keys) refused or could not be reached."""

    code = "lti_platform_failed"
    message = "The learning platform did not answer as expected; try again in a moment."


class LtiNotLinked(AttnError):
    """The course is not linked to a course of a learning platform."""

    code = "lti_not_linked"
    message = "This course is not linked to a course of a learning platform."


class LtiNoGradeService(LtiNotLinked):
    """The linked course's launches gave no grade service with the score scope: its grade
    jobs cannot succeed by being retried."""


class LtiStateNotKept(SsoRefused):
    """An LTI launch whose state this server started, but whose browser did not keep the
    state's cookie (a framed page whose browser blocks the tool's cookies): the launch cannot
    be bound to this browser and is restarted in a tab of its own, with `params`, the login
    request's."""

    def __init__(self, params: dict[str, str]) -> None:
        super().__init__("the browser did not keep the login's cookie")
        self.params = params
