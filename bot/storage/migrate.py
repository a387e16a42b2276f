"""`python -m bot db upgrade`: Alembic migrations, also run by the bot on start."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.config import Config as AlembicConfig

from ..resources import migrations_dir

MIGRATIONS = migrations_dir()  # the Alembic script directory, package data `bot/migrations/` once installed


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` (blocking; runs its own event loop)."""
    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str) -> None:
    await asyncio.to_thread(upgrade, url)


def current(url: str) -> None:
    command.current(alembic_config(url))
