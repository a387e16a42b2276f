"""Alembic environment: async engines, the bot's models as the target, one migrator at a time."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import DateTime, text
from sqlalchemy.engine import Connection

from bot.storage.db import create_engine
from bot.storage.models import Base, UTCDateTime

MIGRATION_LOCK = 7_411_225  # pg_advisory_lock key: several processes may start at once

config = context.config
target_metadata = Base.metadata


def _compare_type(
    _context: Any, _inspected: Any, metadata_column: Any, inspected_type: Any, metadata_type: Any
) -> bool | None:
    if isinstance(metadata_type, UTCDateTime):  # stored as a plain DateTime(timezone=True)
        return not isinstance(inspected_type, DateTime)
    return None


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    if type_ == "type" and isinstance(obj, UTCDateTime):  # migrations never import the bot's code
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        render_item=_render_item,
        compare_type=_compare_type,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


async def _online(url: str) -> None:
    engine = create_engine(url, foreign_keys=False)  # SQLite rebuilds tables: no cascade meanwhile
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        if connection.dialect.name == "sqlite":
            broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).fetchall()
            if broken:
                raise RuntimeError(f"migration left {len(broken)} rows pointing nowhere")
    await engine.dispose()


def run() -> None:
    url: Any = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    elif context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(_online(url))


run()
