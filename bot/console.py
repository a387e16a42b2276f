"""The local console chat: the dialog engine on standard input and output.

Choices appear as numbered options (a number or the label is accepted); `/back`, `/restart`,
`/language`, `/help`, `/review`, `/skip` work as on Telegram. Piped input is read line by line,
so a conversation can be scripted; each line read is echoed so the output reads as a transcript.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from typing import TextIO

from dialogs.engine import Engine, Event
from dialogs.interrupts import InterruptHook
from dialogs.outputs import Output
from dialogs.parsing import normalize
from dialogs.state import DialogState
from rules import N_, Message, Program

from .i18n import gettext, render
from .render import Rendered, RenderedButton, render_output

QUIT = ("/quit", "/exit")


class ConsoleChat:
    """One person's conversation on a terminal."""

    def __init__(
        self,
        programs: dict[str, Program],
        lang: str,
        today: Callable[[], date],
        out: TextIO,
        interrupt: InterruptHook | None = None,
    ) -> None:
        self.engine = Engine(programs, translate=gettext, interrupt=interrupt)
        self.state = DialogState(lang=lang)
        self.today = today
        self.out = out
        self.buttons: tuple[RenderedButton, ...] = ()

    def show(self, rendered: Rendered) -> None:
        if rendered.heading:
            self.out.write(f"\n{rendered.heading}\n")
        self.out.write(rendered.text + "\n")
        for number, button in enumerate(rendered.buttons, 1):
            self.out.write(f"  {number}. {button.label}\n")
        if rendered.step:  # a question: its options (possibly none) replace the previous ones
            self.buttons = rendered.buttons
        self.out.flush()

    def handle(self, event: Event) -> None:
        self.state, outputs = self.engine.step(self.state, event)
        self._show_all(outputs)

    def _show_all(self, outputs: list[Output]) -> None:
        for output in outputs:
            rendered = render_output(output, self.state.lang)
            if rendered is not None:
                self.show(rendered)

    def event_for(self, line: str) -> Event:
        """A typed line as an engine event: a command, a numbered option, a button label or text."""
        today = self.today()
        if line.startswith("/"):
            name, _, arg = line[1:].partition(" ")
            name = name.lower()
            if name == "start":
                return Event.start(today)
            return Event.command(name, today, arg)
        if line.isdigit() and 1 <= int(line) <= len(self.buttons):
            return Event.press(self.buttons[int(line) - 1].id, today)
        for button in self.buttons:
            if normalize(line) == normalize(button.label):
                return Event.press(button.id, today)
        return Event.text(line, today)

    def run(self, lines: TextIO, echo: bool) -> int:
        self.handle(Event.start(self.today()))
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
            self.handle(self.event_for(line))
        self.out.write(render(Message(N_("console.bye")), self.state.lang) + "\n")
        return 0


def run_console(programs: dict[str, Program], lang: str, today: Callable[[], date]) -> int:
    chat = ConsoleChat(programs, lang, today, sys.stdout)
    return chat.run(sys.stdin, echo=not sys.stdin.isatty())
