"""The terminal chat: the conversation service on standard input and output.

The person is the terminal's user (channel `console`); their dialog is kept in the same database
as Telegram's, so quitting (Ctrl-D, /quit) and coming back resumes where they stopped, and
/privacy, /mydata and /forget work here too. Choices appear as numbered options (a number or the
label is accepted). Piped input is read line by line, so a conversation can be scripted; each
line read is echoed so the output reads as a transcript.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
from datetime import date
from pathlib import Path
from typing import TextIO

from dialogs.outputs import FAQ_STEP
from dialogs.parsing import normalize
from rules import N_, Message

from .config import Config
from .faq.telegram_html import to_plain
from .i18n import Lang, render
from .render import Rendered, RenderedButton
from .services import ConversationService, Effect, Erased, Input, InputKind, PersonKey, Reply, SendDocument
from .storage.db import sessionmaker
from .storage.migrate import open_migrated

CHANNEL = "console"
EXPORT_NAME = "mydata.json"  # /mydata writes the person's data here, in the current directory
QUIT = ("/quit", "/exit")


def terminal_user() -> PersonKey:
    """The person at this terminal: the operating system's user name."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no user name (a container without /etc/passwd entry)
        name = "local"
    return PersonKey(CHANNEL, name[:64] or "local")


def has_real_choices(buttons: tuple[RenderedButton, ...]) -> bool:
    """Whether buttons offer answers, not only "I don't know", "skip" and such (`<step>:?<action>`).

    On a date or number question the only buttons are such actions: they are shown without
    numbers and picked by their label, so that a number typed is the answer itself.
    """
    return any(not button.id.partition(":")[2].startswith("?") for button in buttons)


class ConsoleChat:
    """One person's conversation on a terminal."""

    def __init__(
        self, service: ConversationService, out: TextIO, *, person: PersonKey, lang: Lang, documents: Path
    ) -> None:
        self.service = service
        self.out = out
        self.person = person
        self.lang = lang
        self.documents = documents
        self.buttons: tuple[RenderedButton, ...] = ()

    def show(self, rendered: Rendered) -> None:
        if rendered.heading:
            self.out.write(f"\n{rendered.heading}\n")
        self.out.write((to_plain(rendered.text) if rendered.html else rendered.text) + "\n")
        # Numbers choose the pending question's options: "did you mean" topics (step `faq`), shown
        # just before that question, are typed by name (the FAQ reads them as a question).
        suggestions = rendered.step == FAQ_STEP
        numbered = has_real_choices(rendered.buttons) and not suggestions  # else a number is the answer itself
        for number, button in enumerate(rendered.buttons, 1):
            self.out.write(f"  {number}. {button.label}\n" if numbered else f"  – {button.label}\n")
        if (rendered.buttons or rendered.step) and not suggestions:  # a question's options replace the previous
            self.buttons = rendered.buttons
        self.out.flush()

    async def handle(self, kind: InputKind, value: str = "", arg: str = "") -> None:
        try:
            effects = await self.service.handle(Input(self.person, kind, value, arg, language_hint=self.lang))
        except Exception:  # the database busy or broken: a sentence, never a traceback with their answers
            self.show(Rendered(render(Message(N_("error.internal")), self.lang)))
            return
        for effect in effects:
            self.carry_out(effect)

    def carry_out(self, effect: Effect) -> None:
        if isinstance(effect, Reply):
            self.show(effect.message)
        elif isinstance(effect, Erased):
            self.buttons = ()
            self.remove_export()
            self.show(effect.farewell)
        elif isinstance(effect, SendDocument):
            path = self.documents / EXPORT_NAME
            path.write_bytes(effect.content)
            path.chmod(0o600)  # the person's data: readable by them only
            saved = render(Message(N_("console.document_saved"), {"path": str(path)}), self.lang)
            self.out.write(f"{effect.caption}\n{saved}\n")
            self.out.flush()
        else:
            raise TypeError(f"the terminal cannot carry out {type(effect).__name__}")

    def remove_export(self) -> None:
        """The data export this chat wrote for the person goes with the rest of their data."""
        path = self.documents / EXPORT_NAME
        try:
            person = json.loads(path.read_text(encoding="utf-8")).get("person") or {}
        except (OSError, ValueError, AttributeError):
            return  # no export, or not one of ours
        if person.get("channel") == self.person.channel and person.get("id_on_channel") == self.person.external_id:
            path.unlink(missing_ok=True)

    def input_for(self, line: str) -> tuple[InputKind, str, str]:
        """A typed line as an input: a command, a numbered option, a button label or text."""
        if line.startswith("/"):
            name, _, arg = line[1:].partition(" ")
            name = name.lower()
            return (InputKind.START, "", "") if name == "start" else (InputKind.COMMAND, name, arg.strip())
        if line.isascii() and line.isdigit() and has_real_choices(self.buttons) and 1 <= int(line) <= len(self.buttons):
            return InputKind.BUTTON, self.buttons[int(line) - 1].id, ""
        for button in self.buttons:
            if normalize(line) == normalize(button.label):
                return InputKind.BUTTON, button.id, ""
        return InputKind.TEXT, line, ""

    async def run(self, lines: TextIO, echo: bool) -> int:
        await self.handle(InputKind.START)
        while True:
            if not echo:
                self.out.write("> ")
                self.out.flush()
            try:
                line = lines.readline()
            except KeyboardInterrupt:
                line = ""
            if not line:
                break
            line = line.strip()
            if echo and line:
                self.out.write(f"> {line}\n")
            if not line:
                continue
            if line.lower() in QUIT:
                break
            await self.handle(*self.input_for(line))
        with contextlib.suppress(Exception):  # a goodbye even if the database is gone
            self.lang = await self.service.stored_language(self.person, self.lang)
        self.out.write(render(Message(N_("console.bye")), self.lang) + "\n")
        return 0


async def run_console(config: Config, lang: Lang, today: date | None, lines: TextIO, out: TextIO) -> int:
    """The terminal chat on the configured database (migrated first), until end of input or /quit.

    `today` pins the dialog's date (to try a past edition of an offer); stored times stay real.
    """
    database = await open_migrated(config.sqlalchemy_url(), config.database.busy_timeout_ms)
    try:
        service = ConversationService.from_config(config, sessionmaker(database), database, today=today)
        chat = ConsoleChat(service, out, person=terminal_user(), lang=lang, documents=Path.cwd())
        return await chat.run(lines, echo=not lines.isatty())
    finally:
        await database.dispose()


def start_console(config: Config, lang: Lang, today: date | None, lines: TextIO, out: TextIO) -> int:
    return asyncio.run(run_console(config, lang, today, lines, out))
