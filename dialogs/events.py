"""What a person does, as the engine takes it in: every channel turns its input into an `Event`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal


@dataclass(frozen=True)
class Event:
    """What the person did: started, typed, pressed a button (its stable id) or gave a command."""

    kind: Literal["start", "text", "button", "command"]
    today: date
    value: str = ""
    arg: str = ""

    @classmethod
    def start(cls, today: date) -> Event:
        return cls("start", today)

    @classmethod
    def text(cls, text: str, today: date) -> Event:
        return cls("text", today, text)

    @classmethod
    def press(cls, button_id: str, today: date) -> Event:
        return cls("button", today, button_id)

    @classmethod
    def command(cls, name: str, today: date, arg: str = "") -> Event:
        return cls("command", today, name, arg)
