"""No token, answer or personal value in any log line, over a whole dialog at the most verbose level."""

from __future__ import annotations

import io
import logging
import re

import pytest

from bot.telegram.logs import configure_logging

from ..telegram_emulator import TelegramEmulator
from .conftest import TOKEN, RunningBot, at_birth_date, make_config, press_and_read, say_and_read, years_ago

STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def test_a_full_dialog_logs_nothing_personal(database_url: str, emulator: TelegramEmulator) -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging(TOKEN, logging.DEBUG, stream)
    try:
        bot = RunningBot(make_config(database_url, emulator))
        await bot.start()
        born = years_ago(27)
        amina = emulator.user(7001, "Amina", language_code="fr")
        await at_birth_date(amina)
        await say_and_read(amina, born.strftime("%d/%m/%Y"))
        await press_and_read(amina, "Dernière année du baccalauréat")
        await say_and_read(amina, "1,25 an")
        await say_and_read(amina, "Quelle est l'allocation de Zorglub?")
        shown = await press_and_read(amina, "Oui")
        assert "Admissible" in shown
        await say_and_read(amina, "/mydata")
        await bot.stop()
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    # each line's own time stamp set aside: its milliseconds can spell "1,25" (",254")
    logged = "\n".join(STAMP.sub("", line) for line in stream.getvalue().splitlines())
    assert "bot ready" in logged and "DEBUG" in logged  # the capture did see the bot's logs
    for secret in (
        TOKEN,
        TOKEN.split(":")[1],
        born.isoformat(),
        born.strftime("%d/%m/%Y"),
        "1,25",
        "Zorglub",
        "26 novembre",
        "bachelor_final_year",
        "Amina",
    ):
        assert secret not in logged, secret
