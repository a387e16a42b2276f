"""The prompts of each step: the pending question, the offer menu, consent, review, verdict menu."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date

from rules import (
    CHOICE_LABELS,
    FACT_LABELS,
    N_,
    Choice,
    Lines,
    Message,
    Program,
    Quantity,
    questions_to_ask,
)

from .choices import Option
from .outputs import Ask, Button
from .questions import QUESTIONS, InputKind
from .state import DialogState
from .synonyms import SYNONYMS

Translate = Callable[[str, str], str]
ALL_OPEN = "?all"
DONT_KNOW = "?unknown"  # `<fact>:?unknown`: the person does not know; the fact stays unknown
DEGREE_LABEL = FACT_LABELS["highest_degree"]
HINTS = {
    InputKind.DATE: N_("hint.date"),
    InputKind.NUMBER: N_("hint.number"),
    InputKind.YES_NO: None,
    InputKind.CHOICE: None,
}


def choice_buttons(fact: str) -> list[Button]:
    question = QUESTIONS[fact]
    if question.kind is InputKind.YES_NO:
        return [Button(f"{fact}:yes", Message(N_("choice.yes"))), Button(f"{fact}:no", Message(N_("choice.no")))]
    if question.kind is InputKind.CHOICE:
        return [Button(f"{fact}:{value}", Message(CHOICE_LABELS[(fact, value)])) for value in question.choices]
    return []


def dont_know_button(fact: str) -> Button:
    """On every question, dates and numbers included: not knowing is an answer the bot understands."""
    return Button(f"{fact}:{DONT_KNOW}", Message(N_("button.dont_know")))


def rescue_buttons(step: str) -> list[Button]:
    return [
        Button(f"{step}:?help", Message(N_("button.help"))),
        Button(f"{step}:?skip", Message(N_("button.skip"))),
        Button(f"{step}:?restart", Message(N_("button.restart"))),
    ]


def choice_options(fact: str, translate: Translate) -> list[Option]:
    """The values of a closed question as typed options: labels in both languages, and yes/no words."""
    question = QUESTIONS[fact]
    if question.kind is InputKind.YES_NO:
        return [
            Option("yes", [translate(N_("choice.yes"), lang) for lang in ("fr", "en")]),
            Option("no", [translate(N_("choice.no"), lang) for lang in ("fr", "en")]),
        ]
    options = []
    for value in question.choices:
        labels = [translate(CHOICE_LABELS[(fact, value)], lang) for lang in ("fr", "en")]
        synonyms = SYNONYMS.get((fact, value))
        if synonyms is not None:
            labels += [word for lang in ("fr", "en") for word in translate(synonyms, lang).split("|") if word.strip()]
        options.append(Option(value, labels))
    return options


def question_prompt(
    state: DialogState, fact: str, programs: Sequence[Program], today: date, *, rescue: bool = False
) -> Ask:
    question = QUESTIONS[fact]
    facts = state.facts()
    params: dict[str, object] = {}
    degree = facts.get("highest_degree")
    if fact == "graduation_date":
        params["degree"] = Choice("highest_degree", degree) if isinstance(degree, str) else Message(DEGREE_LABEL)
    remaining = questions_to_ask(facts, programs, today, state.skipped)
    done = len({f for f in (*state.asked, *state.skipped) if f != fact})  # set aside counts as done
    total = done + max(len(remaining), 1)
    buttons = [*choice_buttons(fact), dont_know_button(fact), *(rescue_buttons(fact) if rescue else [])]
    hint_key = HINTS[question.kind]
    return Ask(
        step=fact,
        message=Message(question.prompt, params),
        buttons=tuple(buttons),
        hint=Message(hint_key) if hint_key else None,
        progress=None if state.editing else (done + 1, total),
    )


def programs_prompt(programs: Mapping[str, Program], today: date) -> Ask:
    buttons = []
    for program in programs.values():
        if program.offer_open(today):
            label = Message(N_("programs.option.open"), {"title": program.short_title.localized()})
        else:
            label = Message(
                N_("programs.option.closed"),
                {"title": program.short_title.localized(), "deadline": program.deadline_date},
            )
        buttons.append(Button(f"programs:{program.id}", label))
    if any(p.offer_open(today) for p in programs.values()):
        buttons.append(Button(f"programs:{ALL_OPEN}", Message(N_("programs.all"))))
    return Ask(step="programs", message=Message(N_("programs.prompt")), buttons=tuple(buttons))


def program_options(programs: Mapping[str, Program], translate: Translate) -> list[Option]:
    options = [
        Option(p.id, [p.id, p.short_title.fr, p.short_title.en, p.title.fr, p.title.en]) for p in programs.values()
    ]
    options.append(Option(ALL_OPEN, [translate(N_("programs.all"), lang) for lang in ("fr", "en")]))
    return options


def consent_prompt(retention_days: int) -> Ask:
    return Ask(
        step="consent",
        message=Message(N_("consent.notice"), {"days": retention_days}),
        buttons=(
            Button("consent:yes", Message(N_("button.consent.accept"))),
            Button("consent:no", Message(N_("button.consent.decline"))),
        ),
    )


def confirm_prompt(candidates: Sequence[date]) -> Ask:
    buttons = [Button(f"confirm:{i}", Message(N_("confirm.option"), {"date": day})) for i, day in enumerate(candidates)]
    buttons.append(Button("confirm:?retype", Message(N_("button.retype"))))
    first, second = candidates
    return Ask(
        step="confirm",
        message=Message(N_("confirm.prompt"), {"first": first, "second": second}),
        buttons=tuple(buttons),
    )


def answer_value(state: DialogState, fact: str) -> object:
    """An answer as shown in the review: a date, a choice label, yes/no or a number of years."""
    value = state.facts().get(fact)
    if value is None:
        return Message(N_("review.skipped"))
    question = QUESTIONS[fact]
    if question.kind is InputKind.CHOICE and isinstance(value, str):
        return Choice(fact, value)
    if question.kind is InputKind.NUMBER and isinstance(value, float):
        return Quantity(value, "duration-year")
    return value


def review_prompt(state: DialogState) -> Ask:
    shown = [f for f in QUESTIONS if f in state.answers or f in state.skipped]
    items = tuple(
        Message(N_("review.item"), {"fact": Message(FACT_LABELS[f]), "value": answer_value(state, f)}) for f in shown
    )
    buttons = [Button(f"review:{f}", Message(FACT_LABELS[f])) for f in shown]
    buttons.append(Button("review:?done", Message(N_("button.see_verdict"))))
    return Ask(step="review", message=Message(N_("review.prompt"), {"answers": Lines(items)}), buttons=tuple(buttons))


def done_prompt(programs: Sequence[Program]) -> Ask:
    buttons = [
        Button(f"quotes:{p.id}", Message(N_("button.quotes"), {"title": p.short_title.localized()})) for p in programs
    ]
    buttons += [
        Button("done:review", Message(N_("button.review"))),
        Button("done:restart", Message(N_("button.restart"))),
    ]
    return Ask(step="done", message=Message(N_("done.prompt")), buttons=tuple(buttons))


def fact_options(facts: Sequence[str], translate: Translate) -> list[Option]:
    """Answered facts as typed options (the review: "change my date of birth")."""
    return [Option(f, [translate(FACT_LABELS[f], lang) for lang in ("fr", "en")]) for f in facts]
