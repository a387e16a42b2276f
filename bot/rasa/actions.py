"""The actions, thin wrappers over what the chat uses: `dialogs.answers.parse_answer` for every
answer, `rules.questions_to_ask` for what to ask, `rules.evaluate` for the verdict, `bot.render`
for the wording and `FaqService` for questions. Their sentences come from the same catalogs.

Every action answers whatever the tracker holds: a missing, mistyped or forged slot, an unknown
offer id, an exception of ours become a sentence in the slot language, never an error for Rasa;
logs carry action names and error types, never a slot's value.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from dialogs.answers import AnswerResult, check_answer, parse_answer
from dialogs.dont_know import says_dont_know
from dialogs.engine import HELP_WORDS
from dialogs.interrupts import Interruption, classify
from dialogs.outputs import Ask, FaqAnswer, Output, Say, Suggestions
from dialogs.parsing import Ambiguous, DontKnow, Invalid, Parsed, choose_reading, normalize
from dialogs.prompts import answer_value, confirm_prompt, question_prompt
from dialogs.questions import QUESTIONS, InputKind, dependents
from dialogs.state import DialogState
from rules import FACT_LABELS, FACTS, N_, FactValue, Message, ProgramResult, dump_facts, evaluate, questions_to_ask

from ..faq.service import plain_answer
from ..i18n import Lang, gettext, render
from ..render import ask_text, label_text, verdict_text
from . import slots
from .context import ActionContext

logger = logging.getLogger(__name__)

MAX_TEXT = 500  # characters of an answer read (a pasted essay is not an answer)


# The chat's sentences that point to Telegram commands (/review, /help), which Rasa has not: their
# Rasa wording, the same sentence without the command.
RASA_WORDING = {
    N_("dont_know.noted"): N_("rasa.dont_know.noted"),
    N_("interrupt.not_understood"): N_("rasa.not_understood"),
    N_("faq.unknown"): N_("rasa.faq.unknown"),
}
NOT_UNDERSTOOD = N_("interrupt.not_understood")
TOPIC_GONE = N_("rasa.topic_gone")
NOT_READ = Message(N_("parse.choice.none"))


def for_rasa(message: Message) -> Message:
    key = RASA_WORDING.get(message.key)
    return message if key is None else Message(key, message.params)


def say(dispatcher: CollectingDispatcher, message: Message, lang: Lang) -> None:
    dispatcher.utter_message(text=render(for_rasa(message), lang))


def show_ask(dispatcher: CollectingDispatcher, ask: Ask, lang: Lang, payloads: dict[str, str] | None = None) -> None:
    """A question with its buttons; a button's payload is what the chat reads when it is typed
    (its label), unless `payloads` gives another (an ambiguous date's ISO reading)."""
    rendered = ask_text(ask, lang)
    buttons = []
    for button in rendered.buttons:
        payload = (payloads or {}).get(button.id, button.label)
        if payload:
            buttons.append({"title": button.label, "payload": payload})
    dispatcher.utter_message(text=rendered.text, buttons=buttons)


async def guarded(
    name: str,
    context: ActionContext,
    dispatcher: CollectingDispatcher,
    lang: Lang,
    work: Coroutine[Any, Any, list[EventType]],
    fallback: list[EventType] | None = None,
) -> list[EventType]:
    """Run an action's work after a look for published changes; an error of ours becomes the
    chat's sentence and a log line with the action's name and the error's type, nothing else."""
    try:
        await context.refresh()
        return await work
    except Exception as error:
        logger.error("action %s failed: %s", name, type(error).__name__)
        work.close()  # not started if the look itself failed
        dispatcher.messages.clear()  # half an answer is worse than none
        say(dispatcher, Message(N_("error.internal")), lang)
        return fallback or []


class Guarded(Action):
    """An action that never fails towards Rasa."""

    def __init__(self, context: ActionContext) -> None:
        self.context = context

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        lang = slots.language(tracker.slots, self.context.default_language)
        return await guarded(self.name(), self.context, dispatcher, lang, self.act(dispatcher, tracker, domain, lang))

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, lang: Lang
    ) -> list[EventType]:
        raise NotImplementedError


# --- the form -------------------------------------------------------------------------------


class ValidateEligibilityForm(FormValidationAction):
    """`required_slots`: the facts that can still change an outcome for the conversation's offers,
    as the chat asks them (plus a fact just typed, so that it is read and checked). Each
    `validate_<fact>` reads the text with the chat's own parser: the normalised value, or `None`
    and the chat's own sentence."""

    def __init__(self, context: ActionContext) -> None:
        self.context = context

    def name(self) -> str:
        return f"validate_{slots.FORM}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        lang = slots.language(tracker.slots, self.context.default_language)
        # On an error of ours, the text typed for the question asked is set aside unread and the same
        # question stays asked: "send your last message again" then answers it. Slots filled before
        # the form asked (its start) are left as they are.
        requested = tracker.slots.get(slots.REQUESTED_SLOT)
        fallback: list[EventType] = []
        if isinstance(requested, str) and requested in QUESTIONS:
            fallback = [SlotSet(requested, None), SlotSet(slots.REQUESTED_SLOT, requested)]
        work = super().run(dispatcher, tracker, domain)
        return await guarded(self.name(), self.context, dispatcher, lang, work, fallback)

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        today = self.context.today()
        chosen = slots.offers(tracker.slots, self.context.programs, today).chosen
        skipped = slots.unknown_facts(tracker.slots)
        known = slots.answers(tracker.slots, today).facts
        needed = questions_to_ask(known, chosen, today, skipped)
        # This turn's candidates are validated, even a fact once "not known"; not asked again once it is
        typed = [
            s
            for s in tracker.slots_to_validate()
            if s in QUESTIONS and s not in needed and not (s in skipped and tracker.slots.get(s) is None)
        ]
        return [*needed, *typed]

    async def validate(
        self, fact: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """One answer to the question of `fact`, read in the order the chat reads it."""
        lang = slots.language(tracker.slots, self.context.default_language)
        today = self.context.today()
        others = slots.answers(tracker.slots, today, leave_out=[fact]).facts
        chosen = [p.id for p in slots.offers(tracker.slots, self.context.programs, today).chosen]
        faq = self.context.faq
        readings = slots.date_readings(tracker.slots, fact)
        pending = tracker.slots.get(slots.DATE_READINGS) if readings else None
        unchanged: dict[str, Any] = {fact: None, slots.DATE_READINGS: pending}  # still asked, readings kept
        typed = slots.answers({fact: value}, today).facts.get(fact)
        if typed is not None and check_answer(fact, typed, today=today, facts=others) is None:
            return self.record(fact, typed, dispatcher, tracker, lang)  # a value as stored: prefilled, a button
        message = latest_message(tracker)
        topic = picked_topic(message, faq.topics())
        if topic is not None:  # a "did you mean" button pressed while the form asks: answered, asked again
            utter_outputs(dispatcher, faq.topic(topic, lang, chosen, today) or [Say(Message(NOT_UNDERSTOOD))], lang)
            return unchanged
        if names_a_topic(message):  # a button of a topic that exists no more
            say(dispatcher, Message(TOPIC_GONE), lang)
            return unchanged
        if not isinstance(value, str | int | float) or isinstance(value, bool):  # a list, an object: not typed
            empty = parse_answer(fact, "", today=today, facts=others, translate=gettext)  # the question's refusal
            say(dispatcher, Message(empty.reason, empty.params) if isinstance(empty, Invalid) else NOT_READ, lang)
            return {fact: None, slots.DATE_READINGS: None}
        text = value.strip()[:MAX_TEXT] if isinstance(value, str) else str(value)[:MAX_TEXT]
        if not normalize(text):  # only invisible marks: nothing to read
            say(dispatcher, Message(N_("input.text_only")), lang)
            return unchanged
        if isinstance(value, str) and says_dont_know(text):  # before the FAQ: "je ne sais pas?" is an answer
            return self.set_aside(fact, dispatcher, tracker, lang)
        if normalize(text).strip(" ?!.") in HELP_WORDS:  # "aide": the question's help
            say(dispatcher, Message(QUESTIONS[fact].help), lang)
            return unchanged
        picked = choose_reading(text, readings, today) if readings else None
        if picked is not None:
            result: AnswerResult = check_answer(fact, picked, today=today, facts=others) or Parsed(picked)
        elif isinstance(value, str) and classify(text) is Interruption.QUESTION:  # as the chat: answered
            answered = faq.answer(text, lang, chosen, today, pending=fact, sure_only=False)
            utter_outputs(dispatcher, answered or [Say(Message(N_("interrupt.unanswered")))], lang)
            return unchanged
        else:
            result = read(fact, value, text, today, others)
        if isinstance(result, Parsed):
            return self.record(fact, result.value, dispatcher, tracker, lang)
        if isinstance(result, DontKnow):
            return self.set_aside(fact, dispatcher, tracker, lang)
        if isinstance(result, Ambiguous):  # `action_ask_<fact>` shows both readings as buttons
            return {
                fact: None,
                slots.DATE_READINGS: {"fact": fact, "readings": [d.isoformat() for d in result.candidates]},
            }
        # Not an answer: as the chat, a sure FAQ answer, a greeting or thanks returned, else why it is refused
        kind = classify(text)
        polite = {Interruption.GREETING: N_("interrupt.greeting"), Interruption.THANKS: N_("interrupt.thanks")}
        if kind in polite:
            say(dispatcher, Message(polite[kind]), lang)
            return unchanged
        sure = faq.answer(text, lang, chosen, today, pending=fact, sure_only=True)
        if sure:
            utter_outputs(dispatcher, sure, lang)
            return unchanged
        say(dispatcher, Message(result.reason, result.params), lang)
        return {fact: None, slots.DATE_READINGS: None}  # as the chat: a refused answer ends the choice of readings

    def record(
        self, fact: str, value: FactValue, dispatcher: CollectingDispatcher, tracker: Tracker, lang: Lang
    ) -> dict[str, Any]:
        """A checked value: stored as JSON, said back for a date or a number, what followed from an
        earlier different answer dropped."""
        skipped = without(slots.unknown_facts(tracker.slots), fact)
        stored = dump_facts({fact: value})[fact]
        asked = tracker.slots.get(slots.REQUESTED_SLOT) == fact  # not a slot filled before the form asked it
        if asked and QUESTIONS[fact].kind in (InputKind.DATE, InputKind.NUMBER):
            say(dispatcher, Message(N_("answer.noted"), {"value": shown(fact, value)}), lang)
        previous = earlier_value(tracker, fact, self.context.today())
        stale = dependents(fact) if previous is not None and previous != stored else set()
        changes = {fact: stored, slots.UNKNOWN_FACTS: [f for f in skipped if f not in stale], slots.DATE_READINGS: None}
        return changes | {name: None for name in stale}

    def set_aside(self, fact: str, dispatcher: CollectingDispatcher, tracker: Tracker, lang: Lang) -> dict[str, Any]:
        """ "I don't know": the fact stays unknown and is not asked again; what followed from an
        earlier answer to it goes, as in the chat."""
        say(dispatcher, Message(N_("dont_know.noted")), lang)
        stale = dependents(fact) if earlier_value(tracker, fact, self.context.today()) is not None else set()
        skipped = [f for f in slots.unknown_facts(tracker.slots) if f != fact and f not in stale]
        changes = {fact: None, slots.UNKNOWN_FACTS: [*skipped, fact], slots.DATE_READINGS: None}
        return changes | {name: None for name in stale}


def read(fact: str, value: Any, text: str, today: date, facts: dict[str, FactValue]) -> AnswerResult:
    """A slot's value read as the chat reads an answer: text through `parse_answer`; a number
    (an entity, a button's JSON) as the same number typed; another typed value checked as a
    pressed button is."""
    if isinstance(value, str) or (isinstance(value, int | float) and not isinstance(value, bool)):
        return parse_answer(fact, text, today=today, facts=facts, translate=gettext)
    answers = slots.answers({fact: value}, today)
    if fact in answers.facts:
        typed = answers.facts[fact]
        return check_answer(fact, typed, today=today, facts=facts) or Parsed(typed)
    return Invalid(N_("parse.choice.none"))


def latest_message(tracker: Tracker) -> dict[str, Any]:
    message = tracker.latest_message
    return message if isinstance(message, dict) else {}


def without(values: Sequence[str], value: str) -> list[str]:
    return [v for v in values if v != value]


def shown(fact: str, value: FactValue) -> object:
    """The value as the chat repeats it ("Noted: 20 May 1998")."""
    return answer_value(DialogState(answers=dump_facts({fact: value})), fact)


def earlier_value(tracker: Tracker, fact: str, today: date) -> Any:
    """The fact's last value before this turn's candidates (the trailing slot events), if any: a
    value as the rules take it, not a text Rasa extracted that validation then refused."""
    events = tracker.events if isinstance(tracker.events, list) else []
    end = len(events)
    while end > 0 and isinstance(events[end - 1], dict) and events[end - 1].get("event") == "slot":
        end -= 1
    for event in reversed(events[:end]):
        if isinstance(event, dict) and event.get("event") == "slot" and event.get("name") == fact:  # noqa: SIM102
            if slots.answers({fact: event.get("value")}, today).facts:
                return event.get("value")
    return None


def _validator(fact: str) -> Any:
    async def validate_fact(
        self: ValidateEligibilityForm,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return await self.validate(fact, value, dispatcher, tracker)

    validate_fact.__name__ = f"validate_{fact}"
    validate_fact.__doc__ = f"The answer to the question of `{fact}`, read by the chat's parser."
    return validate_fact


for _fact in slots.FACT_SLOTS:
    setattr(ValidateEligibilityForm, f"validate_{_fact}", _validator(_fact))


class AskFact(Guarded):
    """`action_ask_<fact>`: the chat's question for a fact, with its buttons, in the slot language."""

    def __init__(self, context: ActionContext, fact: str) -> None:
        super().__init__(context)
        self.fact = fact

    def name(self) -> str:
        return f"action_ask_{self.fact}"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, lang: Lang
    ) -> list[EventType]:
        today = self.context.today()
        chosen = slots.offers(tracker.slots, self.context.programs, today).chosen
        known = slots.answers(tracker.slots, today, leave_out=[self.fact]).facts
        readings = slots.date_readings(tracker.slots, self.fact)
        if readings is not None:  # the date typed reads two ways: which one (each reading's button sends it)
            payloads = {f"confirm:{i}": day.isoformat() for i, day in enumerate(readings)}
            show_ask(dispatcher, confirm_prompt(readings), lang, {**payloads, "confirm:?retype": ""})
            return []
        state = DialogState(lang=lang, answers=dump_facts(known), skipped=slots.unknown_facts(tracker.slots))
        state.asked = list(state.answers)
        show_ask(dispatcher, question_prompt(state, self.fact, chosen, today), lang)
        return []


# --- the verdict ------------------------------------------------------------------------------


class CheckEligibility(Guarded):
    """Slot `eligibility_results` = `{offer id: status}`; each verdict said as the chat says it."""

    def name(self) -> str:
        return "action_check_eligibility"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, lang: Lang
    ) -> list[EventType]:
        today = self.context.today()
        offers = slots.offers(tracker.slots, self.context.programs, today)
        answers = slots.answers(tracker.slots, today)
        if offers.unknown:
            known = tuple(self.context.programs)
            say(dispatcher, Message(N_("rasa.unknown_programs"), {"ids": offers.unknown, "known": known}), lang)
        if answers.unreadable:
            unread = tuple(Message(FACT_LABELS[f]) for f in answers.unreadable)
            say(dispatcher, Message(N_("rasa.unreadable"), {"facts": unread}), lang)
        if not offers.chosen:
            if not offers.asked:
                say(dispatcher, Message(N_("programs.none_open")), lang)
            return [SlotSet(slots.RESULTS, {})]
        results = [evaluate(answers.facts, program, today) for program in offers.chosen]
        for result in results:
            rendered = verdict_text(result, lang)
            dispatcher.utter_message(text=f"{rendered.heading}\n{rendered.text}")
        if missing := missing_facts(results):
            say(
                dispatcher,
                Message(N_("rasa.missing"), {"facts": tuple(Message(FACT_LABELS[f]) for f in missing)}),
                lang,
            )
        return [SlotSet(slots.RESULTS, {r.program.id: r.status.value for r in results})]


def missing_facts(results: Sequence[ProgramResult]) -> list[str]:
    wanted = {fact for result in results for fact in result.missing_facts}
    return [fact for fact in FACTS if fact in wanted]


# --- questions --------------------------------------------------------------------------------


class AnswerFaq(Guarded):
    """The latest message answered by the FAQ matcher (or the topic of a "did you mean" button);
    sets slot `faq_topic`. "Did you mean" choices are buttons with `/ask_faq{"faq_topic": ...}`."""

    def name(self) -> str:
        return "action_answer_faq"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, lang: Lang
    ) -> list[EventType]:
        today = self.context.today()
        faq = self.context.faq
        chosen = [p.id for p in slots.offers(tracker.slots, self.context.programs, today).chosen]
        message = tracker.latest_message if isinstance(tracker.latest_message, dict) else {}
        topic = picked_topic(message, faq.topics())
        outputs: list[Output] | None
        if topic is not None:
            outputs = faq.topic(topic, lang, chosen, today)
        elif names_a_topic(message):  # a button of a topic that exists no more
            outputs = [Say(Message(TOPIC_GONE))]
        else:
            text = message.get("text")
            text = text[:MAX_TEXT] if isinstance(text, str) else ""
            requested = tracker.slots.get(slots.REQUESTED_SLOT)
            pending = requested if isinstance(requested, str) and requested in QUESTIONS else None
            outputs = faq.answer(text, lang, chosen, today, pending=pending, sure_only=False)
        answered = utter_outputs(dispatcher, outputs or [Say(Message(NOT_UNDERSTOOD))], lang)
        return [SlotSet(slots.FAQ_TOPIC, answered)]


def utter_outputs(dispatcher: CollectingDispatcher, outputs: Sequence[Output], lang: Lang) -> str | None:
    """The FAQ's outputs as Rasa messages (plain text, "did you mean" buttons); the topic answered."""
    answered: str | None = None
    for output in outputs:
        if isinstance(output, FaqAnswer):
            answered = answered or output.topic or None
            intro = None if output.intro is None else for_rasa(output.intro)
            dispatcher.utter_message(text=plain_answer([replace(output, intro=intro)], lang))
        elif isinstance(output, Say):
            say(dispatcher, output.message, lang)
        elif isinstance(output, Suggestions):
            buttons = [
                {"title": label_text(b.label, lang), "payload": faq_payload(b.id.partition(":")[2])}
                for b in output.buttons
            ]
            dispatcher.utter_message(text=render(Message(N_("faq.suggest")), lang), buttons=buttons)
        # `Unanswered`: kept for staff by the chat only, with the person's consent; not here
    return answered


def faq_payload(topic: str) -> str:
    """A Rasa button payload that sets the intent and entity directly, bypassing NLU."""
    return f'/{slots.FAQ_INTENT}{{"{slots.FAQ_TOPIC}": "{topic}"}}'


def names_a_topic(message: dict[str, Any]) -> bool:
    """Whether the message carries a `faq_topic` entity at all (a "did you mean" button's)."""
    entities = message.get("entities")
    return isinstance(entities, list) and any(
        isinstance(e, dict) and e.get("entity") == slots.FAQ_TOPIC for e in entities
    )


def picked_topic(message: dict[str, Any], topics: Sequence[str]) -> str | None:
    entities = message.get("entities")
    if not isinstance(entities, list):
        return None
    for entity in entities:
        if isinstance(entity, dict) and entity.get("entity") == slots.FAQ_TOPIC and entity.get("value") in topics:
            return str(entity["value"])
    return None


def all_actions(context: ActionContext) -> list[Action]:
    """Every action the server registers (docs/rasa/domain.yml lists the same; a test compares)."""
    asks: list[Action] = [AskFact(context, fact) for fact in slots.FACT_SLOTS]
    return [ValidateEligibilityForm(context), *asks, CheckEligibility(context), AnswerFaq(context)]
