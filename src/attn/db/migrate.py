"""Apply the Alembic migrations shipped inside the package to a database."""

from __future__ import annotations

from alembic import command
from alembic.config import Config


def alembic_config(async_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", "attn.db:migrations")
    config.set_main_option("sqlalchemy.url", async_url.replace("%", "%%"))
    return config


def upgrade(async_url: str) -> None:
    """Bring the database to the newest schema; call it where no event loop is running."""
    command.upgrade(alembic_config(async_url), "head")
