"""What the engine says, channel-neutral: channels render these into their own messages."""

from __future__ import annotations

from dataclasses import dataclass

from rules import Localized, Message, ProgramResult

Label = Message | Localized


@dataclass(frozen=True)
class Button:
    """A closed choice: `id` is stable (`<step>:<value>`) and survives restarts and redeploys."""

    id: str
    label: Label


@dataclass(frozen=True)
class Say:
    """A sentence to show."""

    message: Message


@dataclass(frozen=True)
class Ask:
    """The pending question (or menu) with its buttons; `step` is the question's stable id."""

    step: str
    message: Message
    buttons: tuple[Button, ...] = ()
    hint: Message | None = None
    progress: tuple[int, int] | None = None


@dataclass(frozen=True)
class VerdictCard:
    """One offer's verdict: status, each criterion's explanation, assets, open or closed."""

    result: ProgramResult


@dataclass(frozen=True)
class QuotesCard:
    """The offer's own words behind each criterion of a verdict."""

    result: ProgramResult


@dataclass(frozen=True)
class AnswerBlock:
    """One offer's part of an answer: Telegram HTML (staff text or built from the offer's data)."""

    html: str
    heading: Label | None = None


@dataclass(frozen=True)
class FaqAnswer:
    """An answer to a person's question, already in their language: one block per offer.

    `intro` says something before the blocks (e.g. that there is no sure answer, and whom to ask).
    """

    topic: str
    title: Label | None
    blocks: tuple[AnswerBlock, ...]
    intro: Message | None = None


FAQ_STEP = "faq"  # the step of "did you mean" buttons (`faq:<topic>`), valid whatever is pending


@dataclass(frozen=True)
class Suggestions:
    """ "Did you mean ...?": topics as buttons (`faq:<topic>`), for a question matched without confidence."""

    buttons: tuple[Button, ...]


@dataclass(frozen=True)
class Unanswered:
    """A question the bot could not answer, for staff to see (the text is the person's question)."""

    text: str


Output = Say | Ask | VerdictCard | QuotesCard | FaqAnswer | Suggestions | Unanswered
