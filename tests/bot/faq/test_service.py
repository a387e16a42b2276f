"""The FAQ service: which offer answers, staff text over the built-in answer, live in every
process at its next message, and answers to the pending question never taken for questions."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.faq import store
from bot.faq.service import FaqService
from dialogs.outputs import FaqAnswer, Say, Suggestions, Unanswered
from rules import load_programs

from ...conftest import BACKENDS

PROGRAMS = load_programs()
QUEBEC, RABAT = "quebec-psoig-2021-023", "iom-internship-rabat"
TODAY = date(2021, 9, 15)
AT = datetime(2021, 9, 15, 12, tzinfo=UTC)
STAFF = store.Author(None, "staff")
LOOK_EVERY = 0.05  # seconds between two looks at a condition nothing announces (a lock wait)


@pytest.fixture(scope="module")
def faq() -> FaqService:
    return FaqService.create(PROGRAMS)


def html_of(outputs: list[object] | None) -> str:
    assert outputs, "no answer"
    text = "\n".join(block.html for o in outputs if isinstance(o, FaqAnswer) for block in o.blocks)
    return text.replace("\u00a0", " ").replace("\u202f", " ")  # Babel's no-break spaces, as read


@pytest.mark.parametrize(
    ("text", "pending"),
    [
        ("oui", "iom_interest"),
        ("non", "quebec_domicile"),
        ("15 mars 1998", "birth_date"),
        ("1998-03-15", "birth_date"),
        ("2", "relevant_experience_years"),
        ("deux ans et demi", "relevant_experience_years"),
        ("maîtrise en cours", "education"),
        ("canadienne", "citizenship"),
        ("excellent", "french_writing"),
        ("yes", "spanish"),
    ],
)
def test_answers_to_the_pending_question_are_never_taken_for_faq_questions(
    faq: FaqService, text: str, pending: str
) -> None:
    assert faq.answer(text, "fr", [QUEBEC], TODAY, pending=pending, sure_only=True) is None


def test_the_chosen_offer_answers_and_without_one_each_offer_has_its_block(faq: FaqService) -> None:
    one = faq.topic("stipend", "fr", [QUEBEC], TODAY)
    assert one is not None and "13 000,00 $ CA" in html_of(one)
    both = faq.topic("stipend", "en", [], TODAY)
    assert both is not None
    (answer,) = [o for o in both if isinstance(o, FaqAnswer)]
    assert len(answer.blocks) == 2 and all(b.heading is not None for b in answer.blocks)


def test_a_question_about_what_a_question_means_gets_that_question_s_help(faq: FaqService) -> None:
    outputs = faq.topic("help:quebec_domicile", "fr", [QUEBEC], TODAY)
    assert outputs == [Say(outputs[0].message)] and outputs[0].message.key == "help.quebec_domicile"  # type: ignore[union-attr]


def test_out_of_scope_is_recorded_and_answered_with_the_contact_never_a_forced_topic(faq: FaqService) -> None:
    outputs = faq.answer("quelle météo demain à Montréal?", "fr", [QUEBEC], TODAY, pending=None, sure_only=False)
    assert outputs is not None and isinstance(outputs[0], Unanswered)
    assert not any(isinstance(o, Suggestions) for o in outputs)
    (answer,) = [o for o in outputs if isinstance(o, FaqAnswer)]
    assert answer.topic == "" and answer.intro is not None and "stages.oig@mri.gouv.qc.ca" in html_of(outputs)


def test_the_command_line_object_has_the_contract_s_shape(faq: FaqService) -> None:
    result = faq.ask("c koi l'allocation", "fr", QUEBEC, TODAY)
    assert set(result) == {"topic", "score", "answer", "alternatives"}
    assert result["topic"] == "stipend" and 0 < result["score"] <= 1
    assert "13 000,00 $ CA" in result["answer"].replace("\u00a0", " ")
    assert "<b>" not in result["answer"]  # plain text for integrators
    nothing = faq.ask("raconte-moi une blague", "fr", None, TODAY)
    assert nothing["topic"] is None and nothing["answer"]


async def test_staff_text_wins_per_offer_then_for_all_offers_then_the_built_in_answer(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    faq = FaqService.create(PROGRAMS)
    async with sessions.begin() as session:
        await store.publish(session, "stipend", None, ("Pour toutes : {stipend}", "For all: {stipend}"), STAFF, AT)
        await faq.refresh(session)
    assert "Pour toutes : 13 000,00 $ CA" in html_of(faq.topic("stipend", "fr", [QUEBEC], TODAY))
    async with sessions.begin() as session:
        await store.publish(session, "stipend", QUEBEC, ("Québec seulement", "Québec only"), STAFF, AT)
        await faq.refresh(session)
    assert html_of(faq.topic("stipend", "fr", [QUEBEC], TODAY)) == "Québec seulement"
    assert "Pour toutes" in html_of(faq.topic("stipend", "fr", [RABAT], TODAY))
    async with sessions.begin() as session:  # Québec's own text withdrawn: the text for all offers again
        await store.publish(session, "stipend", QUEBEC, (None, None), STAFF, AT)
        await faq.refresh(session)
    assert "Pour toutes : 13 000,00 $ CA" in html_of(faq.topic("stipend", "fr", [QUEBEC], TODAY))
    async with sessions.begin() as session:  # and that one withdrawn: the built-in answer
        await store.publish(session, "stipend", None, (None, None), STAFF, AT)
        await faq.refresh(session)
    built_in = html_of(faq.topic("stipend", "fr", [QUEBEC], TODAY))
    assert "Québec seulement" not in built_in and "Pour toutes" not in built_in and "13 000,00 $ CA" in built_in


async def test_a_publication_in_one_process_is_live_in_another_at_its_next_look(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    here, there = FaqService.create(PROGRAMS), FaqService.create(PROGRAMS)
    async with sessions() as session:
        await there.refresh(session)
    async with sessions.begin() as session:
        await store.publish(session, "dates", QUEBEC, ("Nouvelles dates", "New dates"), STAFF, AT)
        await store.add_example(session, "location", "fr", "est-ce que je peux amener mon chien", STAFF, AT)
    before = there.answer("est-ce que je peux amener mon chien", "fr", [QUEBEC], TODAY, pending=None, sure_only=True)
    assert before is None or "Nouvelles dates" not in html_of(before)
    async with sessions() as session:
        await there.refresh(session)
    assert html_of(there.topic("dates", "en", [QUEBEC], TODAY)) == "New dates"
    learnt = there.answer("est-ce que je peux amener mon chien?", "fr", [QUEBEC], TODAY, pending=None, sure_only=True)
    assert learnt is not None and any(isinstance(o, FaqAnswer) and o.topic == "location" for o in learnt)
    assert here.content.generation == store.EMPTY.generation  # the other process never looked: unchanged


def test_an_ambiguous_question_offers_up_to_three_topics_as_buttons(faq: FaqService) -> None:
    outputs = faq.answer("stage?", "fr", [QUEBEC], TODAY, pending=None, sure_only=False)
    assert outputs is not None and isinstance(outputs[0], Unanswered)  # kept for staff: not answered for sure
    (suggestions,) = [o for o in outputs if isinstance(o, Suggestions)]
    ids = [b.id for b in suggestions.buttons]
    assert 2 <= len(ids) <= 3 and all(i.startswith("faq:") and not i.startswith("faq:help") for i in ids), ids
    assert faq.answer("stage?", "fr", [QUEBEC], TODAY, pending="birth_date", sure_only=True) is None


@pytest.mark.parametrize("database_url", BACKENDS[1:], indirect=True)
async def test_changes_commit_one_after_the_other_so_no_process_misses_one(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """PostgreSQL: a change waits for the one in progress; the version number grows in commit order,
    so a process that saw number n has seen every change up to n."""
    first = sessions()
    await first.begin()
    await store.publish(first, "stipend", QUEBEC, ("Premier", "First"), STAFF, AT)  # not committed yet

    async def second() -> None:
        async with sessions.begin() as session:
            await store.publish(session, "dates", QUEBEC, ("Second", "Second"), STAFF, AT)

    waiting = asyncio.create_task(second())
    async with sessions() as probe:  # the second change is blocked on the first's lock: a condition, not a delay
        for _ in range(400):
            blocked = await probe.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            )
            await probe.rollback()
            if blocked:
                break
            await asyncio.sleep(LOOK_EVERY)
        assert blocked == 1 and not waiting.done()
    faq = FaqService.create(PROGRAMS)
    async with sessions() as session:
        await faq.refresh(session)
    assert "Premier" not in html_of(faq.topic("stipend", "fr", [QUEBEC], TODAY))  # nothing committed yet
    await first.commit()
    await first.close()
    await waiting
    async with sessions() as session:
        await faq.refresh(session)
    assert html_of(faq.topic("stipend", "fr", [QUEBEC], TODAY)) == "Premier"
    assert html_of(faq.topic("dates", "fr", [QUEBEC], TODAY)) == "Second"


def test_two_questions_in_one_message_are_both_answered(faq: FaqService) -> None:
    outputs = faq.answer(
        "c quand la date limite pis c'est combien payé?", "fr", [QUEBEC], TODAY, pending=None, sure_only=False
    )
    assert outputs is not None and [o.topic for o in outputs if isinstance(o, FaqAnswer)] == ["deadline", "stipend"]
    text = html_of(outputs)
    assert "10 octobre 2021" in text and "13 000,00 $ CA" in text
    # one question with "and" inside stays one question
    single = faq.answer("do I need research and analysis skills?", "en", [QUEBEC], TODAY, pending=None, sure_only=False)
    assert single is not None and [o.topic for o in single if isinstance(o, FaqAnswer)] == ["skills"]
