"""The table of emulated Bot API methods (looked up case-insensitively, like Telegram)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .params import Params

if TYPE_CHECKING:
    from .emulator import TelegramEmulator

Handler = Callable[["TelegramEmulator", Params], Awaitable[Any]]


@dataclass(frozen=True)
class MethodSpec:
    name: str
    handler: Handler


@dataclass(frozen=True)
class Described:
    """A result that Telegram accompanies with a description (setWebhook, deleteWebhook)."""

    result: Any
    description: str


METHODS: dict[str, MethodSpec] = {}


def api_method(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        METHODS[name.lower()] = MethodSpec(name, handler)
        return handler

    return register


def lookup(name: str) -> MethodSpec | None:
    return METHODS.get(name.lower())
