"""Counts in words that agree in number in both languages: `1 envoyé sur 3`, `1 personne`, `1 person`.

A count's phrase has one catalog entry per CLDR plural category that the languages use (`one`,
`other`); Babel tells which category a number takes in a language (French `one` covers 0 and 1,
English `one` only 1). A category without its own entry (French `many`) takes `other`.
"""

from __future__ import annotations

from rules import N_, Message

from ..i18n import LOCALES, render

# noun -> plural category -> catalog key (each phrase has {n}; `*_of` ones also {total})
PHRASES: dict[str, dict[str, str]] = {
    "sent": {"one": N_("broadcast.n.sent.one"), "other": N_("broadcast.n.sent.other")},
    "sent_of": {"one": N_("broadcast.n.sent_of.one"), "other": N_("broadcast.n.sent_of.other")},
    "handled_of": {"one": N_("broadcast.n.handled_of.one"), "other": N_("broadcast.n.handled_of.other")},
    "blocked": {"one": N_("broadcast.n.blocked.one"), "other": N_("broadcast.n.blocked.other")},
    "failed": {"one": N_("broadcast.n.failed.one"), "other": N_("broadcast.n.failed.other")},
    "cancelled": {"one": N_("broadcast.n.cancelled.one"), "other": N_("broadcast.n.cancelled.other")},
    "people": {"one": N_("broadcast.n.people.one"), "other": N_("broadcast.n.people.other")},
}


def counted(noun: str, n: int, lang: str, *, total: int | None = None) -> str:
    """`n` with its noun in `lang`, in the plural form the number takes there."""
    forms = PHRASES[noun]
    key = forms.get(LOCALES[lang].plural_form(n), forms["other"])
    params: dict[str, object] = {"n": n} if total is None else {"n": n, "total": total}
    return render(Message(key, params), lang)
