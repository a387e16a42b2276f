"""Telegram-side details: escaping, splitting, callback data, per-person ordering."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from telegram import Chat, Message, Update, User

from bot.render import Rendered, RenderedButton
from bot.telegram.payloads import TELEGRAM_LIMIT, keyboard, merge_short, split_text, to_payloads
from bot.telegram.processor import PerPersonUpdateProcessor
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

    async def handle(update_id: int, user_id: int, delay: float) -> None:
        log.append((user_id, update_id, "start"))
        await asyncio.sleep(delay)
        log.append((user_id, update_id, "end"))

    await asyncio.gather(
        processor.process_update(_update(1, 7), handle(1, 7, 0.05)),
        processor.process_update(_update(2, 7), handle(2, 7, 0.0)),
        processor.process_update(_update(3, 8), handle(3, 8, 0.0)),
    )
    person7 = [(u, e) for p, u, e in log if p == 7]
    assert person7 == [(1, "start"), (1, "end"), (2, "start"), (2, "end")]
    assert log.index((8, 3, "end")) < log.index((7, 1, "end"))  # the other person did not wait
