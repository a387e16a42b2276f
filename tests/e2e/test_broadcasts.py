"""Organizers broadcast from Telegram: write both texts, choose the audience with buttons, see the
count and the preview as people will see it, confirm; a progress message, then a report.
A running broadcast paused with its button sends nothing more until it is resumed. Someone without
the role, a replayed or a forged button changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.storage.models import AuditEntry, Broadcast, OutboxMessage, Person, Subscription, VerdictRow

from ..telegram_emulator import Fault, SimulatedUser, TelegramEmulator
from .conftest import RunningBot, eventually, forge_press, make_config, press_and_read, say_and_read, sent_texts, texts

ORGANIZER, STAFF = 9301, 9302
QC = "quebec-psoig-2021-023"
GENEVA = "OIM Genève — offre PSOIG 2021-023"
AT = datetime(2022, 3, 1, 15, tzinfo=UTC)
# (user id, language chosen, verdict for the Québec offer, subscribed)
PEOPLE = [
    (9401, "fr", "eligible", True),
    (9402, "en", "eligible", True),
    (9403, None, "not_eligible", True),
    (9404, "fr", "eligible", False),  # eligible, but never opted in: never written to
]


@pytest.fixture
async def bot(database_url: str, emulator: TelegramEmulator) -> AsyncIterator[RunningBot]:
    config = make_config(database_url, emulator, top={"organizers": [ORGANIZER], "staff": [STAFF]})
    running = RunningBot(config)
    await running.start()
    yield running
    await running.stop()


async def seed(bot: RunningBot, emulator: TelegramEmulator) -> dict[int, SimulatedUser]:
    users: dict[int, SimulatedUser] = {}
    await say_and_read(emulator.user(9599, "Probe", language_code="fr"), "/myid")  # the bot is up, its tables made
    async with bot.sessions().begin() as session:
        for user_id, lang, verdict, subscribed in PEOPLE:
            user = users[user_id] = emulator.user(user_id, f"P{user_id}", language_code=lang or "fr")
            emulator.state.private_chat(user.as_dict())
            person = Person(channel="telegram", external_id=str(user_id), language=lang, created_at=AT, last_seen_at=AT)
            session.add(person)
            await session.flush()
            session.add(VerdictRow(person_id=person.id, program_id=QC, status=verdict, failing={}, evaluated_at=AT))
            if subscribed:
                session.add(Subscription(person_id=person.id, program_id=QC, topic="deadline", created_at=AT))
    return users


async def replies(user: SimulatedUser, count: int) -> str:
    """The next `count` messages (a paused broadcast's rows wait in the outbox: the bot never looks idle)."""
    return "\n".join([(await user.next_reply(timeout=20)).text for _ in range(count)]).replace("\u00a0", " ")


async def broadcasts(bot: RunningBot) -> int:
    async with bot.sessions()() as session:
        return int(await session.scalar(select(func.count()).select_from(Broadcast)) or 0)


async def compose_to_eligible(organizer: SimulatedUser) -> str:
    """/broadcast, both texts, eligible people of the Québec offer in both languages: the preview."""
    assert "texte en français" in await say_and_read(organizer, "/broadcast")
    assert "anglais" in await say_and_read(organizer, "<b>Date limite</b> dans 7 jours.")
    assert "À qui" in await say_and_read(organizer, "<b>Deadline</b> in 7 days.")
    assert "quelle offre" in await press_and_read(organizer, "Admissibles")
    assert "langue" in await press_and_read(organizer, GENEVA)
    return await press_and_read(organizer, "Les deux langues")


def button_data(message: dict[str, object], label: str) -> str:
    markup = message.get("reply_markup")
    assert isinstance(markup, dict)
    return str(next(b["callback_data"] for row in markup["inline_keyboard"] for b in row if label in b["text"]))


async def test_an_organizer_composes_previews_confirms_and_gets_progress_then_a_report(
    bot: RunningBot, emulator: TelegramEmulator
) -> None:
    users = await seed(bot, emulator)
    organizer = emulator.user(ORGANIZER, "Odile", language_code="fr")
    assert "/broadcast" in await say_and_read(organizer, "/help")

    preview = await compose_to_eligible(organizer)
    assert "Destinataires : 2 personnes (1 en français, 1 en anglais)" in preview, preview
    assert "Envoyer ce message à 2 personnes ?" in preview, preview
    assert "Date limite dans 7 jours." in preview and "Deadline in 7 days." in preview
    shown = {m["text"]: str(m.get("reply_markup")) for m in emulator.chat_messages(ORGANIZER)}
    assert "Ne plus recevoir de messages" in shown["Date limite dans 7 jours."]  # as people will see it
    assert "Stop these messages" in shown["Deadline in 7 days."]
    assert await broadcasts(bot) == 0  # nothing before the organizer confirms

    # John's copy waits 4 s (Telegram asks it): the progress message shows 1 of 2 before the end
    emulator.inject("sendMessage", 9402, fault=Fault.too_many_requests(retry_after=4), times=1)
    created = await press_and_read(organizer, "📣 Envoyer")
    assert "Diffusion n° 1 en cours d’envoi à 2 personnes" in created, created
    async with bot.sessions()() as session:
        broadcast = (await session.execute(select(Broadcast))).scalar_one()
        assert (broadcast.total, broadcast.progress_chat_id, broadcast.origin) == (2, ORGANIZER, "telegram")
        actions = list((await session.execute(select(AuditEntry.action, AuditEntry.actor_role))).tuples())
        assert actions == [("broadcast.create", "organizer")]

    async def reported() -> bool:
        return any("terminée" in m.get("text", "") for m in emulator.chat_messages(ORGANIZER))

    await eventually(reported, "the final report in the organizer's chat")
    report = next(m["text"] for m in emulator.chat_messages(ORGANIZER) if "terminée" in m.get("text", ""))
    assert "2 envoyés sur 2, 0 bloqué (bot bloqué par la personne), 0 en échec, 0 annulé." in report, report
    progress = [m for m in emulator.chat_messages(ORGANIZER) if "📣 Diffusion n° 1" in m.get("text", "")]
    assert len(progress) == 1, progress  # one progress message, not one per step
    assert (
        progress[0]["text"].replace("\u00a0", " ")
        == "📣 Diffusion n° 1 : 2 traités sur 2 — 2 envoyés, 0 bloqué, 0 en échec."
    )
    assert progress[0].get("edit_date"), progress  # edited to its final state
    bold = [m for m in emulator.chat_messages(9401) if "Date limite" in m.get("text", "")]
    assert len(bold) == 1 and any(e["type"] == "bold" for e in bold[0].get("entities", []))
    assert [m["text"] for m in emulator.chat_messages(9402) if "Deadline" in m.get("text", "")] == [
        "Deadline in 7 days."
    ]
    assert emulator.chat_messages(9403) == [] and emulator.chat_messages(9404) == []  # not eligible; not opted in
    assert users  # every recipient's chat existed


async def test_bad_html_is_refused_with_the_reason_and_the_draft_is_kept(
    bot: RunningBot, emulator: TelegramEmulator
) -> None:
    organizer = emulator.user(ORGANIZER, "Odile", language_code="en")
    await say_and_read(organizer, "/broadcast")
    assert "English text" in await say_and_read(organizer, "Date limite dans 7 jours.")
    refused = await say_and_read(organizer, "<b>Deadline in 7 days.")
    assert "cannot be sent" in refused and "draft is kept" in refused, refused
    assert "Who should receive it" in await say_and_read(organizer, "Deadline in 7 days.")  # the French text kept
    assert await broadcasts(bot) == 0


async def test_someone_without_the_role_and_replayed_or_forged_buttons_change_nothing(
    bot: RunningBot, emulator: TelegramEmulator
) -> None:
    await seed(bot, emulator)
    organizer = emulator.user(ORGANIZER, "Odile", language_code="fr")
    staff = emulator.user(STAFF, "Sophie", language_code="fr")
    omar = emulator.user(9500, "Omar", language_code="fr")
    assert "réservée" in await say_and_read(omar, "/broadcast")
    assert "réservée" in await say_and_read(staff, "/broadcasts")  # staff is not an organizer

    await compose_to_eligible(organizer)
    confirm = next(m for m in reversed(emulator.chat_messages(ORGANIZER)) if m.get("reply_markup"))
    send = button_data(confirm, "Envoyer")
    omar_message = emulator.chat_messages(9500)[-1]
    forge_press(emulator, omar, send, omar_message)  # the organizer's real button, pressed by someone else
    assert "réservée" in await texts(omar)
    forge_press(emulator, organizer, send.replace(send.split(":")[1], "ffffff"), confirm)  # a forged nonce
    assert "n’est plus valide" in await texts(organizer)
    assert await broadcasts(bot) == 0

    await press_and_read(organizer, "📣 Envoyer")
    forge_press(emulator, organizer, send, confirm)  # replayed after use
    assert "n’est plus valide" in await texts(organizer)
    assert await broadcasts(bot) == 1


async def test_broadcasts_lists_them_and_a_paused_one_is_resumed_or_cancelled_with_checked_buttons(
    bot: RunningBot, emulator: TelegramEmulator
) -> None:
    from bot.broadcasts import store
    from bot.broadcasts.audience import parse
    from bot.faq.store import Author

    await seed(bot, emulator)
    organizer = emulator.user(ORGANIZER, "Odile", language_code="fr")
    staff = emulator.user(STAFF, "Sophie", language_code="fr")
    assert "Aucune diffusion" in await say_and_read(organizer, "/broadcasts")
    async with bot.sessions().begin() as session:  # paused at once: the sender leaves its rows waiting
        created = await store.create(
            session, "Bonjour", "Hello", parse("subscribers"), "cli", Author(None, "cli"), AT, default_language="fr"
        )
        await store.pause(session, created.id, Author(None, "cli"), AT)
    await organizer.send("/broadcasts")
    listed = await replies(organizer, 1)
    assert "n° 1 — suspendue — Personnes abonnées — Toutes les offres — Les deux langues" in listed, listed
    assert "0 envoyé sur 3, 0 bloqué, 0 en échec, 0 annulé" in listed, listed
    menu = next(m for m in reversed(emulator.chat_messages(ORGANIZER)) if m.get("reply_markup"))
    stop = button_data(menu, "Annuler n° 1")
    await staff.send("/myid")
    await replies(staff, 1)
    forge_press(emulator, staff, stop, emulator.chat_messages(STAFF)[-1])  # someone else presses it
    assert "Rien n’a été changé" in await replies(staff, 1)
    await organizer.press("⏹ Annuler n° 1")
    shown = await replies(organizer, 1)  # one message: short replies are merged
    assert "Diffusion n° 1 annulée" in shown and "n° 1 — annulée" in shown, shown
    forge_press(emulator, organizer, stop, menu)  # replayed
    assert "n’est plus valide" in await texts(organizer)
    async with bot.sessions()() as session:
        assert await session.scalar(select(Broadcast.status)) == "cancelled"
        bulk = select(OutboxMessage.status).where(OutboxMessage.broadcast_id.is_not(None))
        statuses = set((await session.execute(bulk)).scalars())
        actions = list((await session.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars())
    assert statuses == {"cancelled"}
    assert actions == ["broadcast.create", "broadcast.pause", "broadcast.cancel"]
    assert all(emulator.chat_messages(user_id) == [] for user_id, *_ in PEOPLE)  # nobody received it


async def test_a_paused_broadcast_from_the_command_line_is_resumed_sent_and_then_listed_as_done(
    bot: RunningBot, emulator: TelegramEmulator
) -> None:
    from bot.broadcasts import store
    from bot.broadcasts.audience import parse
    from bot.faq.store import Author

    await seed(bot, emulator)
    organizer = emulator.user(ORGANIZER, "Odile", language_code="fr")
    async with bot.sessions().begin() as session:  # no progress chat: it was sent from a terminal
        created = await store.create(
            session, "Bonjour", "Hello", parse("subscribers"), "cli", Author(None, "cli"), AT, default_language="fr"
        )
        await store.pause(session, created.id, Author(None, "cli"), AT)
    await organizer.send("/broadcasts")
    assert "n° 1 — suspendue" in await replies(organizer, 1)
    await organizer.press("▶️ Reprendre n° 1")
    shown = await replies(organizer, 1)
    assert "Diffusion n° 1 reprise." in shown and "n° 1 — en cours" in shown, shown

    async def received() -> bool:
        return all(emulator.chat_messages(user_id) for user_id, *_, subscribed in PEOPLE if subscribed)

    await eventually(received, "the resumed broadcast reaching every subscriber")
    assert emulator.chat_messages(9404) == []  # never opted in

    async def done() -> bool:
        async with bot.sessions()() as session:
            return await session.scalar(select(Broadcast.status)) == "done"

    await eventually(done, "the broadcast marked done without a progress chat")
    await organizer.send("/broadcasts")
    listed = await replies(organizer, 1)
    assert "n° 1 — terminée" in listed and "3 envoyés sur 3" in listed, listed
    assert not emulator.chat_messages(ORGANIZER)[-1].get("reply_markup")  # nothing left to pause or cancel


async def test_an_organizer_pauses_a_running_broadcast_and_resumes_it_with_the_buttons(
    database_url: str, emulator: TelegramEmulator
) -> None:
    from bot.broadcasts import store
    from bot.broadcasts.audience import parse
    from bot.faq.store import Author

    # a few more tries than by default: the rows Telegram fails keep the broadcast running for a minute
    config = make_config(database_url, emulator, top={"organizers": [ORGANIZER], "staff": [STAFF]}, bulk_attempts=8)
    bot = RunningBot(config)
    await bot.start()
    try:
        await seed(bot, emulator)
        organizer = emulator.user(ORGANIZER, "Odile", language_code="fr")
        staff = emulator.user(STAFF, "Sophie", language_code="fr")
        held = (9402, 9403)  # Telegram answers them 502 until the faults are cleared
        for chat in held:
            emulator.inject("sendMessage", chat, fault=Fault.server_error(502))
        everyone, cli = parse("subscribers"), Author(None, "cli")
        async with bot.sessions().begin() as session:
            created = await store.create(session, "Bonjour", "Hello", everyone, "cli", cli, AT, default_language="fr")

        async def first_reached() -> bool:  # and recorded: the organizer's count shows it
            async with bot.sessions()() as session:
                sent = select(func.count()).where(
                    OutboxMessage.status == "sent", OutboxMessage.broadcast_id.is_not(None)
                )
                return await session.scalar(sent) == 1

        await eventually(first_reached, "the broadcast reaching its first subscriber")
        await organizer.send("/broadcasts")
        listed = await replies(organizer, 1)
        assert "n° 1 — en cours" in listed and "1 envoyé sur 3" in listed, listed
        menu = next(m for m in reversed(emulator.chat_messages(ORGANIZER)) if m.get("reply_markup"))
        pause = button_data(menu, "Suspendre n° 1")
        await staff.send("/myid")
        await replies(staff, 1)
        forge_press(emulator, staff, pause, emulator.chat_messages(STAFF)[-1])  # someone else presses it
        assert "Rien n’a été changé" in await replies(staff, 1)
        async with bot.sessions()() as session:
            assert await session.scalar(select(Broadcast.status)) == "sending"

        await organizer.press("⏸ Suspendre n° 1")
        shown = await replies(organizer, 1)
        assert "Diffusion n° 1 suspendue" in shown and "n° 1 — suspendue" in shown, shown
        emulator.clear_faults()  # Telegram would take them now: only the pause holds them

        async def retry_due() -> bool:  # the moment the sender would have tried them again has passed
            async with bot.sessions()() as session:
                query = select(OutboxMessage.not_before).where(
                    OutboxMessage.broadcast_id == created.id, OutboxMessage.status == "pending"
                )
                due = list((await session.execute(query)).scalars())
            return len(due) == len(held) and max(due) <= datetime.now(UTC)

        await eventually(retry_due, "the held rows' next try due", timeout=60)
        async with bot.sessions().begin() as session:  # a later broadcast goes out; the paused one waits
            await store.create(session, "Rappel", "Reminder", everyone, "cli", cli, AT, default_language="fr")

        async def later_received() -> bool:
            return all({"Rappel", "Reminder"} & set(sent_texts(emulator, chat)) for chat in (9401, *held))

        await eventually(later_received, "the later broadcast reaching every subscriber")
        assert [sent_texts(emulator, chat) for chat in held] == [["Reminder"], ["Rappel"]]
        await organizer.send("/broadcasts")
        listed = await replies(organizer, 1)
        assert "n° 1 — suspendue" in listed and "1 envoyé sur 3" in listed, listed

        await organizer.press("▶️ Reprendre n° 1")
        assert "Diffusion n° 1 reprise." in await replies(organizer, 1)

        async def done() -> bool:
            async with bot.sessions()() as session:
                return await session.scalar(select(Broadcast.status).where(Broadcast.id == created.id)) == "done"

        await eventually(done, "the resumed broadcast finished")
        received = [sorted(sent_texts(emulator, chat)) for chat in (9401, *held)]
        assert received == [["Bonjour", "Rappel"], ["Hello", "Reminder"], ["Bonjour", "Rappel"]]  # each once
        await organizer.send("/broadcasts")
        listed = await replies(organizer, 1)
        assert "n° 1 — terminée" in listed and "3 envoyés sur 3" in listed, listed
    finally:
        await bot.stop()
