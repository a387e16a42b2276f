"""The FAQ's built-in answers: catalog templates over an offer's data, filled for a language and a day.

An answer is a catalog entry in Telegram HTML with `{placeholders}` (`faq.answer.<topic>`, or
`faq.answer.<topic>.not_stated` when the offer says nothing on the topic). `fill` replaces each
placeholder by the offer's value formatted by Babel for fr_CA / en_CA and HTML-escaped, so a date
changed in an offer file changes every answer that cites it. Staff text uses the same placeholders;
`check_template` says why a text cannot be published.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from datetime import date, timedelta

from rules import N_, Message, NotStated, Program, load_programs

from ..i18n import LANGUAGES, gettext
from .telegram_html import check_html
from .values import PLACEHOLDERS, VALUES, Context, format_phone, placeholder_help

__all__ = [
    "BUILTIN_TOPICS",
    "PLACEHOLDERS",
    "check_template",
    "default_answer",
    "default_template",
    "fill",
    "format_phone",
    "placeholder_help",
    "topic_title",
]

BUILTIN_TOPICS: tuple[str, ...] = (
    "dates",
    "stipend",
    "location",
    "deadline",
    "contact",
    "duties",
    "skills",
    "languages",
    "eligibility",
    "apply",
    "covid",
    "organization",
    "renewal",
    "domain",
)

_TITLES = {
    "dates": N_("faq.topic.dates"),
    "stipend": N_("faq.topic.stipend"),
    "location": N_("faq.topic.location"),
    "deadline": N_("faq.topic.deadline"),
    "contact": N_("faq.topic.contact"),
    "duties": N_("faq.topic.duties"),
    "skills": N_("faq.topic.skills"),
    "languages": N_("faq.topic.languages"),
    "eligibility": N_("faq.topic.eligibility"),
    "apply": N_("faq.topic.apply"),
    "covid": N_("faq.topic.covid"),
    "organization": N_("faq.topic.organization"),
    "renewal": N_("faq.topic.renewal"),
    "domain": N_("faq.topic.domain"),
}

# topic -> (answer when the offer states it, answer when it does not), and the data that decides.
_ANSWERS: dict[str, tuple[str, str, Callable[[Program], object]]] = {
    "dates": (N_("faq.answer.dates"), N_("faq.answer.dates.not_stated"), lambda p: p.dates),
    "stipend": (N_("faq.answer.stipend"), N_("faq.answer.stipend.not_stated"), lambda p: p.stipend),
    "location": (N_("faq.answer.location"), N_("faq.answer.location.not_stated"), lambda p: p.location),
    "deadline": (N_("faq.answer.deadline"), N_("faq.answer.deadline.not_stated"), lambda p: p.deadline),
    "contact": (N_("faq.answer.contact"), N_("faq.answer.contact.not_stated"), lambda p: p.contacts),
    "duties": (N_("faq.answer.duties"), N_("faq.answer.duties.not_stated"), lambda p: p.duties),
    "skills": (N_("faq.answer.skills"), N_("faq.answer.skills.not_stated"), lambda p: p.required_skills),
    "languages": (N_("faq.answer.languages"), N_("faq.answer.languages.not_stated"), lambda p: p.languages),
    "eligibility": (N_("faq.answer.eligibility"), N_("faq.answer.eligibility.not_stated"), lambda p: p.criteria),
    "apply": (N_("faq.answer.apply"), N_("faq.answer.apply.not_stated"), lambda p: p.how_to_apply),
    "covid": (N_("faq.answer.covid"), N_("faq.answer.covid.not_stated"), lambda p: p.covid),
    "organization": (
        N_("faq.answer.organization"),
        N_("faq.answer.organization.not_stated"),
        lambda p: p.organization.about,
    ),
    "renewal": (N_("faq.answer.renewal"), N_("faq.answer.renewal.not_stated"), lambda p: p.renewal),
    "domain": (N_("faq.answer.domain"), N_("faq.answer.domain.not_stated"), lambda p: p.field),
}

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def topic_title(topic: str, lang: str) -> str | None:
    """A built-in topic's short title (buttons, headings); None for a topic staff created."""
    key = _TITLES.get(topic)
    return None if key is None else gettext(key, lang)


def _stated(value: object) -> bool:
    return not isinstance(value, NotStated) and value not in (None, [], ())


def default_template(topic: str, program: Program, lang: str) -> str | None:
    """The built-in template of a topic for this offer, in `lang`; None for a topic that is not built in."""
    entry = _ANSWERS.get(topic)
    if entry is None:
        return None
    stated_key, not_stated_key, data = entry
    return gettext(stated_key if _stated(data(program)) else not_stated_key, lang)


def default_answer(topic: str, program: Program, lang: str, today: date) -> str | None:
    """The built-in answer, filled (Telegram HTML); None for a topic that is not built in."""
    template = default_template(topic, program, lang)
    return None if template is None else fill(template, program, lang, today)


def _escape(value: str) -> str:
    """A value as Telegram HTML text, also safe inside a double-quoted attribute (`href="{...}"`)."""
    return html.escape(value, quote=False).replace('"', "&quot;")


def fill(template: str, program: Program, lang: str, today: date) -> str:
    """Telegram HTML: each known {placeholder} replaced by the offer's value, formatted and HTML-escaped.

    A value the offer does not state becomes the catalog's "not stated" sentence; a line left
    empty by an empty value (an offer without a note on its dates) is dropped. Unknown placeholders
    and stray braces are left as written: `check_template` refuses them before publication.
    """
    context = Context(program, lang, today)
    values: dict[str, str] = {}

    def value(match: re.Match[str]) -> str:
        name = match[1]
        compute = VALUES.get(name)
        if compute is None:
            return match[0]
        if name not in values:
            raw = compute(context)
            values[name] = _escape(gettext(N_("faq.value.not_stated"), lang) if raw is None else raw)
        return values[name]

    lines = []
    for line in template.split("\n"):
        filled = _PLACEHOLDER.sub(value, line)
        if filled.strip() or filled == line:
            lines.append(filled)
    return "\n".join(lines).strip()


def _check_braces(text: str) -> Message | None:
    for match in _PLACEHOLDER.finditer(text):
        if match[1] not in PLACEHOLDERS:
            known = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
            return Message(N_("faq.template.unknown_placeholder"), {"name": match[0], "known": known})
    stray = re.search(r"[{}]", _PLACEHOLDER.sub(lambda m: " " * len(m[0]), text))
    if stray is not None:
        near = " ".join(text[max(0, stray.start() - 12) : stray.start() + 12].split())
        return Message(N_("faq.template.unbalanced_brace"), {"near": near})
    return None


def _sample_days(program: Program) -> list[date]:
    """Days that give every wording of the deadline status: days left, the last day, closed."""
    deadline = program.deadline_date
    if deadline is None:
        return [program.start_date or date(2000, 1, 1)]
    return [deadline - timedelta(days=100), deadline, deadline + timedelta(days=1)]


def check_template(text: str, programs: Iterable[Program] | None = None) -> Message | None:
    """Why staff text cannot be published, else None.

    Refused: text Telegram's HTML would reject, an unknown {placeholder} or a stray brace, and text
    that is empty or longer than Telegram allows once filled for any of `programs` (by default the
    shipped offers) in either language, whatever the day.
    """
    if not text.strip():
        return Message(N_("faq.template.empty"))
    problem = _check_braces(text) or check_html(text)
    if problem is not None:
        return problem
    offers = list(programs) if programs is not None else list(load_programs().values())
    longest: Message | None = None
    for program in offers:
        for lang in LANGUAGES:
            for day in _sample_days(program):
                problem = check_html(fill(text, program, lang, day))
                if problem is None:
                    continue
                if problem.key != N_("faq.template.too_long"):
                    return problem
                if longest is None or problem.params["length"] > longest.params["length"]:
                    longest = problem
    return longest
