"""FAQ matching as a person meets it: their spelling, their language, their small talk, their answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.faq.matcher import DEFAULT_PATH, Example, Match, Matcher, MatchingData, load_matching_data
from bot.faq.normalize import fold

DATA = load_matching_data()
MATCHER = Matcher.build(DATA)
BUILTIN = ("dates", "stipend", "location", "deadline", "contact", "duties", "skills", "languages", "eligibility",
           "apply", "covid", "organization", "renewal", "domain")  # fmt: skip


def topic_of(text: str, lang: str | None = None) -> str | None:
    return MATCHER.match(text, lang).topic


def test_every_built_in_topic_and_every_dialog_fact_has_examples() -> None:
    facts = ("birth_date", "education", "highest_degree", "graduation_date", "relevant_experience_years",
             "iom_interest", "citizenship", "quebec_domicile", "quebec_resident_since", "french_writing",
             "english_writing", "prior_psoig_internship", "spanish", "field_of_study")  # fmt: skip
    expected = {*BUILTIN, *(f"help:{fact}" for fact in facts), "help:pending"}
    assert expected <= MATCHER.topics
    assert "" not in MATCHER.topics
    for topic in expected:
        langs = {e.lang for e in DATA.examples if e.topic == topic}
        assert langs == {"fr", "en"}, topic


@pytest.mark.parametrize(
    ("variants", "topic"),
    [
        (
            ["C’est quoi l’allocation?", "c koi l'allocation", "CEST QUOI LALLOCATION", "c quoi l allocation !!!"],
            "stipend",
        ),
        (["Quand commence le stage?", "qd commence le stage", "QUAND COMMENCE LE STAGE", "kan ca commence"], "dates"),
        (["Où se déroule le stage?", "ou se deroule le stage", "c ou le stage svp"], "location"),
        (
            ["Jusqu’à quand puis-je postuler?", "jusqua quand je peux postuler", "jusqu'a qd on peut postuler"],
            "deadline",
        ),
        (["who do I contact?", "who do i contact", "WHO DO U CONTACT", "who should i contact pls"], "contact"),
        (["is it remote?", "is it remote", "IS IT REMOTE???", "r u remote or on site"], "location"),
        (["Est-ce que je dois parler l’espagnol?", "jdois parler espagnol?", "faut parler espagnol stp"], "languages"),
        (["What is IOM?", "wat is the I.O.M.", "c koi l'OIM"], "organization"),
    ],
)
def test_accents_case_punctuation_elisions_and_sms_spellings_do_not_matter(variants: list[str], topic: str) -> None:
    assert [topic_of(text) for text in variants] == [topic] * len(variants)


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("salaire?", "stipend"),
        ("is the internship paid", "stipend"),
        ("combien de temps dure le stage", "dates"),
        ("how long does the internship last", "dates"),
        ("c quoi la date limite", "deadline"),
        ("is it too late to apply", "deadline"),
        ("qu'est-ce que je vais faire comme stagiaire", "duties"),
        ("what will I do as an intern", "duties"),
        ("faut-il être citoyen canadien", "eligibility"),
        ("do I need to be Canadian", "eligibility"),
        ("comment postuler", "apply"),
        ("how do I apply", "apply"),
        ("faut-il être vacciné", "covid"),
        ("can I do it a second time", "renewal"),
        ("le stage porte sur quel thème", "domain"),
        ("what experience do I need", "skills"),
    ],
)
def test_a_question_in_either_language_finds_its_topic(text: str, topic: str) -> None:
    assert topic_of(text) == topic


def test_a_typo_still_finds_the_topic() -> None:
    assert topic_of("c'est quoi la remunerasion") == "stipend"
    assert topic_of("whens the dedline") == "deadline"
    assert topic_of("quelles sont les competances requises") == "skills"


@pytest.mark.parametrize(
    "answer", ["oui", "non", "15 mars 1998", "1998-03-15", "2", "0", "1,5", "non merci", "maîtrise",
               "Maîtrise en cours", "canadian", "Canadienne", "résident permanent", "excellent", "yes", "no thanks",
               "March 15, 1998", "droit", "international relations", "je suis canadien", "since 2010"],
)  # fmt: skip
def test_answers_to_dialog_questions_never_match_a_topic(answer: str) -> None:
    match = MATCHER.match(answer)
    assert match.topic is None and match.alternatives == (), match


@pytest.mark.parametrize(
    "text", ["tu es un robot?", "are you a robot?", "quel temps fait-il à Montréal?", "what's the weather today",
             "raconte-moi une blague", "tell me a joke", "t'es vraiment nul", "you are stupid", "salut ça va?",
             "hi how are you?", "combien font 12 fois 12", "what's 7 times 8", "avez-vous des emplois chez Desjardins?",
             "do you have jobs at Amazon?", "ma blonde m'a laissé", "what's your favourite movie"],
)  # fmt: skip
def test_out_of_scope_gets_no_topic_and_no_suggestion(text: str) -> None:
    match = MATCHER.match(text)
    assert match.topic is None and match.alternatives == (), match


@pytest.mark.parametrize("text", ["", "   ", "😀", "👍👍", "???", "!!!", "\x00", "ـ", "漢字"])
def test_nothing_to_match_gives_no_match(text: str) -> None:
    assert MATCHER.match(text) == Match(None, 0.0, ())


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.sampled_from(["fr", "en", None]))
def test_match_never_raises_and_scores_stay_between_0_and_1(text: str, lang: str | None) -> None:
    match = MATCHER.match(text, lang)
    assert 0.0 <= match.score <= 1.0
    assert len(match.alternatives) <= 3
    assert all(DATA.suggest_threshold <= s.score <= match.score for s in match.alternatives)
    assert match.topic is None or (match.topic in MATCHER.topics and match.score >= DATA.answer_threshold)
    assert match.topic not in {s.topic for s in match.alternatives}


def test_a_vague_question_offers_choices_best_first_instead_of_guessing() -> None:
    match = MATCHER.match("money or dates?", "en")
    offered = {match.topic, *(s.topic for s in match.alternatives)}
    assert {"stipend", "dates"} <= offered, match
    scores = [s.score for s in match.alternatives]
    assert scores == sorted(scores, reverse=True)


def test_every_shipped_example_matches_its_own_topic() -> None:
    """A data check: no example is claimed by another topic, or drowned by an out-of-scope one. (A
    few are ambiguous on purpose, "what are the requirements": then their topic is offered first.)"""

    def match(example: Example) -> Match:
        fact = example.topic.removeprefix("help:")
        return MATCHER.match(example.text, pending=fact if example.topic.startswith("help:") else None)

    def ranked_first(example: Example) -> str | None:
        found = match(example)
        return found.topic or (found.alternatives[0].topic if found.alternatives else None)

    wrong = [(e.topic, e.text, ranked_first(e)) for e in DATA.examples if ranked_first(e) != e.topic]
    assert wrong == []
    direct = sum(match(e).topic == e.topic for e in DATA.examples)
    assert direct >= 0.98 * len(DATA.examples)


def test_staff_examples_teach_new_phrasings_and_new_topics() -> None:
    question = "est-ce que je peux amener mon chien?"
    assert topic_of(question) != "location"
    staff = [Example("location", "fr", question), Example("parking", "fr", "Y a-t-il un stationnement?"),
             Example("parking", "en", "Is there parking?")]  # fmt: skip
    taught = Matcher.build(DATA, staff)
    assert taught.match(question).topic == "location"
    assert taught.match("y a t il un stationnement").topic == "parking"
    assert "parking" in taught.topics and "parking" not in MATCHER.topics


def test_staff_out_of_scope_examples_silence_a_topic() -> None:
    question = "quel est le code vestimentaire au bureau?"
    taught = Matcher.build(DATA, [Example("", "fr", question)])
    assert taught.match(question).topic is None and taught.match(question).alternatives == ()


def test_the_language_given_does_not_change_the_topic() -> None:
    for text in ("how much is the stipend?", "c koi l'allocation", "where is it"):
        assert topic_of(text, "fr") == topic_of(text, "en") == topic_of(text)


def test_an_empty_matcher_matches_nothing() -> None:
    empty = MatchingData(examples=(), out_of_scope=(), answer_threshold=0.5, suggest_threshold=0.3)
    assert Matcher.build(empty).match("salaire?") == Match(None, 0.0, ())
    assert Matcher.build(empty).topics == frozenset()


def test_fold_removes_accents_and_case_but_keeps_words() -> None:
    assert fold("Élève CŒUR Québec") == "eleve coeur quebec"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "matching.yaml"
    path.write_text(DEFAULT_PATH.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("addition", "named"),
    [
        ("answer_threshold: 2", "answer_threshold"),
        ("answer_threshold: 0", "answer_threshold"),
        ("weights: {centroid: 1.5}", "weights.centroid"),
        ("concept_weights: {bot: -1}", "concept_weights.bot"),
        ("suggest_threshold: 0.9", "suggest_threshold"),
        ("stop_words: [le, yes, la]", "stop_words[1]"),
        ("weights: {word: high}", "weights.word"),
        ("weights: {wrods: 1}", "weights"),
        ("concept_weights: {nonsense: 2}", "concept_weights.nonsense"),
        ("abbreviations: {koi: [quoi]}", "abbreviations.koi"),
        ("topics: {Dates: {fr: [quand?]}}", "topics.Dates"),
        ("topics: {dates: {de: [wann?]}}", "topics.dates"),
        ("topics: {dates: {fr: [quand?, 2021-10-10]}}", "topics.dates.fr[1]"),
        ("synonyms: {money: salaire}", "synonyms.money"),
        ("colour: blue", "colour"),
    ],
)
def test_a_bad_data_file_is_refused_with_one_line_naming_the_key(tmp_path: Path, addition: str, named: str) -> None:
    with pytest.raises(ValueError, match=r"^matching\.yaml: ") as raised:
        load_matching_data(write(tmp_path, addition))
    message = str(raised.value)
    assert "\n" not in message and f" {named}: " in message, message


def test_an_unreadable_data_file_is_refused_with_one_line(tmp_path: Path) -> None:
    for text in ("topics: [unclosed", "- just\n- a list"):
        path = tmp_path / "matching.yaml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ValueError, match=r"^matching\.yaml: [^\n]+$"):
            load_matching_data(path)
    with pytest.raises(ValueError, match=r"^missing\.yaml: cannot read"):
        load_matching_data(tmp_path / "missing.yaml")
