"""Offer editions in the database: every import a new version, the latest one live.

The shipped file of an offer (`rules/offers`, or `offers_dir`) is its version 0; an import adds
version n + 1 with the whole validated offer, who imported it and when. Nothing is overwritten.
An import counts as a staff change (`repo.bump_content_version`), so every process reloads.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rules import OfferFileError, Program
from rules.model import parse_program

from ..storage import repo
from ..storage.models import AuditEntry, OfferEdition

logger = logging.getLogger(__name__)

SHIPPED = 0  # the version number of an offer's shipped file
IMPORT_ACTION = "offer.import"
IMPORT_ROLE = "organizer"


def content_of(program: Program) -> dict[str, Any]:
    """An offer as stored: the validated data, every default filled in, as JSON values."""
    return program.model_dump(mode="json")


def digest_of(program: Program) -> str:
    """The same offer gives the same digest, however its file was written (key order, quoting)."""
    canonical = json.dumps(content_of(program), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Edition:
    """One version of an offer: the shipped file (version 0, no importer) or an imported edition."""

    program: Program
    version: int
    digest: str
    imported_by: str | None = None
    imported_at: datetime | None = None
    row_id: int | None = None

    @classmethod
    def shipped(cls, program: Program) -> Edition:
        return cls(program, SHIPPED, digest_of(program))


@dataclass(frozen=True)
class Imported:
    """What an import did with one offer: `edition` is the new version, or the live one if unchanged."""

    edition: Edition
    previous: Edition | None  # the version live before (None: a new offer)
    added: bool


def _edition(row: OfferEdition) -> Edition | None:
    """A stored edition, validated again; one the current schema refuses is logged and left out."""
    try:
        program = parse_program(row.content, f"offer edition {row.program_id} v{row.version}")
    except OfferFileError as error:
        logger.error("stored offer edition left out: %s", error)
        return None
    return Edition(program, row.version, row.digest, row.imported_by, row.imported_at, row.id)


async def latest_ids(session: AsyncSession) -> dict[str, int]:
    """The row id of each offer's latest edition (one small statement)."""
    top = select(OfferEdition.program_id, func.max(OfferEdition.version).label("version")).group_by(
        OfferEdition.program_id
    )
    latest = top.subquery()
    rows = await session.execute(
        select(OfferEdition.program_id, OfferEdition.id).join(
            latest, (OfferEdition.program_id == latest.c.program_id) & (OfferEdition.version == latest.c.version)
        )
    )
    return {program_id: row_id for program_id, row_id in rows.tuples()}


async def editions_by_id(session: AsyncSession, row_ids: Sequence[int]) -> dict[str, Edition]:
    """The editions of these rows by offer id (an edition the schema now refuses left out)."""
    if not row_ids:
        return {}
    rows = (await session.execute(select(OfferEdition).where(OfferEdition.id.in_(row_ids)))).scalars()
    return {edition.program.id: edition for row in rows if (edition := _edition(row)) is not None}


async def latest(session: AsyncSession) -> dict[str, Edition]:
    """Each imported offer's latest edition, by offer id."""
    return await editions_by_id(session, list((await latest_ids(session)).values()))


async def live(session: AsyncSession, shipped: Mapping[str, Program]) -> dict[str, Edition]:
    """The live version of every offer: the latest edition, else the shipped file; shipped order
    first, then offers that exist only as editions, by id."""
    editions = await latest(session)
    current = {pid: editions.get(pid) or Edition.shipped(program) for pid, program in shipped.items()}
    current.update({pid: editions[pid] for pid in sorted(editions) if pid not in current})
    return current


def shipped_editions(shipped: Mapping[str, Program]) -> dict[str, Edition]:
    """The live versions when nothing was ever imported (no database yet)."""
    return {pid: Edition.shipped(program) for pid, program in shipped.items()}


async def highest_versions(session: AsyncSession) -> dict[str, int]:
    """The highest version stored for each imported offer."""
    rows = await session.execute(
        select(OfferEdition.program_id, func.max(OfferEdition.version)).group_by(OfferEdition.program_id)
    )
    return {program_id: int(version) for program_id, version in rows.tuples()}


def plan(
    programs: Sequence[Program], current: Mapping[str, Edition], highest: Mapping[str, int], by: str, at: datetime
) -> list[Imported]:
    """What importing `programs` does against the live versions `current`: a new version for each
    offer whose content differs (the next after the highest stored), nothing for identical content."""
    current, highest = dict(current), dict(highest)
    results: list[Imported] = []
    for program in programs:
        previous = current.get(program.id)
        digest = digest_of(program)
        if previous is not None and previous.digest == digest:
            results.append(Imported(previous, previous, added=False))
            continue
        version = highest.get(program.id, SHIPPED) + 1
        edition = Edition(program, version, digest, by, at)
        highest[program.id], current[program.id] = version, edition
        results.append(Imported(edition, previous, added=True))
    return results


async def import_editions(
    session: AsyncSession, programs: Sequence[Program], shipped: Mapping[str, Program], by: str, at: datetime
) -> list[Imported]:
    """Add a version of each offer whose content differs from its live version, with an audit
    entry, in the caller's transaction (nothing committed here). The content counter is bumped
    first: concurrent imports run one after the other, and every process reloads the offers."""
    await repo.bump_content_version(session)
    results = plan(programs, await live(session, shipped), await highest_versions(session), by, at)
    for result in results:
        if not result.added:
            continue
        edition = result.edition
        session.add(
            OfferEdition(
                program_id=edition.program.id,
                version=edition.version,
                content=content_of(edition.program),
                digest=edition.digest,
                imported_by=by,
                imported_at=at,
            )
        )
        session.add(
            AuditEntry(
                at=at,
                actor_role=IMPORT_ROLE,
                action=IMPORT_ACTION,
                detail={"program": edition.program.id, "version": edition.version},
            )
        )
    await session.flush()
    return results
