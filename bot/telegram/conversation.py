"""One person's updates, applied in order and once: update -> engine event -> state + outbox.

Each update is stored in the inbox before it is acknowledged (webhook) or confirmed (polling).
Handling it locks the person's row, applies every pending update of that person in update_id
order, saves the engine's state, answers and verdicts, and queues the replies in the outbox, all
in one transaction; the replies are sent after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from dialogs.engine import Engine, Event
from dialogs.outputs import Output, Unanswered, VerdictCard
from dialogs.state import DialogState
from rules import N_, Message

from ..i18n import as_language, render
from ..render import Rendered, RenderedButton, render_output
from ..storage import repo
from ..storage.models import Person
from .payloads import merge_short, to_payloads

logger = logging.getLogger(__name__)

PRIVACY_COMMANDS = {"privacy", "mydata", "forget"}


@dataclass(frozen=True)
class Incoming:
    """What an update means for the bot, before it touches the engine."""

    kind: str  # start, text, button, command, privacy, forget_confirm, blocked, unblocked, ignore
    value: str = ""
    arg: str = ""
    language_code: str | None = None


def read_update(update: Update) -> Incoming:
    """Classify an update: a command, text, a button press, a block; anything else is ignored."""
    language = update.effective_user.language_code if update.effective_user else None
    if update.callback_query is not None:
        data = update.callback_query.data or ""
        if data.startswith("forget:"):
            return Incoming("forget_confirm", data.removeprefix("forget:"), language_code=language)
        return Incoming("button", data, language_code=language)
    if update.my_chat_member is not None:
        status = update.my_chat_member.new_chat_member.status
        return Incoming("blocked" if status in ("kicked", "left") else "unblocked")
    message = update.message
    if message is None:
        return Incoming("ignore")
    text = (message.text or "").strip()
    if text.startswith("/"):
        head, _, arg = text[1:].partition(" ")
        name = head.split("@", 1)[0].lower()
        if name == "start":
            return Incoming("start", language_code=language)
        if name in PRIVACY_COMMANDS:
            return Incoming("privacy", name, language_code=language)
        return Incoming("command", name, arg.strip(), language_code=language)
    return Incoming("text", text, language_code=language)


@dataclass
class Conversation:
    """Applies a person's pending updates; shared by polling and webhook modes."""

    engine: Engine
    default_language: str
    today: Callable[[], date]

    def initial_state(self, person: Person, incoming: Incoming) -> dict[str, Any]:
        """A new person's language: saved choice, else Telegram's language_code, else the default."""
        lang = person.language or as_language(incoming.language_code, self.default_language)  # type: ignore[arg-type]
        return DialogState(lang=lang).to_json()

    def event_for(self, incoming: Incoming) -> Event:
        today = self.today()
        if incoming.kind == "start":
            return Event.start(today)
        if incoming.kind == "button":
            return Event.press(incoming.value, today)
        if incoming.kind == "command":
            return Event.command(incoming.value, today, incoming.arg)
        return Event.text(incoming.value, today)

    async def apply(self, session: AsyncSession, person: Person, incoming: Incoming) -> list[dict[str, Any]]:
        """One update applied to the person's state; returns the payloads to send."""
        if incoming.kind == "ignore":
            return []
        if incoming.kind in ("blocked", "unblocked"):
            person.blocked = incoming.kind == "blocked"
            return []
        stored = await repo.load_state(session, person.id) or self.initial_state(person, incoming)
        lang = str(stored.get("lang", self.default_language))
        if incoming.kind == "privacy":
            return self._privacy(person, incoming.value, lang)
        if incoming.kind == "forget_confirm":
            return self._forget_answer(incoming.value, lang)
        state, outputs = self.engine.step(stored, self.event_for(incoming))
        if incoming.kind == "command" and incoming.value == "language":
            person.language = state.lang
        if state.consent is not None and person.consent_version != state.consent:
            person.consent_version, person.consent_at = state.consent, repo.now()
        verdicts = [
            (o.result.program.id, o.result.status.value, list(o.result.failing), list(o.result.missing_facts))
            for o in outputs
            if isinstance(o, VerdictCard)
        ]
        await repo.save_state(session, person.id, state.to_json(), verdicts)
        for output in outputs:
            if isinstance(output, Unanswered) and state.consent is not None:  # kept for staff only with consent
                await repo.record_unanswered(session, person.id, output.text, state.lang)
        return self._payloads(outputs, state.lang)

    def _payloads(self, outputs: list[Output], lang: str) -> list[dict[str, Any]]:
        shown = [r for r in (render_output(o, lang) for o in outputs) if r is not None]
        return [p for rendered in merge_short(shown) for p in to_payloads(rendered)]

    def _privacy(self, person: Person, command: str, lang: str) -> list[dict[str, Any]]:
        if command == "privacy":
            consent = N_("privacy.consent.given") if person.consent_version else N_("privacy.consent.none")
            text = "\n\n".join(
                (
                    render(Message(N_("privacy.notice"), {"days": self.engine.retention_days}), lang),
                    render(consent, lang),
                )
            )
            return to_payloads(Rendered(text))
        if command == "forget":
            buttons = (
                RenderedButton("forget:yes", render(N_("button.forget.confirm"), lang)),
                RenderedButton("forget:no", render(N_("button.forget.cancel"), lang)),
            )
            return to_payloads(Rendered(render(N_("forget.confirm"), lang), buttons=buttons))
        return [{"method": "mydata"}]  # built after the commit, from the database, never stored

    def _forget_answer(self, answer: str, lang: str) -> list[dict[str, Any]]:
        if answer == "yes":
            return [{"method": "forget", "lang": lang}]  # carried out by the caller, in this transaction
        return to_payloads(Rendered(render(N_("forget.cancelled"), lang)))
