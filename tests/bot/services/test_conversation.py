"""The conversation service as every channel uses it: inputs in, typed effects out, one database."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import ManualClock
from bot.config import Config
from bot.render import Rendered
from bot.services import ConversationService, Effect, Erased, Input, InputKind, PersonKey, Reply, SendDocument
from bot.storage import bulk, repo
from bot.storage.db import sessionmaker
from bot.storage.models import OutboxMessage, Person, Subscription, UnansweredQuestion

from ...conftest import BACKENDS

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
AMINA = PersonKey("telegram", "5550001")
TODAY = date(2021, 9, 15)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2021, 9, 15, 14, 30, tzinfo=UTC))


@pytest.fixture
def service(database: AsyncEngine, clock: ManualClock) -> ConversationService:
    return ConversationService.from_config(Config(), sessionmaker(database), database, clock=clock, today=TODAY)


def texts(effects: list[Effect]) -> str:
    joined = "\n".join(e.message.text for e in effects if isinstance(e, Reply))
    return joined.replace("\u00a0", " ").replace("\u202f", " ")


def button(effects: list[Effect], prefix: str) -> str:
    ids = [b.id for e in effects if isinstance(e, Reply) for b in e.message.buttons]
    return next(i for i in ids if i.startswith(prefix))


async def say(
    service: ConversationService, key: PersonKey, kind: InputKind, value: str = "", hint: str = "fr"
) -> list[Effect]:
    return await service.handle(Input(key, kind, value, language_hint=hint))


async def at_birth_date(service: ConversationService, key: PersonKey, hint: str = "fr") -> None:
    await say(service, key, InputKind.START, hint=hint)
    await say(service, key, InputKind.BUTTON, "programs:iom-internship-rabat", hint)
    await say(service, key, InputKind.BUTTON, "consent:yes", hint)


async def test_a_dialog_is_inputs_in_and_rendered_replies_out(service: ConversationService) -> None:
    effects = await say(service, AMINA, InputKind.START, hint="en-CA")
    assert all(isinstance(e, Reply) and isinstance(e.message, Rendered) for e in effects)
    assert "Which offer do you want to check?" in texts(effects)  # the channel's language hint, for a new person
    await say(service, AMINA, InputKind.BUTTON, "programs:iom-internship-rabat")
    effects = await say(service, AMINA, InputKind.BUTTON, "consent:yes")
    assert "What is your date of birth?" in texts(effects)
    effects = await say(service, AMINA, InputKind.TEXT, "1998-05-20", hint="fr")  # a saved language wins
    assert "Noted: May 20, 1998." in texts(effects)
    exported = await service.export(AMINA)
    assert exported is not None and exported["answers"] == {"birth_date": "1998-05-20"}


async def test_the_same_id_on_two_channels_is_two_people(service: ConversationService) -> None:
    await at_birth_date(service, AMINA)
    await say(service, AMINA, InputKind.TEXT, "1998-05-20")
    terminal = PersonKey("console", AMINA.external_id)
    effects = await say(service, terminal, InputKind.START)
    assert "Quelle offre voulez-vous vérifier?" in texts(effects) and "Rebonjour" not in texts(effects)
    assert (await service.export(terminal) or {})["answers"] == {}
    assert (await service.export(AMINA) or {})["answers"] == {"birth_date": "1998-05-20"}


async def test_times_come_from_the_clock(service: ConversationService, clock: ManualClock) -> None:
    await at_birth_date(service, AMINA)
    clock.advance(3600)
    await say(service, AMINA, InputKind.TEXT, "1998-05-20")
    async with service.sessions() as session:
        person = (await session.execute(select(Person).where(Person.external_id == AMINA.external_id))).scalar_one()
    assert person.last_seen_at == clock.now()
    assert person.consent_at == datetime(2021, 9, 15, 14, 30, tzinfo=UTC)


async def test_mydata_is_a_document_built_from_the_database(service: ConversationService) -> None:
    await at_birth_date(service, AMINA)
    await say(service, AMINA, InputKind.TEXT, "1998-05-20")
    effects = await say(service, AMINA, InputKind.COMMAND, "mydata")
    documents = [e for e in effects if isinstance(e, SendDocument)]
    assert len(documents) == 1 and documents[0].filename == "mydata.json"
    data = json.loads(documents[0].content)
    assert data["answers"] == {"birth_date": "1998-05-20"} and data["person"]["telegram_user_id"] == 5550001
    assert documents[0].caption == "Tout ce qui est conservé à votre sujet, en document JSON."


async def test_forget_needs_the_fresh_confirmation(service: ConversationService) -> None:
    await at_birth_date(service, AMINA)
    await say(service, AMINA, InputKind.TEXT, "1998-05-20")
    old_yes = button(await say(service, AMINA, InputKind.COMMAND, "forget"), "forget:yes:")
    new_yes = button(await say(service, AMINA, InputKind.COMMAND, "forget"), "forget:yes:")
    assert old_yes != new_yes
    for stale in (old_yes, "forget:yes", "forget:yes:" + "A" * 12, new_yes.replace("yes", "maybe")):
        effects = await say(service, AMINA, InputKind.BUTTON, stale)
        assert "n’est plus valide" in texts(effects), stale
    assert (await service.export(AMINA) or {})["answers"] == {"birth_date": "1998-05-20"}
    effects = await say(service, AMINA, InputKind.BUTTON, new_yes)
    assert [type(e) for e in effects] == [Erased] and "a été effacé" in effects[0].farewell.text  # type: ignore[union-attr]
    assert await service.export(AMINA) is None
    effects = await say(service, AMINA, InputKind.BUTTON, new_yes)  # replayed after the erasure
    assert "n’est plus valide" in texts(effects)
    assert await service.export(AMINA) is None  # answering it brought nobody back


async def test_questions_are_kept_for_staff_only_with_consent(service: ConversationService) -> None:
    kim = PersonKey("console", "kim")
    await say(service, kim, InputKind.START)
    await say(service, kim, InputKind.BUTTON, "programs:iom-internship-rabat")
    await say(service, kim, InputKind.BUTTON, "consent:no")
    await say(service, kim, InputKind.TEXT, "Est-ce que je peux amener mon chien?")
    await at_birth_date(service, AMINA)
    await say(service, AMINA, InputKind.TEXT, "Est-ce que je peux amener mon chien?")
    await say(service, AMINA, InputKind.TEXT, "Est-ce que le stage est payé?")  # answered: not a gap
    async with service.sessions() as session:
        kept = (await session.execute(select(UnansweredQuestion.text, UnansweredQuestion.person_id))).all()
        amina = await repo.find_person(session, AMINA.channel, AMINA.external_id)
    assert amina is not None and kept == [("Est-ce que je peux amener mon chien?", amina.id)]


async def test_the_language_command_is_remembered_for_a_new_dialog(service: ConversationService) -> None:
    await say(service, AMINA, InputKind.START, hint="fr")
    effects = await service.handle(Input(AMINA, InputKind.COMMAND, "language", "en"))
    assert "I’ll speak English from now on." in texts(effects)
    await say(service, AMINA, InputKind.COMMAND, "restart")
    assert await service.stored_language(AMINA) == "en"


async def test_after_a_privacy_command_the_dialog_goes_on_where_it_was(service: ConversationService) -> None:
    await at_birth_date(service, AMINA)
    effects = await say(service, AMINA, InputKind.COMMAND, "privacy")
    assert "180 jours" in texts(effects)
    assert texts(effects).rstrip().endswith("1998-03-15.")  # the birth date question, asked again
    effects = await say(service, AMINA, InputKind.BUTTON, "forget:yes:forged")
    assert "n’est plus valide" in texts(effects) and "Quelle est votre date de naissance?" in texts(effects)
    no = button(await say(service, AMINA, InputKind.COMMAND, "forget"), "forget:no:")
    effects = await say(service, AMINA, InputKind.BUTTON, no)
    assert "Rien n’a été effacé." in texts(effects) and "Quelle est votre date de naissance?" in texts(effects)


@pytest.mark.parametrize("command", ["mydata", "forget", "privacy"])
async def test_someone_unknown_asking_about_their_data_is_told_and_not_recorded(
    service: ConversationService, command: str
) -> None:
    stranger = PersonKey("telegram", "5550099")
    effects = await say(service, stranger, InputKind.COMMAND, command, hint="en")
    assert not any(isinstance(e, SendDocument) for e in effects)
    expected = "Privacy: I collect the answers you give me" if command == "privacy" else "Nothing is stored about you"
    assert expected in texts(effects)
    assert await service.export(stranger) is None


async def test_someone_who_blocks_the_bot_is_sent_nothing_more(
    service: ConversationService, database: AsyncEngine, clock: ManualClock
) -> None:
    """Telegram's `my_chat_member` (blocked) ends the person's subscriptions and cancels what was
    queued for them in bulk, as a 403 does: unblocking later does not bring reminders back."""
    await at_birth_date(service, AMINA)
    sessions = sessionmaker(database)
    async with sessions.begin() as session:
        person = await repo.find_person(session, AMINA.channel, AMINA.external_id)
        assert person is not None
        session.add(
            Subscription(
                person_id=person.id, program_id="quebec-psoig-2021-023", topic="deadline", created_at=clock.now()
            )
        )
        recipient = bulk.Recipient(person.id, 5550001, {"text": "Il reste 7 jours."})
        await bulk.queue(
            session,
            [recipient],
            message_key="reminder:quebec-psoig-2021-023:2021-10-10:7",
            kind="reminder",
            lane=bulk.Lane.REMINDER,
            at=clock.now(),
        )
    async with service.turn(AMINA) as turn:
        turn.mark_reachable(False)
    async with sessions() as session:
        assert (await session.execute(select(Subscription))).scalars().all() == []
        row = (await session.execute(select(OutboxMessage))).scalars().one()
        assert (row.status, row.error, row.payload) == ("cancelled", "blocked", {})
        person = await repo.find_person(session, AMINA.channel, AMINA.external_id)
        assert person is not None and person.blocked
