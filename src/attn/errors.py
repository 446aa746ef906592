"""Domain errors raised by the services; the API maps each to one HTTP status and code."""

from __future__ import annotations


class AttnError(Exception):
    """A failure the caller can act on; `code` is the contract's snake_case error code."""

    code = "error"
    message = "The request failed."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message


class InvalidCredentials(AttnError):
    code = "invalid_credentials"
    message = "The school number or password is wrong."


class TooManyAttempts(AttnError):
    code = "too_many_attempts"
    message = "Too many failed logins; try again later."

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = retry_after


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
