"""Rasa Open Source's side of the action server protocol, as far as these actions need it.

`RasaCore` keeps a tracker (slots and events) and POSTs to `/webhook` the payloads Rasa sends
(`next_action`, `sender_id`, `tracker`, `domain`, `version`), applying the events returned. Its
form loop is Rasa 3's `FormAction` with a custom validation action: activation validates what is
already set, then the validation action's `requested_slot` is asked with `action_ask_<slot>`,
the person's text is the requested slot's candidate (the domain's `from_text` mapping), a
candidate the validation does not return is kept as it is, and the form ends when
`requested_slot` is null.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from bot.rasa.context import ActionContext
from bot.rasa.server import serve_actions

ROOT = Path(__file__).resolve().parents[2]
DOMAIN: dict[str, Any] = yaml.safe_load((ROOT / "docs/rasa/domain.yml").read_text(encoding="utf-8"))
FORM = "eligibility_form"
RASA_VERSION = "3.21.1"
MAX_TURNS = 40  # a form that asks more than this is looping: the test fails instead of hanging


@contextlib.asynccontextmanager
async def action_server(context: ActionContext) -> AsyncIterator[str]:
    """The real action server on 127.0.0.1 (a free port) in this event loop; yields its base URL."""
    stop = asyncio.Event()
    listening: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve_actions(context, "127.0.0.1", 0, stop, listening.set_result))
    done, _ = await asyncio.wait({task, listening}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # it failed to start: say why
    try:
        yield f"http://127.0.0.1:{listening.result()}"
    finally:
        stop.set()
        await task


@dataclass
class Said:
    """One message uttered by an action."""

    text: str
    buttons: list[dict[str, Any]] = field(default_factory=list)

    def payload(self, title: str) -> str:
        for button in self.buttons:
            if button["title"] == title:
                return str(button["payload"])
        raise AssertionError(f"no button {title!r} in {[b['title'] for b in self.buttons]}")


@dataclass
class Reply:
    status: int
    body: Any
    said: list[Said]

    @property
    def text(self) -> str:
        return "\n".join(s.text for s in self.said)


Answerer = Callable[[str, list[Said]], Awaitable[str] | str]


class RasaCore:
    """One conversation (`sender_id`) as Rasa drives it."""

    def __init__(self, http: aiohttp.ClientSession, url: str, sender: str = "person-1", **slots: Any) -> None:
        self.http = http
        self.url = url
        self.sender = sender
        self.slots: dict[str, Any] = {name: None for name in DOMAIN["slots"]} | {"requested_slot": None} | slots
        self.events: list[dict[str, Any]] = [{"event": "slot", "name": k, "value": v} for k, v in slots.items()]
        self.latest_message: dict[str, Any] = {}
        self.active_loop: dict[str, Any] = {}
        self.latest_action: str | None = None

    def tracker(self) -> dict[str, Any]:
        return {
            "sender_id": self.sender,
            "slots": dict(self.slots),
            "latest_message": self.latest_message,
            "events": list(self.events),
            "paused": False,
            "followup_action": None,
            "active_loop": self.active_loop,
            "latest_action_name": self.latest_action,
        }

    def user(self, text: str, intent: str | None = None, entities: list[dict[str, Any]] | None = None) -> None:
        parse = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities or []}
        self.latest_message = parse
        self.events.append({"event": "user", "text": text, "parse_data": parse})

    def set_slots(self, **values: Any) -> None:
        for name, value in values.items():
            self.slots[name] = value
            self.events.append({"event": "slot", "name": name, "value": value})

    async def post(self, payload: Any) -> Reply:
        async with self.http.post(f"{self.url}/webhook", json=payload) as response:
            body = await response.json(content_type=None)
        said = [Said(r.get("text") or "", r.get("buttons") or []) for r in (body or {}).get("responses", [])]
        return Reply(response.status, body, said)

    async def run(self, action: str) -> Reply:
        """Run one action on the current tracker and apply the events it returns."""
        payload = {
            "next_action": action,
            "sender_id": self.sender,
            "tracker": self.tracker(),
            "domain": DOMAIN,
            "version": RASA_VERSION,
        }
        reply = await self.post(payload)
        assert reply.status == 200, reply.body
        for event in reply.body.get("events", []):
            self.events.append(event)
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]
        self.events.append({"event": "action", "name": action})
        self.latest_action = action
        return reply

    async def validate(self, candidates: dict[str, Any]) -> Reply:
        """The form's validation of this turn's slot candidates: Rasa 3's `action_extract_slots` has
        set them (their events stay in the tracker); a candidate not returned is kept as it is."""
        self.set_slots(**candidates)
        reply = await self.run(f"validate_{FORM}")
        returned = {e["name"] for e in reply.body.get("events", []) if e.get("event") == "slot"}
        assert all(name in returned for name in candidates), "every candidate is validated"
        return reply

    async def form(self, answer: Answerer) -> list[Reply]:
        """Activate the form, answer each question with `answer(slot, messages)`, until it ends."""
        self.active_loop = {"name": FORM}
        self.events.append({"event": "active_loop", "name": FORM})
        # On activation Rasa validates the form's slots already set (by the assistant, or earlier)
        prefilled = {name: self.slots[name] for name in DOMAIN["forms"][FORM]["required_slots"] if self.slots[name]}
        replies = [await self.validate(prefilled)]
        for _ in range(MAX_TURNS):
            requested = self.slots.get("requested_slot")
            if requested is None:
                break
            asked = await self.run(f"action_ask_{requested}")
            replies.append(asked)
            text = answer(requested, asked.said)
            typed = await text if not isinstance(text, str) else text
            self.user(typed)
            replies.append(await self.validate({requested: typed}))
        else:
            raise AssertionError(f"the form asked more than {MAX_TURNS} questions")
        self.active_loop = {}
        self.events.append({"event": "active_loop", "name": None})
        return replies

    async def check(self) -> Reply:
        return await self.run("action_check_eligibility")
