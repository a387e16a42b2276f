"""The live offers: an edition imported elsewhere is what the next turn uses, on each database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.config import Config
from bot.offers import store
from bot.offers.catalog import OfferCatalog
from bot.offers.cli import read_offer_file
from bot.services import ConversationService, Effect, Input, InputKind, PersonKey, Reply
from bot.storage import repo
from bot.storage.db import sessionmaker
from rules import Program, load_programs

from ...conftest import BACKENDS
from .conftest import EDITION_2027, QUEBEC

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
AT = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
TODAY = date(2026, 12, 1)
LEA = PersonKey("telegram", "5550101")


async def publish(sessions: async_sessionmaker[AsyncSession], *programs: Program) -> None:
    """An organizer's import, as `offers import` does it (another process, for the service)."""
    async with sessions() as session:
        await store.import_editions(session, list(programs), load_programs(), "Nadia", AT)
        await session.commit()


def texts(effects: list[Effect]) -> str:
    """What the person reads: each message's text and its buttons' labels."""
    shown = [part for e in effects if isinstance(e, Reply) for part in (e.message.text, *_labels(e))]
    joined = "\n".join(shown)
    return joined.replace("\u00a0", " ").replace("\u202f", " ")


def _labels(reply: Reply) -> list[str]:
    return [button.label for button in reply.message.buttons]


async def test_the_catalog_reloads_only_when_something_was_imported(database: AsyncEngine) -> None:
    sessions = sessionmaker(database)
    catalog = OfferCatalog(load_programs())
    async with sessions() as session:
        assert not await catalog.refresh(session)  # nothing imported: the shipped files stay
        assert catalog.programs[QUEBEC].deadline_date == date(2021, 10, 10)
    await publish(sessions, read_offer_file(EDITION_2027))
    async with sessions() as session:
        assert await catalog.refresh(session)
        assert not await catalog.refresh(session)
    assert catalog.programs[QUEBEC].deadline_date == date(2027, 1, 15)
    assert list(catalog.programs) == ["iom-internship-rabat", QUEBEC]
    async with sessions() as session:  # another staff change (an FAQ answer): the offers are the same
        await repo.bump_content_version(session)
        await session.commit()
    async with sessions() as session:
        assert not await catalog.refresh(session)
    assert catalog.editions[QUEBEC].version == 1 and catalog.editions[QUEBEC].imported_by == "Nadia"


async def test_a_running_service_answers_with_the_new_edition_without_restart(database: AsyncEngine) -> None:
    sessions = sessionmaker(database)
    clock = ManualClock(datetime(2026, 12, 1, 14, tzinfo=UTC))
    service = ConversationService.from_config(Config(), sessions, database, clock=clock, today=TODAY)

    async def say(kind: InputKind, value: str = "") -> str:
        return texts(await service.handle(Input(LEA, kind, value, language_hint="fr")))

    shown = await say(InputKind.START)
    assert "OIM Genève — offre PSOIG 2021-023 (fermée, date limite : 10 octobre 2021)" in shown, shown
    assert "10 octobre 2021" in await say(InputKind.TEXT, "c'est quand la date limite?")
    await publish(sessions, read_offer_file(EDITION_2027))
    shown = await say(InputKind.TEXT, "c'est quand la date limite?")
    assert "15 janvier 2027" in shown and "10 octobre 2021" not in shown, shown
    assert "OIM Genève — offre PSOIG 2021-023 (ouverte)" in await say(InputKind.START)
    # the verdict counts the age at the new start date (3 May 2027): the engine has the edition too
    assert service.engine.programs[QUEBEC].start_date == date(2027, 5, 3)
    assert service.faq.programs is service.offers.programs
