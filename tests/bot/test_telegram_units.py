"""Telegram-side details: escaping, splitting, callback data, per-person ordering."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime

import pytest
from telegram import CallbackQuery, Chat, Message, MessageOriginUser, Update, User

from bot.render import Rendered, RenderedButton
from bot.services import Input, InputKind, PersonKey
from bot.telegram.payloads import TELEGRAM_LIMIT, keyboard, merge_short, split_text, to_payloads
from bot.telegram.processor import PerPersonUpdateProcessor
from bot.telegram.throttle import Bucket
from bot.telegram.updates import GroupPost, Ignored, read_stored, read_update, storage_key
from dialogs import prompts
from dialogs.questions import QUESTIONS
from dialogs.state import DialogState
from rules import load_programs


def test_text_from_data_is_escaped_for_html() -> None:
    payload = to_payloads(Rendered("a < b & c > d", heading="R&D <test>"))[0]
    assert payload["text"] == "<b>R&amp;D &lt;test&gt;</b>\na &lt; b &amp; c &gt; d"
    assert payload["parse_mode"] == "HTML"


def test_long_texts_are_split_under_telegram_s_limit_at_line_breaks() -> None:
    lines = [f"ligne {i} " + "é" * 90 for i in range(200)]
    pieces = split_text("\n".join(lines))
    assert len(pieces) > 1 and all(len(p) < TELEGRAM_LIMIT for p in pieces)
    assert "\n".join(pieces) == "\n".join(lines)  # nothing lost, cut between lines
    one_line = "mot " * 3000
    assert all(len(p) < TELEGRAM_LIMIT for p in split_text(one_line))
    payloads = to_payloads(Rendered("\n".join(lines), buttons=(RenderedButton("x:y", "Ok"),)))
    assert "reply_markup" in payloads[-1] and all("reply_markup" not in p for p in payloads[:-1])


def test_callback_data_is_refused_over_64_bytes() -> None:
    with pytest.raises(ValueError, match="callback data"):
        keyboard((RenderedButton("é" * 33, "Trop long"),))


def test_every_button_the_engine_can_show_fits_in_64_bytes() -> None:
    programs = load_programs()
    state = DialogState(answers={fact: "x" for fact in QUESTIONS})
    asks = [
        prompts.programs_prompt(programs, date(2021, 9, 15)),
        prompts.consent_prompt(180),
        prompts.confirm_prompt([date(1998, 4, 3), date(1998, 3, 4)]),
        prompts.review_prompt(state),
        prompts.done_prompt(list(programs.values())),
    ]
    ids = [b.id for ask in asks for b in ask.buttons]
    for fact in QUESTIONS:
        ids += [b.id for b in prompts.choice_buttons(fact) + prompts.rescue_buttons(fact)]
    assert len(ids) > 60
    for button_id in ids:
        assert 1 <= len(button_id.encode()) <= 64, button_id
    assert keyboard(tuple(RenderedButton(i, "label") for i in ids)) is not None


def test_short_sentences_join_the_next_message_but_verdicts_stay_alone() -> None:
    noted, question = Rendered("Noted: 15 March 1995."), Rendered("Which?", buttons=(RenderedButton("a:b", "B"),))
    card = Rendered("long verdict", heading="✅ Offer")
    merged = merge_short([noted, question, noted, card])
    assert [m.text for m in merged] == ["Noted: 15 March 1995.\n\nWhich?", "Noted: 15 March 1995.", "long verdict"]


def _update(update_id: int, user_id: int) -> Update:
    user = User(user_id, "P", is_bot=False)
    message = Message(update_id, date=None, chat=Chat(user_id, "private"), from_user=user, text="x")  # type: ignore[arg-type]
    return Update(update_id, message=message)


async def test_one_person_in_order_different_people_concurrently() -> None:
    processor = PerPersonUpdateProcessor(16)
    log: list[tuple[int, int, str]] = []
    release_first = asyncio.Event()

    async def handle(update_id: int, user_id: int) -> None:
        log.append((user_id, update_id, "start"))
        if update_id == 1:
            await release_first.wait()  # person 7's first update is slow...
        if update_id == 3:
            release_first.set()  # ...until person 8's update has run to its end
        log.append((user_id, update_id, "end"))

    together = asyncio.gather(
        processor.process_update(_update(1, 7), handle(1, 7)),
        processor.process_update(_update(2, 7), handle(2, 7)),
        processor.process_update(_update(3, 8), handle(3, 8)),
    )
    await asyncio.wait_for(together, 10)  # a guard: if person 8 waited for person 7, this would hang
    person7 = [(u, e) for p, u, e in log if p == 7]
    assert person7 == [(1, "start"), (1, "end"), (2, "start"), (2, "end")]
    assert log.index((8, 3, "end")) < log.index((7, 1, "end"))  # the other person did not wait


def _message(text: str, *, chat: Chat, user: User | None) -> Update:
    message = Message(1, date=None, chat=chat, from_user=user, text=text)  # type: ignore[arg-type]
    return Update(10, message=message)


AMINA = User(7001, "Amina", is_bot=False, language_code="fr-CA")


def test_a_private_message_is_an_input_of_its_sender() -> None:
    reading = read_update(_message("15 mars 1999", chat=Chat(7001, "private"), user=AMINA), "stage_bot")
    assert reading == Input(PersonKey("telegram", "7001"), InputKind.TEXT, "15 mars 1999", language_hint="fr-CA")
    assert storage_key(_message("x", chat=Chat(7001, "private"), user=AMINA))[0] == "telegram:7001"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/help", Input(PersonKey("telegram", "7001"), InputKind.COMMAND, "help", language_hint="fr-CA")),
        ("/HELP@Stage_Bot", Input(PersonKey("telegram", "7001"), InputKind.COMMAND, "help", language_hint="fr-CA")),
        ("/help@otherbot", Ignored()),
        ("/start@otherbot", Ignored()),
        ("/language en", Input(PersonKey("telegram", "7001"), InputKind.COMMAND, "language", "en", "fr-CA")),
        ("/start", Input(PersonKey("telegram", "7001"), InputKind.START, language_hint="fr-CA")),
    ],
)
def test_commands_addressed_to_another_bot_are_ignored(text: str, expected: object) -> None:
    assert read_update(_message(text, chat=Chat(7001, "private"), user=AMINA), "stage_bot") == expected


def test_a_forwarded_command_is_someone_else_s_words_not_a_command() -> None:
    origin = MessageOriginUser(datetime(2026, 1, 1, tzinfo=UTC), User(9003, "Omar", is_bot=False))
    message = Message(  # type: ignore[arg-type]
        1, date=None, chat=Chat(7001, "private"), from_user=AMINA, text="/grant 9003 admin", forward_origin=origin
    )
    reading = read_update(Update(12, message=message), "stage_bot")
    assert reading == Input(PersonKey("telegram", "7001"), InputKind.TEXT, "/grant 9003 admin", language_hint="fr-CA")


@pytest.mark.parametrize("kind", ["group", "supergroup", "channel"])
def test_nothing_said_in_a_group_is_kept_or_reaches_a_dialog(kind: str) -> None:
    update = _message("mon anniversaire: 1999-03-15", chat=Chat(-100123, kind), user=AMINA)
    key, stored = storage_key(update)
    assert key is None and "1999" not in json.dumps(stored)
    assert read_stored(stored, None, "stage_bot") == GroupPost(-100123, "fr-CA")
    anonymous = _message("/start", chat=Chat(-100123, kind), user=None)
    assert storage_key(anonymous)[0] is None


def test_a_press_belongs_to_the_presser_whatever_chat_its_message_claims() -> None:
    someone_else = Message(5, date=None, chat=Chat(7002, "private"), from_user=None, text="menu")  # type: ignore[arg-type]
    query = CallbackQuery("q1", AMINA, chat_instance="1", data="programs:iom-internship-rabat", message=someone_else)
    update = Update(11, callback_query=query)
    assert storage_key(update)[0] == "telegram:7001"
    reading = read_update(update, "stage_bot")
    assert reading == Input(
        PersonKey("telegram", "7001"), InputKind.BUTTON, "programs:iom-internship-rabat", "", "fr-CA"
    )
    in_a_group = Message(6, date=None, chat=Chat(-100123, "supergroup"), from_user=None, text="menu")  # type: ignore[arg-type]
    update = Update(12, callback_query=CallbackQuery("q2", AMINA, chat_instance="1", data="x:y", message=in_a_group))
    assert storage_key(update)[0] == "telegram:7001"


def test_a_send_paced_elsewhere_still_counts_for_the_chat_s_next_direct_send() -> None:
    bucket = Bucket(rate=1.0, capacity=3, tokens=3, updated=0.0)
    for _ in range(3):  # three queued replies, paced by the database
        bucket.charge(now=0.0)
    assert bucket.delay(now=0.0) == 1.0  # a direct send right after waits one second, not none
    assert bucket.delay(now=1.0) == 0.0
    for _ in range(10):
        bucket.charge(now=1.0)
    assert bucket.delay(now=1.0) == 4.0  # the debt is bounded by the burst


def test_a_press_without_a_presser_is_nobody_s() -> None:
    update = Update.de_json({"update_id": 13, "callback_query": {"id": "q3", "chat_instance": "1", "data": "x"}}, None)
    assert update is not None
    key, stored = storage_key(update)
    assert key is None and stored == {"update_id": 13}
    assert read_stored(stored, update, "stage_bot") == Ignored()
