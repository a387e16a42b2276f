"""Opting in and out of deadline reminders through the conversation service, as a person does:
after a verdict, with /reminders, with the buttons; forged and stale buttons change nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import ManualClock
from bot.config import Config
from bot.reminders.scheduler import ReminderScheduler
from bot.services import ConversationService, Effect, Erased, Input, InputKind, PersonKey, Reply, SendDocument
from bot.storage.db import sessionmaker
from bot.storage.models import OutboxMessage, Person, Subscription

from ...conftest import BACKENDS
from .offers import QUEBEC_ID, offers

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
AMINA = PersonKey("telegram", "5550001")
ON, OFF = f"remind:on:{QUEBEC_ID}", f"remind:off:{QUEBEC_ID}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 12, 1, 15, tzinfo=UTC))


@pytest.fixture
def service(database: AsyncEngine, clock: ManualClock) -> ConversationService:
    return ConversationService.from_config(Config(), sessionmaker(database), database, programs=offers(), clock=clock)


def texts(effects: list[Effect]) -> str:
    joined = "\n".join(f"{e.message.heading}\n{e.message.text}" for e in effects if isinstance(e, Reply))
    return joined.replace("\u00a0", " ").replace("\u202f", " ")


def buttons(effects: list[Effect]) -> list[str]:
    return [b.id for e in effects if isinstance(e, Reply) for b in e.message.buttons]


async def say(service: ConversationService, kind: InputKind, value: str = "", who: PersonKey = AMINA) -> list[Effect]:
    return await service.handle(Input(who, kind, value, language_hint="fr"))


async def verdict(service: ConversationService, who: PersonKey = AMINA, lang: str = "fr") -> list[Effect]:
    await service.handle(Input(who, InputKind.START, language_hint=lang))
    await service.handle(Input(who, InputKind.BUTTON, f"programs:{QUEBEC_ID}", language_hint=lang))
    await service.handle(Input(who, InputKind.BUTTON, "consent:yes", language_hint=lang))
    return await service.handle(Input(who, InputKind.TEXT, "1975-03-02", language_hint=lang))  # over 35: judged


async def subscriptions(service: ConversationService) -> list[tuple[str, str]]:
    async with service.sessions() as session:
        rows = await session.execute(select(Subscription.program_id, Subscription.topic))
        return [(p, t) for p, t in rows.all()]


async def people(service: ConversationService) -> int:
    async with service.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Person)) or 0)


async def test_a_verdict_offers_the_reminder_and_the_press_confirms_it(service: ConversationService) -> None:
    effects = await verdict(service)
    assert "Non admissible" in texts(effects)
    assert ON in buttons(effects)
    labels = [b.label for e in effects if isinstance(e, Reply) for b in e.message.buttons if b.id == ON]
    assert labels == ["🔔 Me rappeler la date limite — OIM Genève — offre PSOIG 2021-023"]
    shown = texts(await say(service, InputKind.BUTTON, ON))
    assert "vous recevrez un rappel 14, 7 et 1 jours avant le 15 janvier 2027" in shown
    assert await subscriptions(service) == [(QUEBEC_ID, "deadline")]
    shown = texts(await say(service, InputKind.BUTTON, ON))
    assert "déjà activés" in shown and await subscriptions(service) == [(QUEBEC_ID, "deadline")]
    again = await say(service, InputKind.COMMAND, "restart")
    assert ON not in buttons(again)


async def test_reminders_lists_the_offers_and_stops_them(service: ConversationService) -> None:
    await verdict(service)
    await say(service, InputKind.BUTTON, ON)
    effects = await say(service, InputKind.COMMAND, "reminders")
    shown = texts(effects)
    assert "OIM Genève — offre PSOIG 2021-023 — date limite le 15 janvier 2027 : rappels activés." in shown
    assert "OIM Rabat — lutte contre la traite — aucune date limite indiquée : rien à rappeler." in shown
    assert OFF in buttons(effects) and "remind:off:*" in buttons(effects)
    assert "vous ne recevrez plus" not in shown
    assert "plus aucun rappel" in texts(await say(service, InputKind.BUTTON, OFF))
    assert await subscriptions(service) == []
    assert "pas de rappel pour" in texts(await say(service, InputKind.BUTTON, OFF))
    effects = await say(service, InputKind.COMMAND, "reminders")
    assert "pas de rappel." in texts(effects) and ON in buttons(effects) and "remind:off:*" not in buttons(effects)
    await say(service, InputKind.BUTTON, ON)
    assert "ni de messages des organisateurs" in texts(await say(service, InputKind.BUTTON, "remind:off:*"))
    assert await subscriptions(service) == []


async def test_the_confirmation_counts_the_reminders_still_ahead_in_english(
    service: ConversationService, clock: ManualClock
) -> None:
    john = PersonKey("telegram", "5550002")
    await verdict(service, john, "en")
    clock.current = datetime(2027, 1, 10, tzinfo=UTC)
    shown = texts(await service.handle(Input(john, InputKind.BUTTON, ON, language_hint="en")))
    assert "you will get a reminder 1 day before January 15, 2027" in shown
    async with service.sessions() as session:
        language = await session.scalar(select(Person.language).where(Person.external_id == "5550002"))
    assert language == "en"  # the dialog's language, for reminders sent outside any turn


async def test_forged_closed_and_deadline_free_offers_change_nothing(
    service: ConversationService, clock: ManualClock
) -> None:
    await verdict(service)
    for forged in ("remind:on:unknown", "remind:on:", "remind:maybe:" + QUEBEC_ID, "remind:off:unknown"):
        shown = texts(await say(service, InputKind.BUTTON, forged))
        assert "n’existe pas ou n’est plus proposée" in shown, forged
    assert "n’indique pas de date limite" in texts(
        await say(service, InputKind.BUTTON, "remind:on:iom-internship-rabat")
    )
    clock.current = datetime(2027, 1, 16, 6, tzinfo=UTC)  # the day after the deadline, in Toronto
    assert "est passée" in texts(await say(service, InputKind.BUTTON, ON))
    assert await subscriptions(service) == []


async def test_strangers_pressing_reminder_buttons_leave_nothing_behind(service: ConversationService) -> None:
    stranger = PersonKey("telegram", "5550099")
    shown = texts(await say(service, InputKind.BUTTON, ON, stranger))
    assert "acceptez d’abord l’avis de confidentialité" in shown
    shown = texts(await say(service, InputKind.BUTTON, OFF, stranger))  # an old reminder's button after /forget
    assert "pas de rappel pour" in shown
    assert "aucun rappel actif" in texts(await say(service, InputKind.BUTTON, "remind:off:*", stranger))
    effects = await say(service, InputKind.COMMAND, "reminders", stranger)
    assert "acceptez d’abord" in texts(effects) and not [b for b in buttons(effects) if b.startswith("remind:")]
    assert await people(service) == 0 and await subscriptions(service) == []


async def test_mydata_lists_subscriptions_and_queued_reminders_and_forget_erases_them(
    service: ConversationService,
) -> None:
    await verdict(service)
    await say(service, InputKind.BUTTON, ON)
    jobs = ReminderScheduler(
        service.sessions, lambda: service.offers.programs, service.reminders, service.zone, service.clock
    )
    assert await jobs.run_once(datetime(2027, 1, 8, 15, tzinfo=UTC)) == 1
    effects = await say(service, InputKind.COMMAND, "mydata")
    document = json.loads(next(e for e in effects if isinstance(e, SendDocument)).content)
    assert [s["program"] for s in document["subscriptions"]] == [QUEBEC_ID]
    [row] = document["queued_messages"]
    assert row["kind"] == "reminder" and row["message_key"] == f"reminder:{QUEBEC_ID}:2027-01-15:7"
    assert row["not_before"] == "2027-01-08T15:00:00+00:00" and "text" not in row and "payload" not in row
    confirm = next(b for b in buttons(await say(service, InputKind.COMMAND, "forget")) if b.startswith("forget:yes:"))
    assert isinstance((await say(service, InputKind.BUTTON, confirm))[0], Erased)
    async with service.sessions() as session:
        outbox = await session.scalar(select(func.count()).select_from(OutboxMessage))
    assert await subscriptions(service) == [] and outbox == 0 and await people(service) == 0


async def _pending(service: ConversationService) -> list[str]:
    async with service.sessions() as session:
        rows = await session.execute(select(OutboxMessage.message_key).where(OutboxMessage.status == "pending"))
        return sorted(str(key) for key in rows.scalars())


async def _queue_broadcast(service: ConversationService) -> None:
    from bot.broadcasts import store
    from bot.broadcasts.audience import Audience, Kind
    from bot.faq.store import Author

    async with service.sessions.begin() as session:
        await store.create(
            session,
            "Bonjour",
            "Hello",
            Audience(Kind.SUBSCRIBERS),
            "cli",
            Author(None, "cli"),
            datetime(2027, 1, 8, 15, tzinfo=UTC),
            default_language="fr",
        )


async def test_stopping_an_offer_s_reminders_cancels_what_is_queued_and_the_last_one_everything(
    service: ConversationService, clock: ManualClock
) -> None:
    await verdict(service)
    await say(service, InputKind.BUTTON, ON)
    jobs = ReminderScheduler(
        service.sessions, lambda: service.offers.programs, service.reminders, service.zone, service.clock
    )
    assert await jobs.run_once(datetime(2027, 1, 8, 15, tzinfo=UTC)) == 1
    await _queue_broadcast(service)
    assert await _pending(service) == ["broadcast:1", f"reminder:{QUEBEC_ID}:2027-01-15:7"]
    async with service.sessions.begin() as session:  # another offer's subscription
        person = await session.scalar(select(Person.id))
        session.add(Subscription(person_id=person, program_id="other", topic="deadline", created_at=clock.now()))
    await say(service, InputKind.BUTTON, OFF)  # this offer's reminder only: still subscribed to another
    assert await _pending(service) == ["broadcast:1"]
    async with service.sessions.begin() as session:
        await session.execute(delete(Subscription).where(Subscription.program_id == "other"))
        await session.execute(update(OutboxMessage).where(OutboxMessage.status == "cancelled").values(status="pending"))
    await say(service, InputKind.BUTTON, OFF)  # no subscription left: the broadcast is not sent either
    assert await _pending(service) == []


async def test_stopping_everything_cancels_every_queued_bulk_message(service: ConversationService) -> None:
    await verdict(service)
    await say(service, InputKind.BUTTON, ON)
    await _queue_broadcast(service)
    assert await _pending(service) == ["broadcast:1"]
    await say(service, InputKind.BUTTON, "remind:off:*")
    assert await _pending(service) == []
    async with service.sessions() as session:
        cancelled = (await session.execute(select(OutboxMessage.status, OutboxMessage.error))).all()
    assert [tuple(row) for row in cancelled] == [("cancelled", "unsubscribed")]
