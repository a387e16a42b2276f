"""Every persona of the rules' cases gets the same status per offer on every channel.

The rules module (`rules.evaluate`), the terminal chat (`ConsoleChat` in process), the Telegram
bot (python-telegram-bot against the Bot API emulator) and the Rasa action server (the form,
then `action_check_eligibility`) are each given the persona's answers the way a person gives
them: the offer and the privacy notice accepted, then each question asked answered by a button
for a closed choice, a date or a number typed in the person's language, and "I don't know" for
a fact the persona lacks. Every channel must reach the status the case file expects.

Where each status is read: the terminal chat's from the verdict the service stored
(`ConversationService.export`), checked against the heading it printed; Telegram's from the
verdict message the person received (its heading's icon); Rasa's from `eligibility_results`.

The bot's clock starts at noon UTC of each group's day (the same day in America/Toronto) and
moves at the real pace, so that Telegram's per-chat pacing works; groups run in date order.
"""

from __future__ import annotations

import asyncio
import io
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time
from pathlib import Path

import aiohttp
import pytest

from bot.console import ConsoleChat
from bot.i18n import gettext
from bot.rasa.context import ActionContext
from bot.render import STATUS_ICONS
from bot.services import ConversationService, InputKind, PersonKey
from bot.storage.db import sessionmaker
from bot.storage.migrate import open_migrated
from dialogs.answers import parse_answer
from dialogs.parsing import DontKnow, Parsed
from dialogs.questions import QUESTIONS
from dialogs.questions import InputKind as Kind
from rules import load_programs

from ..support.personas import Persona, by_day, personas
from ..support.rasa import RasaCore, Said, action_server
from ..telegram_emulator import SimulatedUser, TelegramEmulator
from .conftest import RunningBot, ShiftedClock, make_config

PROGRAMS = load_programs()
PERSONAS = personas()
CHANNELS = ("rules", "console", "telegram", "rasa")
MAX_TURNS = 40  # a dialog longer than this is looping: the channel's status becomes the error
CONCURRENT_CHATS = 8
REPLY_TIMEOUT = 30.0  # seconds for one bot message; generous for a loaded 2-core machine
CHAT_IDS = 70_000  # + persona index: one Telegram chat per persona


def headings(persona: Persona) -> dict[str, str]:
    """The first line of a verdict message for the persona's offer, in their language: its status."""
    title = PROGRAMS[persona.program].title.localized().in_language(persona.lang)
    return {f"{icon} {title}": status.value for status, icon in STATUS_ICONS.items()}


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


async def status_or_error(run: Awaitable[str]) -> str:
    """A channel's status, or what went wrong on it (so every disagreement is listed at the end)."""
    try:
        return await run
    except Exception as error:
        traceback.print_exc()
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return f"error: {type(error).__name__}: {first[:120]}"


# --- the terminal chat ---------------------------------------------------------------------------


def console_line(persona: Persona, chat: ConsoleChat) -> str:
    """What the person types for the pending question: an option's number or label, or the text."""
    step = chat.buttons[0].id.partition(":")[0] if chat.buttons else ""
    if step == "programs":
        wanted = f"programs:{persona.program}"
    elif step == "consent":
        wanted = "consent:yes"
    elif step in QUESTIONS:
        if persona.knows(step) and QUESTIONS[step].kind in (Kind.DATE, Kind.NUMBER):
            return persona.typed(step)
        wanted = persona.button_id(step)
    else:
        raise AssertionError(f"unexpected step {step!r}; buttons {[b.id for b in chat.buttons]}")
    [(number, button)] = [(n, b) for n, b in enumerate(chat.buttons, 1) if b.id == wanted]
    numbered = not wanted.partition(":")[2].startswith("?")  # "I don't know" is picked by its label
    by_number = persona.in_words(step) if step in QUESTIONS else persona.index // 2 % 2 == 0
    return str(number) if numbered and by_number else button.label


async def console_status(service: ConversationService, persona: Persona, documents: Path) -> str:
    out = io.StringIO()
    key = PersonKey("console", f"persona-{persona.index}")
    chat = ConsoleChat(service, out, person=key, lang=persona.lang, documents=documents)
    shown = headings(persona)
    await chat.handle(InputKind.START)
    for _ in range(MAX_TURNS):
        seen = [shown[line] for line in out.getvalue().splitlines() if line in shown]
        if seen:
            break
        line = console_line(persona, chat)
        out.write(f"> {line}\n")
        await chat.handle(*chat.input_for(line))
    else:
        raise AssertionError(f"no verdict after {MAX_TURNS} lines:\n{out.getvalue()[-2000:]}")
    exported = await service.export(key)
    assert exported is not None, "nothing stored"
    stored = str(exported["verdicts"][persona.program]["status"])
    if seen != [stored]:
        return f"stored {stored}, shown {seen}"
    return stored


# --- Telegram -------------------------------------------------------------------------------------


async def telegram_prompt(user: SimulatedUser, shown: dict[str, str]) -> tuple[str | None, list[str]]:
    """The next message that asks something (its buttons' data) or gives the verdict (its status)."""
    while True:
        reply = await user.next_reply(timeout=REPLY_TIMEOUT)
        first = reply.text.partition("\n")[0]
        if first in shown:
            return shown[first], []
        rows = (reply.reply_markup or {}).get("inline_keyboard") or []
        data = [str(b["callback_data"]) for row in rows for b in row if "callback_data" in b]
        if data:
            return None, data


async def telegram_status(emulator: TelegramEmulator, persona: Persona) -> str:
    language = "fr-CA" if persona.lang == "fr" else "en"
    user = emulator.user(CHAT_IDS + persona.index, f"Persona{persona.index}", language_code=language)
    shown = headings(persona)
    await user.send("/start")
    for _ in range(MAX_TURNS):
        status, data = await telegram_prompt(user, shown)
        if status is not None:
            return status
        step = data[0].partition(":")[0]
        if step == "programs":
            await user.press(f"data:programs:{persona.program}")
        elif step == "consent":
            await user.press("data:consent:yes")
        elif step in QUESTIONS:
            if persona.knows(step) and QUESTIONS[step].kind in (Kind.DATE, Kind.NUMBER):
                await user.send(persona.typed(step))
            else:
                await user.press(f"data:{persona.button_id(step)}")
        else:
            raise AssertionError(f"unexpected step {step!r}; buttons {data}")
    raise AssertionError(f"no verdict after {MAX_TURNS} turns")


# --- Rasa -----------------------------------------------------------------------------------------


def rasa_answer(persona: Persona) -> Callable[[str, list[Said]], str]:
    def answer(slot: str, said: list[Said]) -> str:
        buttons = [str(b["payload"]) for b in said[-1].buttons]
        read = [parse_answer(slot, b, today=persona.today, facts={}, translate=gettext) for b in buttons]
        assert read and isinstance(read[-1], DontKnow), f"the last button of {slot} is not I don't know: {buttons}"
        if not persona.knows(slot):
            return buttons[-1]
        if QUESTIONS[slot].kind in (Kind.DATE, Kind.NUMBER):
            return persona.typed(slot)
        [chosen] = [b for b, r in zip(buttons, read, strict=True) if r == Parsed(persona.value(slot))]
        return chosen

    return answer


async def rasa_status(http: aiohttp.ClientSession, url: str, persona: Persona) -> str:
    core = RasaCore(http, url, sender=f"persona-{persona.index}", language=persona.lang, programs=[persona.program])
    await core.form(rasa_answer(persona))
    reply = await core.check()
    said = [shown for s in reply.said if (shown := headings(persona).get(s.text.partition("\n")[0]))]
    results = core.slots["eligibility_results"]
    assert said == [results[persona.program]], f"said {said}, slot {results}"
    return str(results[persona.program])


# --- the test -------------------------------------------------------------------------------------


def disagreements(statuses: dict[int, dict[str, str]]) -> list[str]:
    """A table of the personas whose channels do not all give the expected status."""
    rows = []
    for persona in PERSONAS:
        got = statuses[persona.index]
        if any(got.get(channel) != persona.expected for channel in CHANNELS):
            rows.append(
                [
                    f"#{persona.index} {persona.lang} {persona.name}",
                    persona.expected,
                    *(got.get(c, "-") for c in CHANNELS),
                ]
            )
    if not rows:
        return []
    header = ["persona", "expected", *CHANNELS]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    return [" | ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)) for row in [header, *rows]]


@pytest.mark.slow
async def test_every_persona_gets_the_same_status_on_every_channel(
    database_url: str, emulator: TelegramEmulator, tmp_path: Path
) -> None:
    assert len(PERSONAS) >= 50 and {p.lang for p in PERSONAS} == {"fr", "en"}
    statuses: dict[int, dict[str, str]] = {p.index: {"rules": p.rules_status()} for p in PERSONAS}
    groups = by_day(PERSONAS)

    console_config = make_config(f"sqlite+aiosqlite:///{tmp_path}/console.sqlite3", emulator)
    console_db = await open_migrated(console_config.sqlalchemy_url(), console_config.database.busy_timeout_ms)
    documents = tmp_path / "documents"
    documents.mkdir()
    context = ActionContext.create(load_programs(), pinned_today=groups[0][0])
    clock = ShiftedClock(noon(groups[0][0]))
    bot = RunningBot(make_config(database_url, emulator), clock)
    chats = asyncio.Semaphore(CONCURRENT_CHATS)

    async def on_telegram(persona: Persona) -> None:
        async with chats:
            statuses[persona.index]["telegram"] = await status_or_error(telegram_status(emulator, persona))

    await bot.start()
    try:
        async with aiohttp.ClientSession() as http, action_server(context) as url:

            async def on_console_and_rasa(day: date, group: list[Persona]) -> None:
                service = ConversationService.from_config(
                    console_config, sessionmaker(console_db), console_db, today=day
                )
                for persona in group:
                    got = statuses[persona.index]
                    got["console"] = await status_or_error(console_status(service, persona, documents))
                    got["rasa"] = await status_or_error(rasa_status(http, url, persona))

            for day, group in groups:
                clock.jump(noon(day))
                context.pinned_today = day
                await asyncio.gather(on_console_and_rasa(day, group), *(on_telegram(p) for p in group))
    finally:
        await bot.stop()
        await console_db.dispose()

    table = disagreements(statuses)
    if table:
        pytest.fail("channels disagree (mismatches only):\n" + "\n".join(table), pytrace=False)
