"""The record of everything that crossed the emulator, and its readable dump."""

from __future__ import annotations

import json
from typing import Any

from .clock import EmulatorClock, Signal
from .models import TranscriptEntry

_MAX_VALUE = 120


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def _summary(response: Any) -> str:
    if not isinstance(response, dict):
        return ""
    if not response.get("ok", True):
        return f"{response.get('description')}"
    result = response.get("result")
    if isinstance(result, dict) and "message_id" in result:
        document = result.get("document")
        if isinstance(document, dict):
            name = document.get("file_name") or document.get("file_id")
            size = f"{document['file_size']} bytes" if "file_size" in document else "size unknown"
            return f"ok message_id={result['message_id']} document={name!r} ({size})"
        return f"ok message_id={result['message_id']}"
    if isinstance(result, list):
        return f"ok [{len(result)} item(s)]"
    return f"ok {_short(result)}"


class Transcript:
    """Every API call, created update and webhook delivery, in order."""

    def __init__(self, clock: EmulatorClock) -> None:
        self._clock = clock
        self.entries: list[TranscriptEntry] = []
        # Notified on every new entry (TelegramEmulator.wait_until waits on it).
        self.changed = Signal()

    def add(self, kind: str, **fields: Any) -> TranscriptEntry:
        entry = TranscriptEntry(at=round(self._clock.real(), 4), kind=kind, **fields)
        self.entries.append(entry)
        self.changed.notify()
        return entry

    def clear(self) -> None:
        self.entries.clear()

    @staticmethod
    def format(entry: TranscriptEntry) -> str:
        head = f"+{entry.at:8.3f}s {entry.kind:<8}"
        if entry.kind == "call":
            params = " ".join(f"{k}={_short(v)}" for k, v in entry.params.items())
            note = f" [{entry.note}]" if entry.note else ""
            outcome = "connection dropped" if entry.status is None else (f"{entry.status} {_summary(entry.response)}")
            return f"{head} {entry.method}({params}) -> {outcome}{note}"
        parts = [head]
        if entry.method:
            parts.append(entry.method)
        if entry.chat_id is not None:
            parts.append(f"chat={entry.chat_id}")
        if entry.note:
            parts.append(entry.note)
        return " ".join(parts)

    def text(self, last: int | None = None, chat_id: int | None = None) -> str:
        entries = [e for e in self.entries if chat_id is None or e.chat_id in (None, chat_id)]
        if last is not None:
            entries = entries[-last:]
        return "\n".join(self.format(e) for e in entries) or "(empty transcript)"
