"""Where a person still is in the database: found from the schema and by value, not from a list."""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Base


def columns_referencing_people() -> set[str]:
    """Every `table.column` with a foreign key to `people.id`."""
    return {
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        for fk in column.foreign_keys
        if fk.column.table.name == "people"
    }


async def columns_holding(session: AsyncSession, person_id: int | None, external_id: str) -> set[str]:
    """Every column that still holds the person: by reference to their row (`person_id`), or by
    value (their id on the channel anywhere, in any column of any table, JSON included)."""
    found: set[str] = set()
    referencing = columns_referencing_people() | {"people.id"}
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if person_id is not None and f"{table.name}.{column.name}" in referencing:
                count = await session.scalar(select(func.count()).select_from(table).where(column == person_id))
                if count:
                    found.add(f"{table.name}.{column.name}")
        for row in (await session.execute(select(table))).all():
            for column, value in zip(table.columns, row, strict=True):
                if isinstance(value, datetime | date):  # a moment holds no one ("…04:30:10.123010" is not 3010)
                    continue
                if external_id in json.dumps(value, default=str, ensure_ascii=False):
                    found.add(f"{table.name}.{column.name}")
    return found
