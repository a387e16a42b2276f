"""The built-in answers: written from the offers' data, formatted per locale, valid Telegram HTML."""

from __future__ import annotations

import re
from datetime import date

import pytest

from bot.faq.answers import (
    BUILTIN_TOPICS,
    PLACEHOLDERS,
    check_template,
    default_answer,
    default_template,
    fill,
    format_phone,
    placeholder_help,
    topic_title,
)
from bot.faq.telegram_html import MAX_LENGTH, check_html, to_plain
from bot.faq.values import VALUES
from bot.i18n import catalog, render
from rules import NotStated, Program, load_programs
from rules.model import Text

PROGRAMS = load_programs()
QUEBEC = PROGRAMS["quebec-psoig-2021-023"]
RABAT = PROGRAMS["iom-internship-rabat"]
TODAY = date(2021, 9, 28)  # twelve days before the Québec deadline (10 October 2021)
LANGS = ("fr", "en")
NOT_STATED = {"fr": "précise", "en": "not state"}  # the word every "not stated" sentence uses
IOM_PAGE = "https://www.iom.int/internships-iom"  # quoted by the Rabat offer file


def answer(topic: str, program: Program, lang: str, today: date = TODAY) -> str:
    text = default_answer(topic, program, lang, today)
    assert text is not None
    return " ".join(to_plain(text).replace("\u00a0", " ").replace("\u202f", " ").split())


def test_the_fourteen_topics_of_the_contract_in_order() -> None:
    assert BUILTIN_TOPICS == (
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


@pytest.mark.parametrize("lang", LANGS)
def test_every_topic_has_a_title_and_staff_topics_none(lang: str) -> None:
    titles = [topic_title(topic, lang) for topic in BUILTIN_TOPICS]
    assert all(titles) and len(set(titles)) == len(titles)
    assert topic_title("visa", lang) is None
    assert default_template("visa", QUEBEC, lang) is None


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("program_id", sorted(PROGRAMS))
@pytest.mark.parametrize("topic", BUILTIN_TOPICS)
def test_every_topic_answers_every_offer_in_valid_telegram_html(topic: str, program_id: str, lang: str) -> None:
    program = PROGRAMS[program_id]
    text = default_answer(topic, program, lang, TODAY)
    assert text, (topic, program_id, lang)
    assert check_html(text) is None, (topic, program_id, lang, text)
    assert "{" not in text and "}" not in text
    template = default_template(topic, program, lang)
    assert template is not None and check_template(template) is None


@pytest.mark.parametrize(
    ("topic", "lang", "cited"),
    [
        ("dates", "fr", ["7 mars 2022", "2 septembre 2022", "environ 6 mois", "sujettes à changement"]),
        ("dates", "en", ["March 7, 2022", "September 2, 2022", "about 6 months"]),
        ("stipend", "fr", ["13 000,00 $ CA à 15 000,00 $ CA"]),
        ("stipend", "en", ["CA$13,000.00 to CA$15,000.00"]),
        ("deadline", "fr", ["10 octobre 2021"]),
        ("deadline", "en", ["October 10, 2021"]),
        ("contact", "fr", ["+1 418 649-2400, poste 56320", "stages.oig@mri.gouv.qc.ca", "forums internationaux"]),
        ("contact", "en", ["+1 418 649-2400, ext. 56320", "stages.oig@mri.gouv.qc.ca", "International Relations"]),
        ("location", "fr", ["Genève", "télétravail"]),
        ("location", "en", ["Geneva", "Remote or on site", "selon la situation sanitaire"]),  # the offer's words
        ("languages", "fr", ["Français", "Anglais", "Espagnol (atout)"]),
        ("eligibility", "fr", ["de 18 à 35 ans le 7 mars 2022", "domicilié(e) au Québec"]),
        ("eligibility", "en", ["18 to 35 years old on March 7, 2022", "domiciled in Québec"]),
        ("renewal", "fr", ["non renouvelable"]),
        ("domain", "en", ["Labour migration"]),
        ("apply", "fr", ["stages.oig@mri.gouv.qc.ca"]),  # how to apply is not stated: ask the contact
    ],
)
def test_quebec_answers_cite_the_offer(topic: str, lang: str, cited: list[str]) -> None:
    text = answer(topic, QUEBEC, lang)
    for piece in cited:
        assert piece in text, (piece, text)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("topic", ["dates", "stipend", "deadline", "contact", "covid", "renewal", "apply"])
def test_rabat_says_what_the_offer_does_not_state_and_where_to_ask(topic: str, lang: str) -> None:
    text = answer(topic, RABAT, lang)
    assert NOT_STATED[lang] in text
    assert IOM_PAGE in text
    assert default_template(topic, RABAT, lang) == catalog(lang)[f"faq.answer.{topic}.not_stated"]


@pytest.mark.parametrize("lang", LANGS)
def test_rabat_gives_what_is_known(lang: str) -> None:
    assert "Rabat" in answer("location", RABAT, lang)
    assert NOT_STATED[lang] in answer("location", RABAT, lang)  # remote work: not stated
    skills = answer("skills", RABAT, lang)  # no skills listed: its conditions instead
    assert "20" in skills and "36" in skills
    assert "1951" in answer("organization", RABAT, lang)


def test_the_quebec_contact_is_where_to_ask_about_what_its_offer_omits() -> None:
    # The Québec offer does not say how to apply: the answer says so and gives its contact.
    text = answer("apply", QUEBEC, "en")
    assert NOT_STATED["en"] in text and "+1 418 649-2400" in text and IOM_PAGE not in text


def test_a_changed_date_changes_every_answer_citing_it() -> None:
    assert not isinstance(QUEBEC.dates, NotStated)
    moved = QUEBEC.model_copy(update={"dates": QUEBEC.dates.model_copy(update={"start": date(2022, 4, 4)})})
    for lang, old, new in (("fr", "7 mars 2022", "4 avril 2022"), ("en", "March 7, 2022", "April 4, 2022")):
        for topic in ("dates", "eligibility"):  # the age limit is counted at the start date
            before, after = answer(topic, QUEBEC, lang), answer(topic, moved, lang)
            assert old in before and old not in after and new in after


def test_a_changed_stipend_and_phone_change_their_answers() -> None:
    assert not isinstance(QUEBEC.stipend, NotStated) and not isinstance(QUEBEC.contacts, NotStated)
    stipend = QUEBEC.stipend.model_copy(update={"minimum": 14000, "maximum": 14000})
    contact = QUEBEC.contacts[0].model_copy(update={"phone": "(514) 873-2000", "extension": None})
    changed = QUEBEC.model_copy(update={"stipend": stipend, "contacts": [contact]})
    assert answer("stipend", changed, "fr") == "Allocation financière accordée : 14 000,00 $ CA."
    assert "Phone: +1 514 873-2000 Email" in answer("contact", changed, "en")


@pytest.mark.parametrize(
    ("today", "fr", "en"),
    [
        (date(2021, 9, 28), "il reste 13 jours, aujourd’hui compris", "13 days left, today included"),
        (date(2021, 10, 9), "il reste 2 jours, aujourd’hui compris", "2 days left, today included"),
        (date(2021, 10, 10), "aujourd’hui le dernier jour", "Today is the last day"),
        (date(2021, 10, 11), "fermée", "closed"),
        (date(2022, 5, 1), "fermée", "closed"),
    ],
)
def test_the_deadline_answer_knows_today(today: date, fr: str, en: str) -> None:
    assert fr in answer("deadline", QUEBEC, "fr", today)
    assert en in answer("deadline", QUEBEC, "en", today)
    assert QUEBEC.offer_open(today) == ("fermée" not in answer("deadline", QUEBEC, "fr", today))


def test_a_closed_offer_says_the_day_it_closed() -> None:
    assert "applications ended on October 10, 2021" in answer("deadline", QUEBEC, "en", date(2021, 11, 1))
    assert "ont pris fin le 10 octobre 2021" in answer("deadline", QUEBEC, "fr", date(2021, 11, 1))


@pytest.mark.parametrize("lang", LANGS)
def test_no_deadline_is_said_plainly(lang: str) -> None:
    assert NOT_STATED[lang] in to_plain(fill("{deadline_status}", RABAT, lang, TODAY))


def test_values_are_escaped_for_telegram_html() -> None:
    assert not isinstance(QUEBEC.location, NotStated)
    odd = Text(fr="Salle <3> & « R&D »", en='Room "<3>" & R&D', source="test")
    program = QUEBEC.model_copy(update={"location": QUEBEC.location.model_copy(update={"place": odd})})
    for lang in LANGS:
        text = default_answer("location", program, lang, TODAY)
        assert text is not None and check_html(text) is None
        assert odd.localized().in_language(lang) in to_plain(text)
    assert "Salle &lt;3&gt; &amp; « R&amp;D »" in (default_answer("location", program, "fr", TODAY) or "")
    assert fill('<a href="https://x.org/?q={location}">x</a>', program, "en", TODAY).count("&quot;") == 2


def test_fill_leaves_unknown_placeholders_and_stray_braces_as_written() -> None:
    assert fill("{nope} {stipend", QUEBEC, "fr", TODAY) == "{nope} {stipend"
    assert fill("{{stipend}}", QUEBEC, "en", TODAY) == "{CA$13,000.00 to CA$15,000.00}"


def test_a_value_the_offer_does_not_state_becomes_a_sentence_saying_so() -> None:
    for lang in LANGS:
        assert NOT_STATED[lang] in fill("{stipend} / {phone} / {start}", RABAT, lang, TODAY)


def test_a_line_left_empty_by_an_empty_value_is_dropped() -> None:
    assert not isinstance(QUEBEC.dates, NotStated)
    no_note = QUEBEC.model_copy(update={"dates": QUEBEC.dates.model_copy(update={"note": None})})
    text = default_answer("dates", no_note, "en", TODAY)
    assert text == "<b>Internship dates</b>: from March 7, 2022 to September 2, 2022 (about 6 months)."
    assert fill("a\n\n{dates_note}\nb", no_note, "en", TODAY) == "a\n\nb"


def test_every_placeholder_has_a_value_and_a_help_line() -> None:
    assert set(VALUES) == set(PLACEHOLDERS)


@pytest.mark.parametrize("name", sorted(PLACEHOLDERS))
def test_every_placeholder_gives_a_value_for_every_offer(name: str) -> None:
    for program in PROGRAMS.values():
        for lang in LANGS:
            value = fill(f"{{{name}}}", program, lang, TODAY)
            assert value and check_html(value) is None, (name, program.id, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_staff_get_a_help_line_per_placeholder(lang: str) -> None:
    lines = placeholder_help(lang)
    assert len(lines) == len(PLACEHOLDERS)
    assert all(line.startswith("{") and len(line) > len("{x} — ") + 3 for line in lines)


def test_phone_numbers_get_their_country_code() -> None:
    assert format_phone("418 649-2400") == "+1 418 649-2400"
    assert format_phone("(514) 873.2000") == "+1 514 873-2000"
    assert format_phone("+41 22 717 91 11") == "+41 22 717 91 11"
    assert format_phone("022 717 91 11") == "022 717 91 11"  # a trunk 0: not North American, kept


GOOD_STAFF_TEXT = [
    "<b>Allocation</b> : {stipend}. Écrivez à {email} &amp; voyez https://www.iom.int.",
    "{dates}\n{deadline_status}\n\n<i>{where_to_ask}</i>",
    '<a href="https://www.quebec.ca/emploi">Offres</a> — {title}',
    "Aucun champ, du texte seulement.",
    "{dates_note}",  # empty for an offer without a note, but both shipped offers give a text
]


@pytest.mark.parametrize("text", GOOD_STAFF_TEXT)
def test_check_template_accepts_good_staff_text(text: str) -> None:
    assert check_template(text) is None


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("<p>Allocation</p> : {stipend}", "faq.template.unsupported_tag"),
        ("<b>Allocation : {stipend}", "faq.template.unclosed_tag"),
        ("<b><i>{stipend}</b></i>", "faq.template.mismatched_end_tag"),
        ("Salaire &euro; {stipend}", "faq.template.bad_entity"),
        ("Études & stage", "faq.template.bad_entity"),
        ("moins de 2 ans < 3 ans", "faq.template.stray_lt"),
        ('<a href="tel:+14186492400">Appelez</a>', "faq.template.bad_link"),
        ("", "faq.template.empty"),
        ("Salaire : {salaire}", "faq.template.unknown_placeholder"),
        ("Allocation : {stipend", "faq.template.unbalanced_brace"),
        ("Allocation : stipend}", "faq.template.unbalanced_brace"),
        ("{duties}\n{duties}\n{duties}", "faq.template.too_long"),  # short as written, too long once filled
    ],
)
def test_check_template_refuses_each_kind_of_bad_text(text: str, key: str) -> None:
    problem = check_template(text)
    assert problem is not None
    assert problem.key == key


def test_the_refusal_names_the_problem_in_the_staff_members_language() -> None:
    problem = check_template("Salaire : {salaire}")
    assert problem is not None
    assert "{salaire}" in render(problem, "fr") and "{stipend}" in render(problem, "fr")
    assert render(problem, "fr") != render(problem, "en")
    too_long = check_template("{duties}\n{duties}\n{duties}")
    assert too_long is not None and too_long.params["length"] > MAX_LENGTH
    assert str(MAX_LENGTH) in render(too_long, "en").replace(",", "")


def test_length_is_checked_against_the_offers_given() -> None:
    assert check_template("{duties}\n{duties}\n{duties}", [RABAT]) is None


def _french_typography_problems(text: str) -> list[str]:
    problems = []
    if "'" in re.sub(r"<[^>]*>", "", text):
        problems.append("ASCII apostrophe")
    if re.search(r"(?<!\u00a0):", re.sub(r"<[^>]*>|\w+://\S*", "", text)):
        problems.append("a colon without NBSP before it")
    if re.search(r"\s[?!]", text):
        problems.append("space before ? or !")
    if re.search(r"« |«(?!\u00a0)| »", text):
        problems.append("guillemets without NBSP")
    return problems


def test_the_french_entries_read_as_a_quebec_reader_expects() -> None:
    french = catalog("fr")
    bad = {
        key: problems
        for key, text in french.items()
        if key.startswith("faq.") and key.split(".")[1] in ("topic", "answer", "value", "template")
        if (problems := _french_typography_problems(text))
    }
    assert bad == {}


def test_answers_stay_short_enough_for_a_phone() -> None:
    long_lists = {"duties", "skills"}
    for program in PROGRAMS.values():
        for lang in LANGS:
            for topic in BUILTIN_TOPICS:
                length = len(answer(topic, program, lang))
                assert length <= (MAX_LENGTH if topic in long_lists else 900), (topic, program.id, lang, length)
