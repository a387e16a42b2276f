"""What a {placeholder} of an FAQ answer gives: the offer's data, formatted for fr_CA / en_CA.

Each value is plain text (`answers.fill` escapes it for Telegram HTML), or None where the offer
does not state it. Lists are bullet lines; dates, amounts and durations are formatted by Babel.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any

from rules import CHOICE_LABELS, FACT_LABELS, N_, Choice, Message, NotStated, Program, Quantity
from rules.criteria import compile_criteria
from rules.criterion import REFERENCE_LABELS, Criterion, choice_list, reference
from rules.kinds import (
    AgeParams,
    CitizenshipParams,
    EducationParams,
    ExperienceParams,
    LanguageParams,
    ResidencyParams,
    YesNoParams,
)
from rules.model import Contact, Text

from ..i18n import LOCALES, format_day, format_money, gettext, render

# Placeholder name -> catalog key of what it gives, for staff help (`placeholder_help`).
PLACEHOLDERS: Mapping[str, str] = MappingProxyType(
    {
        "title": N_("faq.template.placeholder.title"),
        "short_title": N_("faq.template.placeholder.short_title"),
        "programme": N_("faq.template.placeholder.programme"),
        "reference": N_("faq.template.placeholder.reference"),
        "organization": N_("faq.template.placeholder.organization"),
        "acronym": N_("faq.template.placeholder.acronym"),
        "about": N_("faq.template.placeholder.about"),
        "field": N_("faq.template.placeholder.field"),
        "dates": N_("faq.template.placeholder.dates"),
        "start": N_("faq.template.placeholder.start"),
        "end": N_("faq.template.placeholder.end"),
        "duration": N_("faq.template.placeholder.duration"),
        "dates_note": N_("faq.template.placeholder.dates_note"),
        "stipend": N_("faq.template.placeholder.stipend"),
        "stipend_min": N_("faq.template.placeholder.stipend_min"),
        "stipend_max": N_("faq.template.placeholder.stipend_max"),
        "location": N_("faq.template.placeholder.location"),
        "work_mode": N_("faq.template.placeholder.work_mode"),
        "deadline": N_("faq.template.placeholder.deadline"),
        "deadline_status": N_("faq.template.placeholder.deadline_status"),
        "contact": N_("faq.template.placeholder.contact"),
        "contact_name": N_("faq.template.placeholder.contact_name"),
        "contact_unit": N_("faq.template.placeholder.contact_unit"),
        "phone": N_("faq.template.placeholder.phone"),
        "email": N_("faq.template.placeholder.email"),
        "duties": N_("faq.template.placeholder.duties"),
        "skills": N_("faq.template.placeholder.skills"),
        "assets": N_("faq.template.placeholder.assets"),
        "languages": N_("faq.template.placeholder.languages"),
        "eligibility": N_("faq.template.placeholder.eligibility"),
        "covid": N_("faq.template.placeholder.covid"),
        "renewal": N_("faq.template.placeholder.renewal"),
        "how_to_apply": N_("faq.template.placeholder.how_to_apply"),
        "where_to_ask": N_("faq.template.placeholder.where_to_ask"),
    }
)

_NANP = re.compile(r"^\(?([2-9]\d{2})\)?[\s.-]*([2-9]\d{2})[\s.-]*(\d{4})$")
_MONTH_DAYS = 365.25 / 12


def placeholder_help(lang: str) -> list[str]:
    """One line per placeholder, `{name} — what it gives`, for staff writing an answer."""
    return [f"{{{name}}} — {gettext(key, lang)}" for name, key in PLACEHOLDERS.items()]


@dataclass(frozen=True)
class Context:
    """The offer, language and day an answer is filled for."""

    program: Program
    lang: str
    today: date

    def text(self, value: Text) -> str:
        return value.localized().in_language(self.lang)

    def say(self, key: str, **params: Any) -> str:
        return render(Message(key, params), self.lang)


def _bullets(items: Iterable[str]) -> str:
    return "\n".join(f"• {item}" for item in items)


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _texts(c: Context, values: list[Text] | NotStated) -> str | None:
    return None if isinstance(values, NotStated) or not values else _bullets(c.text(v) for v in values)


def _text(c: Context, value: Text | NotStated) -> str | None:
    return None if isinstance(value, NotStated) else c.text(value)


def _dates(c: Context) -> str | None:
    dates = c.program.dates
    if isinstance(dates, NotStated):
        return None
    return c.say(N_("faq.value.dates"), start=format_day(dates.start, c.lang), end=format_day(dates.end, c.lang))


def _duration(c: Context) -> str | None:
    """About how long: months, rounded (weeks under a month and a half), from both dates inclusive."""
    dates = c.program.dates
    if isinstance(dates, NotStated) or dates.end < dates.start:
        return None
    days = (dates.end - dates.start).days + 1
    if days >= 45:
        length = Quantity(round(days / _MONTH_DAYS), "duration-month")
    else:
        length = Quantity(max(1, round(days / 7)), "duration-week")
    return c.say(N_("faq.value.duration"), length=length)


def _dates_note(c: Context) -> str | None:
    dates = c.program.dates
    if isinstance(dates, NotStated):
        return None
    return "" if dates.note is None else c.text(dates.note)


def _stipend(c: Context, which: str = "range") -> str | None:
    stipend = c.program.stipend
    if isinstance(stipend, NotStated):
        return None
    low = format_money(stipend.minimum, stipend.currency, c.lang)
    high = format_money(stipend.maximum, stipend.currency, c.lang)
    if which == "min":
        return low
    if which == "max":
        return high
    if stipend.minimum == stipend.maximum:
        return low
    return c.say(N_("faq.value.stipend_range"), minimum=low, maximum=high)


WORK_MODES = {
    "on_site": N_("faq.value.work_mode.on_site"),
    "remote": N_("faq.value.work_mode.remote"),
    "remote_or_on_site": N_("faq.value.work_mode.remote_or_on_site"),
    None: N_("faq.value.work_mode.unknown"),
}


def _work_mode(c: Context) -> str | None:
    """Remote or on site, and the offer's own words when it says (they may carry a condition)."""
    location = c.program.location
    if isinstance(location, NotStated):
        return None
    mode = c.say(WORK_MODES[location.work_mode])
    if location.work_mode is None:
        return mode
    words = c.say(N_("faq.value.offer_words"), quote=location.source.strip())
    return f"{mode} {words}"


def _deadline(c: Context) -> str | None:
    deadline = c.program.deadline_date
    return None if deadline is None else format_day(deadline, c.lang)


def _deadline_status(c: Context) -> str:
    """Days left to apply (the deadline day itself is open, as `Program.offer_open`), or closed on that day."""
    deadline = c.program.deadline_date
    if deadline is None:
        return c.say(N_("faq.value.deadline.none"))
    if c.today > deadline:
        return c.say(N_("faq.value.deadline.closed"), deadline=deadline)
    if c.today == deadline:
        return c.say(N_("faq.value.deadline.last_day"))
    days = Quantity((deadline - c.today).days + 1, "duration-day")  # today and the deadline day both count
    return c.say(N_("faq.value.deadline.days_left"), days=days, deadline=deadline)


def format_phone(phone: str) -> str:
    """A North American number with its country code (`+1 418 649-2400`); any other as written.

    A number written without `+` and in the NANP shape (ten digits, no trunk 0) is North American:
    the offers are Canadian. Another country's number belongs in the offer file with its `+` code.
    """
    match = _NANP.match(phone.strip())
    return f"+1 {match[1]} {match[2]}-{match[3]}" if match else phone.strip()


def _phone(c: Context, contact: Contact) -> str | None:
    if contact.phone is None:
        return None
    phone = format_phone(contact.phone)
    if contact.extension is None:
        return phone
    return c.say(N_("faq.value.phone_extension"), phone=phone, extension=contact.extension)


def _contact_block(c: Context, contact: Contact) -> str:
    # Plain text, not <a href="tel:">/"mailto:": Telegram's HTML links only http(s)/tg URLs, and its
    # clients make phone numbers and e-mail addresses in a message tappable by themselves.
    lines = [c.text(contact.name)]
    if contact.unit is not None:
        lines.append(c.text(contact.unit))
    phone = _phone(c, contact)
    if phone is not None:
        lines.append(c.say(N_("faq.value.contact.phone"), phone=phone))
    if contact.email is not None:
        lines.append(c.say(N_("faq.value.contact.email"), email=contact.email))
    return "\n".join(lines)


def _first_contact(c: Context) -> Contact | None:
    contacts = c.program.contacts
    return None if isinstance(contacts, NotStated) or not contacts else contacts[0]


def _contacts(c: Context) -> str | None:
    contacts = c.program.contacts
    if isinstance(contacts, NotStated) or not contacts:
        return None
    return "\n\n".join(_contact_block(c, contact) for contact in contacts)


def _where_to_ask(c: Context) -> str:
    """The offer's contact; else the organisation's page the offer file quotes; else the organisation."""
    contacts = _contacts(c)
    if contacts is not None:
        return contacts
    for spec in (*c.program.criteria, *c.program.asset_criteria):
        for outside in spec.also_stated_in:
            return c.say(N_("faq.value.where.page"), title=outside.title, url=outside.url)
    return c.say(N_("faq.value.where.organization"), organization=c.text(c.program.organization.name))


LANGUAGE_LINES = {True: N_("faq.value.language.required"), False: N_("faq.value.language.asset")}


def _languages(c: Context) -> str | None:
    languages = c.program.languages
    if isinstance(languages, NotStated) or not languages:
        return None
    names = LOCALES[c.lang].languages
    lines = [
        c.say(LANGUAGE_LINES[item.blocking], language=_capitalized(names[item.language]), level=c.text(item.level))
        for item in languages
    ]
    return _bullets(lines)


YES_NO_REQUIREMENTS = {
    ("quebec_domicile", True): N_("faq.value.requirement.quebec_domicile"),
    ("iom_interest", True): N_("faq.value.requirement.iom_interest"),
    ("iom_work", True): N_("faq.value.requirement.iom_work"),
    ("prior_psoig_internship", False): N_("faq.value.requirement.prior_psoig_internship"),
}


def _education(c: Context, p: EducationParams) -> str:
    on, _ = reference(c.program, c.today, p.window.before)
    first, last = p.window.bounds(on)
    accepted = choice_list("education", p.accepted_in_progress)
    degrees = choice_list("highest_degree", p.graduated_degrees)
    if not p.graduated_degrees:
        return c.say(N_("faq.value.requirement.education_enrolled"), accepted=accepted)
    if not p.accepted_in_progress:
        return c.say(N_("faq.value.requirement.education_degree"), degrees=degrees, first=first, last=last)
    return c.say(N_("faq.value.requirement.education"), accepted=accepted, degrees=degrees, first=first, last=last)


def _requirement(c: Context, criterion: Criterion) -> str:
    """A criterion as one readable line, from its kind and the offer's parameters (dates computed)."""
    p = criterion.params
    if isinstance(p, AgeParams):
        on, named = reference(c.program, c.today, p.at)
        if named.key == REFERENCE_LABELS["today"]:
            return c.say(N_("faq.value.requirement.age"), min=p.min_age, max=p.max_age)
        return c.say(N_("faq.value.requirement.age_on"), min=p.min_age, max=p.max_age, date=on, reference=named)
    if isinstance(p, EducationParams):
        return _education(c, p)
    if isinstance(p, ExperienceParams):
        ceiling = Quantity(p.max_years, "duration-year")
        if p.include_max:
            return c.say(N_("faq.value.requirement.experience_at_most"), max=ceiling)
        return c.say(N_("faq.value.requirement.experience"), max=ceiling)
    if isinstance(p, CitizenshipParams):
        return c.say(N_("faq.value.requirement.citizenship"), accepted=choice_list("citizenship", p.accepted))
    if isinstance(p, YesNoParams):
        wording = YES_NO_REQUIREMENTS.get((p.explain_as or p.fact, p.required))
        if wording is not None:
            return c.say(wording)
        return c.say(N_("faq.value.requirement.yes_no"), fact=Message(FACT_LABELS[p.fact]), answer=p.required)
    if isinstance(p, ResidencyParams):
        return c.say(N_("faq.value.requirement.residency"), minimum=Quantity(p.min_years, "duration-year"))
    if isinstance(p, LanguageParams):
        levels = tuple(
            Message(N_("explain.languages.item"), {"language": Message(FACT_LABELS[f]), "level": Choice(f, lvl)})
            for f, lvl in p.required.items()
            if (f, lvl) in CHOICE_LABELS
        )
        return c.say(N_("faq.value.requirement.languages"), required=levels)
    return criterion.spec.source.rstrip(" ;.")  # a kind without a wording yet: the offer's own sentence


def _eligibility(c: Context) -> str | None:
    if not c.program.criteria:
        return None
    blocking, _assets = compile_criteria(c.program)
    return _bullets(_unique(_capitalized(_requirement(c, criterion)) for criterion in blocking))


def _about(c: Context) -> str | None:
    return " ".join(c.text(t) for t in c.program.organization.about) or None


def _contact_field(c: Context, which: str) -> str | None:
    contact = _first_contact(c)
    if contact is None:
        return None
    if which == "name":
        return c.text(contact.name)
    if which == "unit":
        return None if contact.unit is None else c.text(contact.unit)
    if which == "phone":
        return _phone(c, contact)
    return contact.email


def _dated(c: Context, which: str) -> str | None:
    dates = c.program.dates
    return None if isinstance(dates, NotStated) else format_day(dates.start if which == "start" else dates.end, c.lang)


# Each placeholder's value, or None where the offer does not state it.
VALUES: dict[str, Callable[[Context], str | None]] = {
    "title": lambda c: c.text(c.program.title),
    "short_title": lambda c: c.text(c.program.short_title),
    "programme": lambda c: c.text(c.program.programme),
    "reference": lambda c: _text(c, c.program.reference),
    "organization": lambda c: c.text(c.program.organization.name),
    "acronym": lambda c: c.text(c.program.organization.acronym),
    "about": _about,
    "field": lambda c: _text(c, c.program.field),
    "dates": _dates,
    "start": lambda c: _dated(c, "start"),
    "end": lambda c: _dated(c, "end"),
    "duration": _duration,
    "dates_note": _dates_note,
    "stipend": _stipend,
    "stipend_min": lambda c: _stipend(c, "min"),
    "stipend_max": lambda c: _stipend(c, "max"),
    "location": lambda c: None if isinstance(c.program.location, NotStated) else c.text(c.program.location.place),
    "work_mode": _work_mode,
    "deadline": _deadline,
    "deadline_status": _deadline_status,
    "contact": _contacts,
    "contact_name": lambda c: _contact_field(c, "name"),
    "contact_unit": lambda c: _contact_field(c, "unit"),
    "phone": lambda c: _contact_field(c, "phone"),
    "email": lambda c: _contact_field(c, "email"),
    "duties": lambda c: _texts(c, c.program.duties),
    "skills": lambda c: _texts(c, c.program.required_skills),
    "assets": lambda c: _texts(c, c.program.assets),
    "languages": _languages,
    "eligibility": _eligibility,
    "covid": lambda c: _text(c, c.program.covid),
    "renewal": lambda c: _text(c, c.program.renewal),
    "how_to_apply": lambda c: _text(c, c.program.how_to_apply),
    "where_to_ask": _where_to_ask,
}
