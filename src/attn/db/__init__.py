"""Permanent history in SQL: tables, migrations and repositories."""
