"""docs/rasa/ is what an integrator copies: it must name exactly what the server registers."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import yaml

from bot.rasa import slots
from bot.rasa.actions import faq_payload
from bot.rasa.server import DEFAULT_PORT

from ...support.rasa import DOMAIN, FORM

DOCS = Path(__file__).resolve().parents[3] / "docs" / "rasa"
CONVERSATION_SLOTS = {
    slots.LANGUAGE,
    slots.PROGRAMS,
    slots.UNKNOWN_FACTS,
    slots.DATE_READINGS,
    slots.RESULTS,
    slots.FAQ_TOPIC,
}


async def test_the_domain_lists_exactly_the_actions_the_server_registers(
    http: aiohttp.ClientSession, server: str
) -> None:
    async with http.get(f"{server}/actions") as response:
        registered = [action["name"] for action in await response.json()]
    assert sorted(DOMAIN["actions"]) == sorted(registered)
    assert f"validate_{FORM}" in registered and {"action_check_eligibility", "action_answer_faq"} <= set(registered)


def test_the_domain_has_a_slot_for_every_fact_and_the_conversation() -> None:
    assert set(DOMAIN["slots"]) == set(slots.FACT_SLOTS) | CONVERSATION_SLOTS
    assert DOMAIN["forms"][FORM]["required_slots"] == list(slots.FACT_SLOTS)
    assert DOMAIN["slots"][slots.LANGUAGE]["values"] == ["fr", "en"]


def test_each_fact_is_filled_from_the_text_while_the_form_asks_it() -> None:
    for fact in slots.FACT_SLOTS:
        (mapping,) = DOMAIN["slots"][fact]["mappings"]
        assert mapping["type"] == "from_text", fact
        assert mapping["conditions"] == [{"active_loop": FORM, "requested_slot": fact}], fact


def test_did_you_mean_buttons_use_an_intent_and_entity_of_the_domain() -> None:
    assert slots.FAQ_INTENT in DOMAIN["intents"] and slots.FAQ_TOPIC in DOMAIN["entities"]
    assert faq_payload("stipend") == '/ask_faq{"faq_topic": "stipend"}'


def test_the_rules_name_only_what_the_domain_declares() -> None:
    rules = yaml.safe_load((DOCS / "data" / "rules.yml").read_text(encoding="utf-8"))["rules"]
    steps = [step for rule in rules for step in rule["steps"]]
    assert {s["intent"] for s in steps if "intent" in s} <= set(DOMAIN["intents"])
    assert {s["action"] for s in steps if "action" in s} <= set(DOMAIN["actions"]) | set(DOMAIN["forms"])


def test_the_endpoint_is_the_commands_default_port() -> None:
    endpoints = yaml.safe_load((DOCS / "endpoints.yml").read_text(encoding="utf-8"))
    url = urlsplit(endpoints["action_endpoint"]["url"])
    assert url.port == DEFAULT_PORT and url.path == "/webhook"
