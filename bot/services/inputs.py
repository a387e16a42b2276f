"""What a person did, on any channel, in a form no channel owns."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..storage.repo import person_key


@dataclass(frozen=True)
class PersonKey:
    """A person as a channel knows them: `telegram`/`12345`, `console`/`amina`, `rasa`/<sender id>."""

    channel: str
    external_id: str

    def __str__(self) -> str:
        return person_key(self.channel, self.external_id)

    @classmethod
    def parse(cls, text: str) -> PersonKey:
        channel, _, external_id = text.partition(":")
        if not channel or not external_id:
            raise ValueError(f"not a person key: {text!r}")
        return cls(channel, external_id)


class InputKind(StrEnum):
    START = "start"  # the conversation (re)opens: /start, a new terminal session
    TEXT = "text"  # typed text
    BUTTON = "button"  # a button's stable id
    COMMAND = "command"  # /name with an optional argument, without the slash


@dataclass(frozen=True)
class Input:
    """One thing a person did. `language_hint` is what the channel says of their language (fr-CA)."""

    person: PersonKey
    kind: InputKind
    value: str = ""
    arg: str = ""
    language_hint: str | None = None
