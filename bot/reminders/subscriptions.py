"""Opting in to deadline reminders and out of them: the buttons `remind:on:<offer>`,
`remind:off:<offer>`, `remind:off:*` and the `/reminders` command, the same on every channel.

A subscription is a row (`subscriptions`, topic `deadline`) kept only for someone who accepted the
privacy notice. Opting out also cancels what is already queued for the person (`_stop`,
`_stop_all`). A press from someone the bot does not know (an old reminder's button after
/forget) is answered without keeping anything: the turn drops the row it made. Forged offer ids,
closed offers and offers without a deadline change nothing and say why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rules import N_, Message, Program, Quantity

from ..broadcasts.message import STOP_ALL
from ..config import RemindersConfig
from ..i18n import render
from ..render import Rendered, RenderedButton
from ..services.effects import Effect, Reply
from ..storage.bulk import cancel_queued
from ..storage.leases import dialect_insert
from ..storage.models import Person, Subscription
from .schedule import Schedule, schedule

TOPIC = "deadline"
COMMAND = "reminders"
BUTTON = "remind"  # remind:on:<offer>, remind:off:<offer>, remind:off:*
ALL = "*"
BUTTON_BYTES = 64  # the longest button id Telegram carries (callback data)
KEY_PREFIX = "reminder:"  # reminder rows are keyed reminder:<offer>:<deadline>:<days before>
UNSUBSCRIBED = "unsubscribed"  # the error of a queued row cancelled because its person opted out


@dataclass(frozen=True)
class Offers:
    """The live offers and how their reminders are scheduled."""

    programs: Mapping[str, Program]
    defaults: RemindersConfig
    zone: str  # the configured time zone, for deadlines that state none

    def schedule(self, program: Program) -> Schedule | None:
        return schedule(program, self.defaults, self.zone)


def is_button(value: str) -> bool:
    return value.startswith(f"{BUTTON}:")


def on_button(program_id: str) -> str:
    return f"{BUTTON}:on:{program_id}"


def off_button(program_id: str) -> str:
    return f"{BUTTON}:off:{program_id}"


def _button(data: str, key: str, lang: str, program: Program | None = None) -> tuple[RenderedButton, ...]:
    """One button, or none when its id would not fit Telegram's callback data (a very long offer id)."""
    if len(data.encode()) > BUTTON_BYTES:
        return ()
    params = {} if program is None else {"title": program.short_title.localized()}
    return (RenderedButton(data, render(Message(key, params), lang)),)


def _say(key: str, lang: str, **params: object) -> list[Effect]:
    return [Reply(Rendered(render(Message(key, params), lang)))]


async def subscribed(session: AsyncSession, person_id: int) -> set[str]:
    """The offers the person asked to be reminded of."""
    query = select(Subscription.program_id).where(Subscription.person_id == person_id, Subscription.topic == TOPIC)
    return set((await session.execute(query)).scalars())


def offer_after_verdict(
    judged: Iterable[Program], person: Person, mine: set[str], lang: str, offers: Offers, at: datetime
) -> list[Effect]:
    """After a verdict: for each judged offer whose deadline is ahead, a button to be reminded
    (or to stop, for someone already subscribed). Nothing for someone without consent."""
    if person.consent_version is None:
        return []
    buttons: list[RenderedButton] = []
    for judged_program in judged:
        program = offers.programs.get(judged_program.id, judged_program)
        plan = offers.schedule(program)
        if plan is None or not plan.open_at(at):
            continue
        if program.id in mine:
            buttons += _button(off_button(program.id), N_("reminders.button.off"), lang, program)
        else:
            buttons += _button(on_button(program.id), N_("reminders.button.on"), lang, program)
    if not buttons:
        return []
    return [Reply(Rendered(render(N_("reminders.offer"), lang), buttons=tuple(buttons)))]


async def listing(session: AsyncSession, person: Person, lang: str, offers: Offers, at: datetime) -> list[Effect]:
    """`/reminders`: every offer with its deadline and the person's choice, with on/off buttons."""
    consented = person.consent_version is not None
    mine = await subscribed(session, person.id) if consented else set()
    lines: list[str] = []
    buttons: list[RenderedButton] = []
    for program in offers.programs.values():
        title = program.short_title.localized()
        plan = offers.schedule(program)
        if plan is None:
            lines.append(render(Message(N_("reminders.list.no_deadline"), {"title": title}), lang))
            continue
        params = {"title": title, "deadline": plan.deadline}
        if not plan.open_at(at):
            lines.append(render(Message(N_("reminders.list.closed"), params), lang))
            if program.id in mine:  # a subscription to a closed offer can still be ended
                buttons += _button(off_button(program.id), N_("reminders.button.off"), lang, program)
            continue
        state = N_("reminders.list.on") if program.id in mine else N_("reminders.list.off")
        lines.append(render(Message(state, params), lang))
        if not consented:
            continue
        if program.id in mine:
            buttons += _button(off_button(program.id), N_("reminders.button.off"), lang, program)
        else:
            buttons += _button(on_button(program.id), N_("reminders.button.on"), lang, program)
    if mine:
        buttons += _button(STOP_ALL, N_("reminders.button.stop_all"), lang)
    if not consented:
        lines += ["", render(N_("reminders.need_consent"), lang)]
    heading = render(N_("reminders.list.title"), lang)
    return [Reply(Rendered("\n".join(lines), heading=heading, buttons=tuple(buttons)))]


async def press(
    session: AsyncSession, person: Person, value: str, lang: str, offers: Offers, at: datetime
) -> list[Effect]:
    """A reminder button; never raises on anything a person can send (a forged id changes nothing)."""
    _, _, rest = value.partition(":")
    action, _, program_id = rest.partition(":")
    if action == "off" and program_id == ALL:
        return await _stop_all(session, person, lang)
    if action not in ("on", "off") or not program_id:
        return _say(N_("reminders.unknown"), lang)
    program = offers.programs.get(program_id)
    if action == "off":
        return await _stop(session, person, program_id, program, lang)
    if program is None:
        return _say(N_("reminders.unknown"), lang)
    return await _start(session, person, program, lang, offers, at)


async def _start(
    session: AsyncSession, person: Person, program: Program, lang: str, offers: Offers, at: datetime
) -> list[Effect]:
    title = program.short_title.localized()
    plan = offers.schedule(program)
    if plan is None:
        return _say(N_("reminders.no_deadline"), lang, title=title)
    if not plan.open_at(at):
        return _say(N_("reminders.closed"), lang, title=title, deadline=plan.deadline)
    if person.consent_version is None:  # someone unknown, or who declined: nothing is kept
        return _say(N_("reminders.need_consent"), lang)
    added = await session.execute(
        dialect_insert(session)(Subscription)
        .values(person_id=person.id, program_id=program.id, topic=TOPIC, created_at=at)
        .on_conflict_do_nothing(index_elements=["person_id", "program_id", "topic"])
        .returning(Subscription.id)
    )
    if added.scalar_one_or_none() is None:
        return _say(N_("reminders.already_on"), lang, title=title)
    ahead = [m.days_before for m in plan.ahead(at)]
    params = {"title": title, "deadline": plan.deadline}
    if not ahead:
        return _say(N_("reminders.on.too_late"), lang, **params)
    if len(ahead) == 1:
        return _say(N_("reminders.on.single"), lang, days=Quantity(ahead[0], "duration-day"), **params)
    return _say(N_("reminders.on.several"), lang, days=tuple(ahead), **params)


async def _stop(
    session: AsyncSession, person: Person, program_id: str, program: Program | None, lang: str
) -> list[Effect]:
    """Stop one offer's reminders; an offer no longer live can still be stopped by its id.

    What is already queued stops too: the person's pending rows keyed `reminder:<offer>:` are
    cancelled; and when no subscription is left, every pending bulk row of theirs (reminders of
    other offers, broadcasts) is cancelled, since nobody without a subscription receives any."""
    ended = await session.execute(
        delete(Subscription)
        .where(Subscription.person_id == person.id, Subscription.program_id == program_id, Subscription.topic == TOPIC)
        .returning(Subscription.id)
    )
    stopped = bool(ended.all())
    await cancel_queued(session, person.id, key_prefix=f"{KEY_PREFIX}{program_id}:", reason=UNSUBSCRIBED)
    left = await session.scalar(select(func.count()).where(Subscription.person_id == person.id))
    if not left:
        await cancel_queued(session, person.id, reason=UNSUBSCRIBED)
    if program is None:  # a forged id, or an offer no longer offered: its own id names it
        return _say(N_("reminders.off"), lang, title=program_id) if stopped else _say(N_("reminders.unknown"), lang)
    title = program.short_title.localized()
    return _say(N_("reminders.off") if stopped else N_("reminders.already_off"), lang, title=title)


async def _stop_all(session: AsyncSession, person: Person, lang: str) -> list[Effect]:
    """Every subscription ends and every pending bulk row of the person (reminders, broadcasts) is
    cancelled: no reminder and no broadcast reaches them any more, not even one already queued."""
    ended = await session.execute(
        delete(Subscription).where(Subscription.person_id == person.id).returning(Subscription.id)
    )
    await cancel_queued(session, person.id, reason=UNSUBSCRIBED)
    return _say(N_("reminders.off_all") if ended.all() else N_("reminders.none"), lang)
