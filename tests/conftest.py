"""Shared fixtures: databases (SQLite always; PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import normalise_database_url
from bot.storage.db import create_engine, sessionmaker
from bot.storage.migrate import upgrade_async

from .support.databases import temporary_database

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def postgres_admin_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    return normalise_database_url(url) if url else None


@pytest.fixture
async def database_url(request: pytest.FixtureRequest, tmp_path: object) -> AsyncIterator[str]:
    """A fresh, empty database of the requested backend; dropped afterwards."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/bot.sqlite3"
        return
    admin = postgres_admin_url()
    if admin is None:
        if os.environ.get("CI"):
            pytest.fail("TEST_DATABASE_URL is not set under CI")
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    async with temporary_database(admin, "stagebot") as url:
        yield url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[AsyncEngine]:
    """That database, migrated to the latest schema."""
    await upgrade_async(database_url)
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(database: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on that database."""
    return sessionmaker(database)
