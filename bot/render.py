"""Engine outputs rendered as text and buttons in the person's language, for every channel.

A channel only decides how to show a `Rendered` (Telegram HTML and inline keyboards, numbered
options on the console); wording and formatting happen here, once.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from dialogs.outputs import (
    FAQ_STEP,
    Ask,
    FaqAnswer,
    Label,
    Output,
    QuotesCard,
    Say,
    Suggestions,
    Unanswered,
    VerdictCard,
)
from rules import N_, CriterionResult, Localized, Message, Outcome, ProgramResult, Status

from .i18n import render

STATUS_KEYS = {
    Status.ELIGIBLE: N_("verdict.eligible"),
    Status.NOT_ELIGIBLE: N_("verdict.not_eligible"),
    Status.INCOMPLETE: N_("verdict.incomplete"),
}
STATUS_ICONS = {Status.ELIGIBLE: "✅", Status.NOT_ELIGIBLE: "❌", Status.INCOMPLETE: "❔"}
RESULT_ICONS = {Outcome.MET: "✅", Outcome.NOT_MET: "❌", Outcome.UNKNOWN: "❔"}
ASSET_ICONS = {Outcome.MET: "➕", Outcome.NOT_MET: "➖", Outcome.UNKNOWN: "❔"}
CRITERION_LABELS = {
    "age": N_("criterion.age"),
    "education": N_("criterion.education"),
    "experience": N_("criterion.experience"),
    "iom_interest": N_("criterion.iom_interest"),
    "citizenship": N_("criterion.citizenship"),
    "quebec_domicile": N_("criterion.quebec_domicile"),
    "quebec_residency": N_("criterion.quebec_residency"),
    "languages": N_("criterion.languages"),
    "prior_participation": N_("criterion.prior_participation"),
    "field_of_study": N_("criterion.field_of_study"),
    "spanish": N_("criterion.spanish"),
}


@dataclass(frozen=True)
class RenderedButton:
    id: str
    label: str


@dataclass(frozen=True)
class Rendered:
    """One message: an optional heading (shown bold where the channel can), text and buttons.

    `html`: the text is Telegram HTML (an FAQ answer staff may format), not plain text.
    """

    text: str
    heading: str = ""
    buttons: tuple[RenderedButton, ...] = field(default_factory=tuple)
    step: str = ""
    html: bool = False


def label_text(label: Label, lang: str) -> str:
    text = label.in_language(lang) if isinstance(label, Localized) else render(label, lang)
    return text[:1].upper() + text[1:]


def criterion_label(criterion_id: str, lang: str) -> str:
    key = CRITERION_LABELS.get(criterion_id)
    return render(key, lang) if key else criterion_id


def _offer_line(result: ProgramResult, lang: str) -> str:
    program = result.program
    deadline = program.deadline_date
    if deadline is None:
        return render(Message(N_("offer.no_deadline")), lang)
    if result.offer_open:
        return render(Message(N_("offer.open_until"), {"deadline": deadline}), lang)
    return render(Message(N_("offer.closed"), {"deadline": deadline}), lang)


def _lines(criteria: tuple[CriterionResult, ...], icons: dict[Outcome, str], lang: str) -> list[str]:
    return [f"{icons[c.result]} {render(c.explanation, lang)}" for c in criteria]


def verdict_text(result: ProgramResult, lang: str) -> Rendered:
    heading = f"{STATUS_ICONS[result.status]} {result.program.title.localized().in_language(lang)}"
    parts = [render(Message(STATUS_KEYS[result.status]), lang), _offer_line(result, lang), ""]
    parts += _lines(result.criteria, RESULT_ICONS, lang)
    if result.assets:
        parts += ["", render(Message(N_("verdict.assets")), lang), *_lines(result.assets, ASSET_ICONS, lang)]
    return Rendered("\n".join(parts), heading=heading)


def _quote_lines(criterion: CriterionResult, lang: str) -> list[str]:
    """The offer's words, then the fuller published rule they condense, if the offer file quotes one."""
    item = {"criterion": criterion_label(criterion.id, lang), "quote": criterion.quote.rstrip(" ;")}
    lines = ["• " + render(Message(N_("quotes.item"), item), lang)]
    for outside in criterion.also_stated_in:
        also = {"title": outside.title, "url": outside.url, "quote": outside.quote.rstrip(" ;")}
        lines.append("  " + render(Message(N_("quotes.also"), also), lang))
    return lines


def quotes_text(result: ProgramResult, lang: str) -> Rendered:
    heading = render(Message(N_("quotes.title"), {"title": result.program.short_title.localized()}), lang)
    lines = [line for c in (*result.criteria, *result.assets) for line in _quote_lines(c, lang)]
    return Rendered("\n".join(lines), heading=heading)


def ask_text(ask: Ask, lang: str) -> Rendered:
    text = render(ask.message, lang)
    if ask.progress is not None and ask.progress[1] > 1:
        text = f"({ask.progress[0]}/{ask.progress[1]}) {text}"
    if ask.hint is not None:
        text = f"{text}\n{render(ask.hint, lang)}"
    buttons = tuple(RenderedButton(b.id, label_text(b.label, lang)) for b in ask.buttons)
    return Rendered(text, buttons=buttons, step=ask.step)


def faq_text(answer: FaqAnswer, lang: str) -> Rendered:
    """An FAQ answer: its topic as the heading, an intro, then one block per offer (HTML)."""
    parts = [] if answer.intro is None else [html.escape(render(answer.intro, lang), quote=False)]
    for block in answer.blocks:
        head = "" if block.heading is None else f"<b>{html.escape(label_text(block.heading, lang), quote=False)}</b>\n"
        parts.append(head + block.html)
    heading = "" if answer.title is None else label_text(answer.title, lang)
    return Rendered("\n\n".join(parts), heading=heading, html=True)


def suggestions_text(suggestions: Suggestions, lang: str) -> Rendered:
    buttons = tuple(RenderedButton(b.id, label_text(b.label, lang)) for b in suggestions.buttons)
    return Rendered(render(Message(N_("faq.suggest")), lang), buttons=buttons, step=FAQ_STEP)


def render_output(output: Output, lang: str) -> Rendered | None:
    """The message for one output; None for what is not shown to the person (`Unanswered`).

    An output type this function does not know raises `TypeError`: a new kind of output must be
    given its wording here, not shown to a person as a Python repr.
    """
    if isinstance(output, Say):
        return Rendered(render(output.message, lang))
    if isinstance(output, Ask):
        return ask_text(output, lang)
    if isinstance(output, VerdictCard):
        return verdict_text(output.result, lang)
    if isinstance(output, QuotesCard):
        return quotes_text(output.result, lang)
    if isinstance(output, FaqAnswer):
        return faq_text(output, lang)
    if isinstance(output, Suggestions):
        return suggestions_text(output, lang)
    if isinstance(output, Unanswered):
        return None
    raise TypeError(f"render_output cannot show a {type(output).__name__}; give it a wording in bot/render.py")
