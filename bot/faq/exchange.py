"""The FAQ file of `python -m bot faq export|import`: its format, its validation, what importing it changes.

The file is YAML for staff who prefer a text editor to `/faq`: every topic, the staff answers live
per offer (or for all offers) in both languages, staff topics' titles and example questions. The
format is explained in the comments at the top of every exported file (`HEADER`). Validation is
strict and stops at the first problem with one line naming its place:
`faq.yaml: topics.stipend.answers.quebec-psoig-2021-023.fr: <reason>`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rules import Program

from ..errors import InputError
from ..i18n import render
from . import store
from .answers import BUILTIN_TOPICS, check_template, default_template, placeholder_help, topic_title

ALL_OFFERS_KEY = "all offers"  # not an offer id (ids have no space): the answer for every offer without its own
BUILT_IN = "built-in"  # instead of the texts: go back to the built-in answer
TOPIC_ID = re.compile(r"[a-z][a-z0-9_]{1,31}")
LANGS = ("fr", "en")
Texts = tuple[str | None, str | None]  # (French, English); (None, None): the built-in answer

HEADER = """\
# FAQ answers of the internship bot, as staff published them (`python -m bot faq export`).
#
# Edit this file, then check and publish it:
#   python -m bot faq import FILE.yaml --dry-run   prints what would change, changes nothing
#   python -m bot faq import FILE.yaml             publishes every change at once, or none
#
# topics: one entry per topic id. The fourteen built-in topics are always listed (their titles,
#   in the comment above each, come from the bot's catalogs). A new id (2 to 32 lowercase letters,
#   digits or _, starting with a letter) creates a topic: give it `title: {fr: ..., en: ...}`.
#   A topic's title cannot be changed here, nor a topic removed.
# answers: by offer id, or "all offers" for every offer without an answer of its own. Each gives
#   `fr` and `en` together, in Telegram HTML (<b>, <i>, <u>, <a href="https://...">; write &amp;
#   for &, &lt; for <) with {placeholders} replaced by the offer's data. An offer not listed keeps
#   the answer it has: the built-in one, written from the offer file, unless staff published
#   another. Write `built-in` instead of the two texts to go back to the built-in answer. An
#   answer identical to the live one is not published again.
# examples: example questions by language; they teach the bot to recognise the topic. Examples
#   can be added here, not removed.
"""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _Titles(_Strict):
    fr: str
    en: str


class AnswerTexts(_Strict):
    fr: str | None = None
    en: str | None = None


class _Examples(_Strict):
    fr: list[str] = Field(default_factory=list)
    en: list[str] = Field(default_factory=list)


class _Topic(_Strict):
    title: _Titles | None = None
    answers: dict[str, AnswerTexts | Literal["built-in"]] = Field(default_factory=dict)
    examples: _Examples = Field(default_factory=_Examples)


class _File(_Strict):
    topics: dict[str, _Topic]


@dataclass(frozen=True)
class TopicFile:
    """One topic of a validated file: texts stripped, examples without repeats."""

    id: str
    titles: tuple[str, str] | None
    answers: dict[str | None, Texts]  # offer id (None: all offers) -> texts
    examples: tuple[tuple[str, str], ...]  # (lang, question)


# --- reading ---------------------------------------------------------------------------------


class UniqueKeyLoader(yaml.SafeLoader):
    """YAML that refuses a key given twice in a mapping (PyYAML would keep the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str | int | float | bool):
                continue  # refused by the validation
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"{key!r} given twice in the same mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


def parse(text: str, source: str, programs: Mapping[str, Program]) -> list[TopicFile]:
    """The topics of a file, validated against the offers; `InputError` with one line otherwise."""
    try:
        raw = yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" line {mark.line + 1}:" if mark is not None else ""
        problem = getattr(error, "problem", None) or "cannot parse"
        raise InputError(f"{source}:{line} not valid YAML: {problem}") from None
    if raw is None:
        raise InputError(f"{source}: empty; expected `topics:` and the topics under it")
    try:
        model = _File.model_validate(raw)
    except ValidationError as error:
        raise InputError(f"{source}: {_first_problem(error)}") from None
    return [_topic(source, topic, entry, programs) for topic, entry in model.topics.items()]


_UNION_TAGS = {"AnswerTexts", "literal['built-in']"}
_EXPECTED = {
    "extra_forbidden": "unknown key",
    "missing": "missing",
    "string_type": "expected text",
    "dict_type": "expected a mapping (key: value)",
    "model_type": "expected a mapping (key: value)",
    "list_type": "expected a list",
}


def _first_problem(error: ValidationError) -> str:
    """Pydantic's first error as `where: what`, without the union's inner names; an unknown key first
    (a misspelt key also makes the right one missing)."""
    items = [item for item in error.errors() if "literal['built-in']" not in item["loc"]]  # the other branch says more
    items.sort(key=lambda item: item["type"] != "extra_forbidden")
    for item in items:
        loc = [part for part in item["loc"] if part not in _UNION_TAGS]
        what = _EXPECTED.get(item["type"], str(item["msg"]))
        if "AnswerTexts" in item["loc"] and len(loc) == 4 and item["type"] == "model_type":
            what = f"expected fr and en texts, or {BUILT_IN}"
        if not loc:
            return "expected a mapping with `topics:` at the top"
        if loc[-1] == "[key]":
            return f"{'.'.join(str(part) for part in loc[:-1])}: {what} as a key"
        return f"{''.join(f'[{part}]' if isinstance(part, int) else f'.{part}' for part in loc).lstrip('.')}: {what}"
    return str(error).splitlines()[0]


def _topic(source: str, topic: str, entry: _Topic, programs: Mapping[str, Program]) -> TopicFile:
    where = f"{source}: topics.{topic}"
    if not TOPIC_ID.fullmatch(topic) or topic.startswith("help"):
        raise InputError(
            f"{where}: not a topic id; expected 2 to 32 lowercase letters, digits or _, starting with a letter"
            " (not with help, kept for the dialog's questions)"
        )
    titles = None
    if entry.title is not None:
        if topic in BUILTIN_TOPICS:
            raise InputError(f"{where}.title: a built-in topic's title comes from the catalogs; remove it")
        titles = (_title(f"{where}.title.fr", entry.title.fr), _title(f"{where}.title.en", entry.title.en))
    answers: dict[str | None, Texts] = {}
    for key, texts in entry.answers.items():
        if key == ALL_OFFERS_KEY:
            program_id, offers = store.ALL_OFFERS, list(programs.values())
        elif key in programs:
            program_id, offers = key, [programs[key]]
        else:
            known = ", ".join([f'"{ALL_OFFERS_KEY}"', *programs])
            raise InputError(f"{where}.answers.{key}: unknown offer; expected one of {known}")
        answers[program_id] = _texts(f"{where}.answers.{key}", texts, offers)
        if answers[program_id] == (None, None) and program_id is None and topic not in BUILTIN_TOPICS:
            raise InputError(f"{where}.answers.{key}: a staff topic has no built-in answer to go back to")
    examples: list[tuple[str, str]] = []
    for lang in LANGS:
        for index, question in enumerate(getattr(entry.examples, lang)):
            clean = " ".join(question.split())
            if not clean or len(clean) > store.MAX_EXAMPLE:
                raise InputError(
                    f"{where}.examples.{lang}[{index}]: expected a question of 1 to {store.MAX_EXAMPLE} characters"
                )
            if (lang, clean) not in examples:
                examples.append((lang, clean))
    return TopicFile(topic, titles, answers, tuple(examples))


def _title(where: str, title: str) -> str:
    clean = title.strip()
    if store.title_problem(clean):
        raise InputError(f"{where}: expected one line of 1 to {store.MAX_TITLE} characters, without < > & {{ }}")
    return clean


def _texts(where: str, texts: AnswerTexts | str, offers: Sequence[Program]) -> Texts:
    if not isinstance(texts, AnswerTexts):
        return (None, None)  # `built-in`
    if texts.fr is None and texts.en is None:
        raise InputError(f"{where}: expected fr and en texts, or {BUILT_IN}")
    pair: list[str] = []
    for lang, other in (("fr", "en"), ("en", "fr")):
        text = getattr(texts, lang)
        if text is None:
            raise InputError(f"{where}.{lang}: missing; an answer is published in both languages, {other} and {lang}")
        problem = check_template(text.strip(), offers)
        if problem is not None:
            raise InputError(f"{where}.{lang}: {' '.join(render(problem, 'en').split())}")
        pair.append(text.strip())
    return (pair[0], pair[1])


# --- comparing with what is live ----------------------------------------------------------------


@dataclass(frozen=True)
class AnswerChange:
    topic: str
    program_id: str | None
    before: store.Published | None  # None: nothing published for this (topic, offer) yet
    after: Texts


@dataclass
class Changes:
    """What an import publishes, in the order it does it."""

    topics: list[tuple[str, tuple[str, str]]] = field(default_factory=list)
    answers: list[AnswerChange] = field(default_factory=list)
    examples: list[store.StaffExample] = field(default_factory=list)

    def summary(self) -> str:
        counts = ((len(self.topics), "new topic"), (len(self.answers), "answer"), (len(self.examples), "new example"))
        return ", ".join(f"{n} {what}{'' if n == 1 else 's'}" for n, what in counts)

    def __bool__(self) -> bool:
        return bool(self.topics or self.answers or self.examples)


def changes(source: str, topics: Sequence[TopicFile], content: store.FaqContent) -> Changes:
    """What differs from the live content; a file that cannot apply to it raises `InputError`."""
    found = Changes()
    known_examples = {(e.topic, e.lang, e.text) for e in content.examples}
    for topic in topics:
        staff_titles = content.topics.get(topic.id)
        if topic.id not in BUILTIN_TOPICS and staff_titles is None:
            if topic.titles is None:
                raise InputError(f"{source}: topics.{topic.id}.title: missing; a new topic needs a title in fr and en")
            found.topics.append((topic.id, topic.titles))
        elif staff_titles is not None and topic.titles not in (None, staff_titles):
            raise InputError(
                f"{source}: topics.{topic.id}.title: differs from the live title {staff_titles[0]!r} / "
                f"{staff_titles[1]!r}; titles cannot be changed by import"
            )
        for program_id, after in topic.answers.items():
            before = content.answers.get((topic.id, program_id))
            live = (before.text_fr, before.text_en) if before is not None else (None, None)
            if after != live:
                found.answers.append(AnswerChange(topic.id, program_id, before, after))
        for lang, question in topic.examples:
            if (topic.id, lang, question) not in known_examples:
                found.examples.append(store.StaffExample(topic.id, lang, question))
    return found


def describe(found: Changes, source: str, programs: Mapping[str, Program]) -> Iterator[str]:
    """The differences as a person reviews them: new topics, a unified diff per changed text, new examples."""
    for topic, (fr, en) in found.topics:
        yield f"+ topic {topic}: {fr} / {en}"
    for change in found.answers:
        offer = ALL_OFFERS_KEY if change.program_id is None else change.program_id
        program = None if change.program_id is None else programs[change.program_id]
        for index, lang in enumerate(LANGS):
            old_text = change.before.text(lang) if change.before is not None else None
            new_text = change.after[index]
            if old_text == new_text:
                continue
            old, old_label = _shown(old_text, change.topic, program, lang)
            new, new_label = _shown(new_text, change.topic, program, lang)
            if change.before is not None and old_text is not None:
                old_label = f"revision {change.before.revision}"
            if new_text is not None:
                new_label = source
            where = f"{change.topic}/{offer}/{lang}"
            yield from difflib.unified_diff(
                old.splitlines(), new.splitlines(), f"{where} ({old_label})", f"{where} ({new_label})", lineterm=""
            )
    for example in found.examples:
        yield f"+ example {example.topic} ({example.lang}): {example.text}"


def _shown(text: str | None, topic: str, program: Program | None, lang: str) -> tuple[str, str]:
    """A text to compare, and its label: staff text, or the built-in template it stands for."""
    if text is not None:
        return text, "staff text"
    if program is None:
        return "", "built-in answer of each offer"
    return default_template(topic, program, lang) or "", "built-in answer"


# --- writing -------------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Multi-line texts as literal blocks (`|-`), as staff would write them."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _text)


def export(content: store.FaqContent, programs: Mapping[str, Program]) -> tuple[str, list[str]]:
    """The file for the live content, and what could not be written (answers of offers gone)."""
    skipped: list[str] = []
    topics = [*BUILTIN_TOPICS, *(t for t in content.topics if t not in BUILTIN_TOPICS)]
    for topic, program_id in content.answers:
        if topic not in topics or (program_id is not None and program_id not in programs):
            skipped.append(f"{topic}/{program_id}")
    parts = [HEADER, _offers_comment(programs), _placeholders_comment(), "topics:\n"]
    for topic in topics:
        parts.append(_topic_text(topic, content, programs))
    return "".join(parts), skipped


def _offers_comment(programs: Mapping[str, Program]) -> str:
    width = max(len(p) for p in programs)
    lines = [f"#   {pid:<{width}}  {p.title.localized().in_language('en')}" for pid, p in programs.items()]
    return "#\n# Offers:\n" + "\n".join(lines) + "\n"


def _placeholders_comment() -> str:
    lines = (f"#   {line}" for line in placeholder_help("en"))
    return "#\n# Placeholders, replaced by the offer's data formatted for each language:\n" + "\n".join(lines) + "\n\n"


def _topic_text(topic: str, content: store.FaqContent, programs: Mapping[str, Program]) -> str:
    body: dict[str, Any] = {}
    staff_titles = content.topics.get(topic)
    if staff_titles is not None and topic not in BUILTIN_TOPICS:
        body["title"] = {"fr": staff_titles[0], "en": staff_titles[1]}
        comment = f"{staff_titles[0]} / {staff_titles[1]} (staff topic)"
    else:
        comment = f"{topic_title(topic, 'fr')} / {topic_title(topic, 'en')} (built-in)"
    answers: dict[str, dict[str, str]] = {}
    for program_id in (store.ALL_OFFERS, *programs):
        published = content.answers.get((topic, program_id))
        if published is not None and published.text_fr is not None and published.text_en is not None:
            answers[ALL_OFFERS_KEY if program_id is None else program_id] = {
                "fr": published.text_fr,
                "en": published.text_en,
            }
    if answers:
        body["answers"] = answers
    examples = {
        lang: list(  # not people's own questions: their erasure could not reach a copy in a file
            dict.fromkeys(
                e.text for e in content.examples if e.topic == topic and e.lang == lang and not e.from_question
            )
        )
        for lang in LANGS
    }
    if any(examples.values()):
        body["examples"] = {lang: questions for lang, questions in examples.items() if questions}
    dumped = yaml.dump({topic: body}, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1_000_000)
    indented = "".join(f"  {line}" if line.strip() else line for line in dumped.splitlines(keepends=True))
    return f"\n  # {comment}\n{indented}"
