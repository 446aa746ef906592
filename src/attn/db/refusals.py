"""Telling data the database refuses apart from a database that is not there.

A data exception (a string longer than its column, a NUL byte, which PostgreSQL cannot keep
in text, a value that cannot be encoded) or a broken constraint fails every time the same
data is written; a refused connection, a timeout or a lock fails only for a while. Callers
treat the first as the data's own fault (a request's 422, a lesson the sweep sets aside) and
the second as an outage (503, a retry). Imports nothing from the rest of the package.
"""

from __future__ import annotations

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError

# SQLSTATE classes (PostgreSQL): 22 data exception, 23 integrity constraint violation.
_DATA_EXCEPTION = "22"
_CONSTRAINT_VIOLATION = "23"


def _sqlstate(exc: DBAPIError) -> str:
    return str(getattr(exc.orig, "sqlstate", None) or "")


def refuses_value(exc: BaseException) -> bool:
    """Whether the database refused a value as such (it would refuse it again)."""
    if isinstance(exc, DataError):
        return True
    if isinstance(exc, DBAPIError):
        return _sqlstate(exc).startswith(_DATA_EXCEPTION)
    # SQLite's driver raises the encoding error of a lone surrogate as it is
    return isinstance(exc, UnicodeError)


def refuses_write(exc: BaseException) -> bool:
    """Whether a write failed on the data itself: a refused value, a broken constraint or a
    value that could not be bound."""
    if refuses_value(exc) or isinstance(exc, IntegrityError):
        return True
    if isinstance(exc, DBAPIError):
        return _sqlstate(exc).startswith(_CONSTRAINT_VIOLATION)
    # a StatementError that is not a DBAPIError: the value failed before it reached the driver
    return isinstance(exc, StatementError)
