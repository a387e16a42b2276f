"""`python -m bot db upgrade`: Alembic migrations, also run by the bot on start."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from ..errors import ConfigError
from ..resources import migrations_dir
from .db import create_engine

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


async def open_migrated(url: str, busy_timeout_ms: int) -> AsyncEngine:
    """The database at `url`, brought to the latest schema; one line if it cannot be opened
    (never the URL: it may hold a password)."""
    try:
        await upgrade_async(url)
    except (SQLAlchemyError, OSError) as error:
        raise ConfigError(f"database: cannot open it ({type(error).__name__}); check DATABASE_URL") from None
    return create_engine(url, busy_timeout_ms=busy_timeout_ms)


def current(url: str) -> None:
    command.current(alembic_config(url))
