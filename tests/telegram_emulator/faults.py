"""Injected failures: what a faulted call answers, and which calls are faulted."""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from .errors import BOT_BLOCKED, seconds_value


@dataclass(frozen=True)
class Fault:
    """One failure. Except `slow`, a faulted call has no effect (nothing is stored or sent)."""

    kind: str
    status: int = 0
    description: str = ""
    parameters: dict[str, Any] | None = field(default=None, hash=False)
    delay: float = 0.0

    @classmethod
    def too_many_requests(cls, retry_after: float = 1) -> Fault:
        """429 with parameters.retry_after given verbatim (not scaled by time_scale)."""
        value = seconds_value(retry_after)
        return cls("too_many_requests", 429, f"Too Many Requests: retry after {value}", {"retry_after": value})

    @classmethod
    def blocked(cls) -> Fault:
        """403 as if the user had blocked the bot (the chat's state does not change)."""
        return cls("blocked", 403, f"Forbidden: {BOT_BLOCKED}")

    @classmethod
    def bad_request(cls, description: str) -> Fault:
        if not description.startswith("Bad Request:"):
            description = f"Bad Request: {description}"
        return cls("bad_request", 400, description)

    @classmethod
    def server_error(cls, status: int = 500, description: str | None = None) -> Fault:
        if not 500 <= status <= 599:
            raise ValueError("server_error needs a 5xx status")
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Server Error"
        return cls("server_error", status, description or phrase)

    @classmethod
    def error(cls, status: int, description: str, parameters: dict[str, Any] | None = None) -> Fault:
        """Any other error envelope."""
        return cls("error", status, description, parameters)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """The call takes effect at once but is answered only after `seconds` real seconds."""
        return cls("slow", delay=float(seconds))

    @classmethod
    def drop_connection(cls) -> Fault:
        """The connection is closed without an answer; the call has no effect."""
        return cls("drop_connection")

    def envelope(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = dict(self.parameters)
        return body


@dataclass
class Injection:
    """A registered fault. Matching calls are counted from registration; the fault fires on
    the `nth` matching call (default: the first) and on `times` calls from there (default:
    1 when nth is given, else every call until removed)."""

    fault: Fault
    method: str | None = None
    chat_id: int | None = None
    times: int | None = None
    nth: int | None = None
    seen: int = 0
    fired: int = 0
    removed: bool = False

    def matches(self, method: str, chat_id: int | None) -> bool:
        if self.removed:
            return False
        if self.method is not None and self.method.lower() != method.lower():
            return False
        return self.chat_id is None or self.chat_id == chat_id

    @property
    def exhausted(self) -> bool:
        limit = self.times if self.times is not None else (1 if self.nth is not None else None)
        return self.removed or (limit is not None and self.fired >= limit)

    def remove(self) -> None:
        self.removed = True


class FaultRegistry:
    def __init__(self) -> None:
        self.injections: list[Injection] = []

    def add(self, injection: Injection) -> Injection:
        if injection.times is not None and injection.times < 1:
            raise ValueError("times must be at least 1")
        if injection.nth is not None and injection.nth < 1:
            raise ValueError("nth must be at least 1")
        self.injections.append(injection)
        return injection

    def clear(self) -> None:
        for injection in self.injections:
            injection.remove()
        self.injections.clear()

    def take(self, method: str, chat_id: int | None) -> Fault | None:
        """The fault for this call, if any; counts the call for every matching injection."""
        chosen: Fault | None = None
        for injection in self.injections:
            if injection.exhausted or not injection.matches(method, chat_id):
                continue
            injection.seen += 1
            if chosen is None and injection.seen >= (injection.nth or 1):
                injection.fired += 1
                chosen = injection.fault
        self.injections = [i for i in self.injections if not i.exhausted]
        return chosen
