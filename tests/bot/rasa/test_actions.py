"""The verdict and the FAQ through the real action server; what any tracker, however wrong, gets."""

from __future__ import annotations

import json
import logging
import zlib
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.faq import store
from bot.faq.store import Author
from bot.rasa.context import ActionContext
from bot.render import verdict_text
from rules import evaluate, parse_facts

from ...support.rasa import DOMAIN, RASA_VERSION, RasaCore, action_server
from .conftest import PROGRAMS, TODAY

QUEBEC = "quebec-psoig-2021-023"
RABAT = "iom-internship-rabat"
ELIGIBLE_FOR_BOTH = {
    "birth_date": "1998-05-20",
    "education": "master_in_progress",
    "relevant_experience_years": 1,
    "iom_interest": True,
    "citizenship": "canadian",
    "quebec_domicile": True,
    "quebec_resident_since": "2005-01-01",
    "french_writing": "excellent",
    "english_writing": "excellent",
    "prior_psoig_internship": False,
}


@pytest.mark.parametrize("lang", ["fr", "en"])
async def test_the_verdict_is_the_rules_and_is_said_as_the_chat_says_it(rasa: RasaCore, lang: str) -> None:
    answers = {**ELIGIBLE_FOR_BOTH, "birth_date": "1980-01-01"}  # too old for the Québec offer
    rasa.set_slots(language=lang, programs=[], **answers)
    reply = await rasa.check()
    facts = parse_facts(answers)
    results = {p.id: evaluate(facts, p, TODAY) for p in PROGRAMS.values()}
    assert rasa.slots["eligibility_results"] == {pid: r.status.value for pid, r in results.items()}
    assert rasa.slots["eligibility_results"][QUEBEC] == "not_eligible"
    for result, said in zip(results.values(), reply.said, strict=True):
        rendered = verdict_text(result, lang)
        assert said.text == f"{rendered.heading}\n{rendered.text}"


async def test_what_is_missing_is_named(rasa: RasaCore) -> None:
    rasa.set_slots(language="en", programs=[RABAT], birth_date="1998-05-20")
    reply = await rasa.check()
    assert rasa.slots["eligibility_results"] == {RABAT: "incomplete"}
    assert "To conclude, I still need: current studies, years of relevant work experience" in reply.text


async def test_unknown_offer_ids_are_named_and_the_known_ones_judged(rasa: RasaCore) -> None:
    rasa.set_slots(language="fr", programs=["nope", QUEBEC, "x" * 500], **ELIGIBLE_FOR_BOTH)
    reply = await rasa.check()
    assert rasa.slots["eligibility_results"] == {QUEBEC: "eligible"}
    assert "Je ne connais pas ces offres\u00a0: nope et " + "x" * 40 + "." in reply.text
    assert "x" * 41 not in reply.text
    assert QUEBEC in reply.said[0].text and RABAT in reply.said[0].text  # the known ids


@pytest.mark.parametrize(
    "slots",
    [
        {"birth_date": 42, "education": "banana", "relevant_experience_years": "abc", "iom_interest": "maybe"},
        {"birth_date": "2030-01-01"},  # in the future: the chat would refuse it
        {"birth_date": {"$gt": ""}, "citizenship": ["canadian"], "quebec_domicile": None},
        {"relevant_experience_years": float("1e308") * 10},  # not a finite number (JSON: a huge literal)
    ],
    ids=["mistyped", "implausible", "forged", "overflow"],
)
async def test_unreadable_slots_are_left_out_and_said(rasa: RasaCore, slots: dict[str, Any]) -> None:
    rasa.set_slots(language="en", programs=[RABAT], **slots)
    reply = await rasa.check()
    assert reply.status == 200
    assert rasa.slots["eligibility_results"] == {RABAT: "incomplete"}
    unreadable = [k for k, v in slots.items() if v is not None]
    assert "I could not read these answers, so they are left out:" in reply.text or not unreadable


@pytest.mark.parametrize(
    "slots",
    [
        {"language": "de", "programs": "quebec-psoig-2021-023"},
        {"language": 7, "programs": {"id": QUEBEC}},
        {"language": None, "programs": [None, 3, QUEBEC]},
        {"unknown_facts": "education", "requested_slot": "no_such_fact"},
    ],
)
async def test_mistyped_conversation_slots_never_fail(http: aiohttp.ClientSession, server: str, slots: Any) -> None:
    rasa = RasaCore(http, server, **slots)
    validated = await rasa.run("validate_eligibility_form")  # `RasaCore.run` asserts a 200
    assert [e["name"] for e in validated.body["events"]] == ["requested_slot"]
    for action in ("action_ask_birth_date", "action_check_eligibility", "action_answer_faq"):
        reply = await rasa.run(action)
        assert reply.said and all(said.text for said in reply.said), action


async def test_the_faq_answers_in_the_slot_language_and_sets_the_topic(rasa: RasaCore) -> None:
    rasa.set_slots(language="en")
    rasa.user("How much is the stipend?", intent="ask_faq")
    reply = await rasa.run("action_answer_faq")
    assert rasa.slots["faq_topic"] == "stipend"
    assert "$13,000.00" in reply.text


async def test_did_you_mean_buttons_send_the_topic_back(rasa: RasaCore) -> None:
    rasa.set_slots(language="fr", programs=[])
    rasa.user("stage?", intent="ask_faq")
    reply = await rasa.run("action_answer_faq")
    buttons = [b for said in reply.said for b in said.buttons]
    assert buttons and rasa.slots["faq_topic"] is None
    payload = buttons[0]["payload"]
    assert payload.startswith("/ask_faq{") and DOMAIN["intents"][1] == "ask_faq"
    topic = payload.split('"')[3]
    rasa.user(payload, intent="ask_faq", entities=[{"entity": "faq_topic", "value": topic}])
    answered = await rasa.run("action_answer_faq")
    assert rasa.slots["faq_topic"] == topic and answered.text


@pytest.mark.parametrize("topic", ["../../etc/passwd", "stipend_old", ["stipend"]])
async def test_a_topic_that_does_not_exist_is_said_to_be_gone(rasa: RasaCore, topic: Any) -> None:
    rasa.user('/ask_faq{"faq_topic": "x"}', intent="ask_faq", entities=[{"entity": "faq_topic", "value": topic}])
    reply = await rasa.run("action_answer_faq")
    assert rasa.slots["faq_topic"] is None
    assert reply.text == "Ce sujet n’existe plus; posez votre question autrement, s’il vous plaît."


async def test_bad_requests_get_an_http_error_without_the_body_echoed(
    http: aiohttp.ClientSession, server: str, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "1998-05-20 ma réponse secrète"
    tracker = {"sender_id": "p", "slots": {"birth_date": secret}, "events": []}
    version = {"version": RASA_VERSION}
    cases: list[tuple[Any, int]] = [
        ({"next_action": "action_nope", "tracker": tracker, "domain": DOMAIN}, 404),
        ({"next_action": "action_check_eligibility", "domain": {"slots": {"birth_date": secret}}}, 500),
        (
            {"next_action": "action_check_eligibility", "tracker": {"slots": {"birth_date": secret}}, "domain": DOMAIN},
            500,
        ),
        ({"next_action": "action_check_eligibility", "tracker": tracker}, 449),  # no domain yet
    ]
    with caplog.at_level(logging.DEBUG):
        for payload, status in cases:
            async with http.post(f"{server}/webhook", json=payload | version) as response:
                assert response.status == status
                assert secret not in await response.text()
        async with http.post(f"{server}/webhook", data=f"{{{secret}") as response:
            assert response.status == 400 and secret not in await response.text()
    assert secret not in caplog.text
    assert "ma réponse" not in caplog.text


async def test_no_answer_reaches_the_log(rasa: RasaCore, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        rasa.set_slots(**ELIGIBLE_FOR_BOTH)
        rasa.user("née le 3 avril 1997, j’habite rue Secrète")
        await rasa.validate({"birth_date": "née le 3 avril 1997, j’habite rue Secrète"})
        await rasa.check()
    assert "Secrète" not in caplog.text and "1998-05-20" not in caplog.text


async def test_staff_answers_are_live_without_a_restart(
    http: aiohttp.ClientSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    context = ActionContext.create(dict(PROGRAMS), sessions=sessions, pinned_today=TODAY, refresh_every=0)
    async with action_server(context) as url:
        rasa = RasaCore(http, url, language="fr", programs=[QUEBEC])
        rasa.user("Quelle est l’allocation?", intent="ask_faq")
        before = await rasa.run("action_answer_faq")
        assert "13\u00a0000,00" in before.text
        async with sessions.begin() as session:
            texts = ("Allocation révisée : voir le site du MRIF.", "Revised stipend: see the MRIF site.")
            await store.publish(session, "stipend", QUEBEC, texts, Author(None, "cli"), datetime.now(UTC))
        after = await rasa.run("action_answer_faq")
        assert "Allocation révisée" in after.text and rasa.slots["faq_topic"] == "stipend"


async def test_a_deflated_call_is_read_and_a_deflate_bomb_refused(http: aiohttp.ClientSession, server: str) -> None:
    call = {
        "next_action": "action_check_eligibility",
        "sender_id": "p",
        "version": RASA_VERSION,
        "domain": DOMAIN,
        "tracker": {"sender_id": "p", "slots": {"language": "en"}, "events": [], "latest_message": None},
    }
    deflated = {"Content-Encoding": "deflate", "Content-Type": "application/json"}
    async with http.post(f"{server}/webhook", data=zlib.compress(json.dumps(call).encode()), headers=deflated) as ok:
        assert ok.status == 200
        assert "eligibility_results" in await ok.text()
    bomb = zlib.compress(b'{"next_action": "' + b" " * (64 * 1024 * 1024) + b'"}', 9)
    async with http.post(f"{server}/webhook", data=bomb, headers=deflated) as refused:
        assert refused.status == 413
    async with http.get(f"{server}/health") as health:
        assert health.status == 200


async def test_an_unknown_action_is_refused_without_its_name_in_the_log(
    http: aiohttp.ClientSession, server: str, caplog: pytest.LogCaptureFixture
) -> None:
    call = {"next_action": "nope\nFORGED LINE", "tracker": {"sender_id": "p"}, "domain": DOMAIN}
    with caplog.at_level(logging.DEBUG):
        async with http.post(f"{server}/webhook", json=call) as response:
            assert response.status == 404
            assert "FORGED" not in await response.text()
    assert "FORGED" not in caplog.text


async def test_the_webhook_with_a_trailing_slash_is_screened_too(http: aiohttp.ClientSession, server: str) -> None:
    bomb = zlib.compress(b'{"next_action": "' + b" " * (64 * 1024 * 1024) + b'"}', 9)
    headers = {"Content-Encoding": "deflate", "Content-Type": "application/json"}
    async with http.post(f"{server}/webhook/", data=bomb, headers=headers) as refused:
        assert refused.status == 413
    async with http.post(f"{server}/webhook/", json={"next_action": "nope\\nFORGED"}) as unknown:
        assert unknown.status == 404 and "FORGED" not in await unknown.text()


@pytest.mark.parametrize(
    "tracker",
    [
        {"sender_id": "p", "slots": None, "events": None, "latest_message": "x"},
        {"sender_id": "p", "slots": {}, "events": [{}, 1, {"event": "slot"}, None]},
    ],
)
async def test_a_tracker_of_the_wrong_shape_gets_an_answer(
    http: aiohttp.ClientSession, server: str, tracker: dict[str, Any]
) -> None:
    for action in ("validate_eligibility_form", "action_check_eligibility", "action_answer_faq"):
        call = {"next_action": action, "tracker": tracker, "domain": DOMAIN, "version": RASA_VERSION}
        async with http.post(f"{server}/webhook", json=call) as response:
            assert response.status == 200, action
