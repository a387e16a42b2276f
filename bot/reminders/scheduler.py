"""Queueing the deadline reminders that fell due, from the database alone.

Nothing is held in memory between runs: each run looks at every live offer's schedule, takes the
latest reminder due (a bot down over the 14-day and 7-day moments sends the 7-day one, once), and
queues it in the outbox for each subscriber who subscribed by that moment and has no row for it
yet. The outbox's unique (message key, person) makes a second run, a restart or a second process
queue nothing twice. Each row expires when the deadline ends (`expires_at`): a bot down until
after it never sends it. A new edition that moves an offer's deadline cancels the rows queued for
the old one (`_drop_outdated`). One process runs it at a time (the `reminders` lease), but correctness does
not depend on that.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rules import N_, Message, Program, Quantity

from ..clock import Clock
from ..config import RemindersConfig
from ..faq.values import VALUES, Context
from ..i18n import Lang, as_language, render
from ..render import Rendered, RenderedButton
from ..storage.bulk import Lane, Recipient, queue
from ..storage.models import OutboxMessage, Person, Subscription
from ..telegram.payloads import to_payloads
from .schedule import Moment, Schedule, schedule
from .subscriptions import KEY_PREFIX, TOPIC, off_button

logger = logging.getLogger(__name__)

KIND = "reminder"
REMINDERS_EVERY = 60.0  # seconds between two looks for due reminders (the first at start-up)
BATCH = 500  # subscribers per transaction: memory stays flat in the number of subscribers
DEADLINE_MOVED = "deadline moved"  # the error of a pending reminder whose offer's deadline changed


def reminder_message(program: Program, plan: Schedule, at: datetime, lang: str) -> Rendered:
    """The reminder as a person reads it: days left (counted now, in the deadline's zone), the
    deadline, how to apply (else whom to ask), and a button to stop these reminders."""
    title = program.short_title.localized()
    left = plan.days_left(at)
    if left <= 0:
        opening = render(Message(N_("reminder.last_day"), {"title": title, "deadline": plan.deadline}), lang)
    else:
        days = Quantity(left, "duration-day")
        opening = render(
            Message(N_("reminder.days_left"), {"title": title, "days": days, "deadline": plan.deadline}), lang
        )
    facts = Context(program, lang, at.astimezone(plan.zone).date())  # the FAQ's wording of the offer's data
    how = VALUES["how_to_apply"](facts)
    if how is not None:
        apply = render(Message(N_("reminder.how_to_apply"), {"how": how}), lang)
    else:
        contact = VALUES["where_to_ask"](facts) or _capitalized(render(N_("faq.value.not_stated"), lang))
        apply = render(Message(N_("reminder.contact"), {"contact": contact}), lang)
    heading = render(Message(N_("reminder.heading"), {"title": title}), lang)
    stop = RenderedButton(off_button(program.id), render(N_("reminder.button.off"), lang))
    return Rendered(f"{opening}\n\n{apply}", heading=heading, buttons=(stop,))


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def reminder_payload(program: Program, plan: Schedule, at: datetime, lang: str) -> dict[str, object]:
    """The `sendMessage` payload of one reminder (one message: it is short)."""
    payloads = to_payloads(reminder_message(program, plan, at, lang))
    first = dict(payloads[0])
    if "reply_markup" in payloads[-1]:
        first["reply_markup"] = payloads[-1]["reply_markup"]
    return first


class ReminderScheduler:
    """Queues due reminders; `run_once` is the job run by the holder of the `reminders` lease."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        offers_source: Callable[[], Mapping[str, Program]],
        defaults: RemindersConfig,
        zone: ZoneInfo | str,
        clock: Clock,
        default_language: Lang = "fr",
        *,
        refresh: Callable[[AsyncSession], Awaitable[None]] | None = None,
    ) -> None:
        self.sessions = sessions
        self.offers_source = offers_source
        self.defaults = defaults
        self.zone = zone if isinstance(zone, str) else zone.key
        self.clock = clock
        self.default_language: Lang = default_language
        self.refresh = refresh  # takes the offer editions imported since the last look

    async def run_once(self, at: datetime | None = None) -> int:
        """Queue every reminder due at `at` (default: the clock's now); how many rows were added."""
        moment = at or self.clock.now()
        if self.refresh is not None:
            async with self.sessions() as session:
                await self.refresh(session)
        added = 0
        for program in list(self.offers_source().values()):
            plan = schedule(program, self.defaults, self.zone)
            await self._drop_outdated(program.id, plan)
            due = None if plan is None else plan.due(moment)
            if plan is None or due is None:
                continue
            added += await self._queue(program, plan, due, moment)
        return added

    async def _queue(self, program: Program, plan: Schedule, due: Moment, at: datetime) -> int:
        key = plan.message_key(due)
        payloads: dict[str, dict[str, object]] = {}
        added, after = 0, 0
        while True:
            async with self.sessions.begin() as session:
                batch = (await session.execute(self._subscribers(program.id, key, due, after))).all()
                recipients = []
                for person_id, external_id, language in batch:
                    lang = as_language(language, self.default_language)
                    if lang not in payloads:
                        payloads[lang] = reminder_payload(program, plan, at, lang)
                    recipients.append(Recipient(person_id, int(external_id), dict(payloads[lang])))
                added += await queue(
                    session,
                    recipients,
                    message_key=key,
                    kind=KIND,
                    lane=Lane.REMINDER,
                    at=at,
                    expires_at=plan.ends_at,  # never sent once the deadline has passed
                )
            if len(batch) < BATCH:
                break
            after = batch[-1][0]
        if added:
            logger.info("reminder %s queued for %d people", key, added)
        return added

    async def _drop_outdated(self, program_id: str, plan: Schedule | None) -> int:
        """Cancel the offer's pending reminders queued for a deadline it no longer has (a new edition
        moved it, or states none): their key's date (`reminder:<id>:<date>:`) is not the live one."""
        offer = f"{KEY_PREFIX}{program_id}:"
        outdated = (
            (OutboxMessage.kind == KIND)
            & (OutboxMessage.status == "pending")
            & OutboxMessage.message_key.startswith(offer, autoescape=True)
        )
        if plan is not None:
            outdated &= ~OutboxMessage.message_key.startswith(f"{offer}{plan.deadline.isoformat()}:", autoescape=True)
        async with self.sessions.begin() as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(outdated)
                .values(status="cancelled", error=DEADLINE_MOVED, payload={}, lease_owner=None)
            )
        dropped = int(getattr(result, "rowcount", 0) or 0)
        if dropped:
            logger.info("reminders of %s for an outdated deadline cancelled: %d", program_id, dropped)
        return dropped

    @staticmethod
    def _subscribers(program_id: str, key: str, due: Moment, after: int) -> Select[tuple[int, str, str | None]]:
        """Subscribers on Telegram, not blocked, subscribed by the moment, without a row for `key`."""
        queued = (
            select(OutboxMessage.id)
            .where(OutboxMessage.message_key == key, OutboxMessage.person_id == Person.id)
            .exists()
        )
        return (
            select(Person.id, Person.external_id, Person.language)
            .join(Subscription, Subscription.person_id == Person.id)
            .where(
                Subscription.program_id == program_id,
                Subscription.topic == TOPIC,
                Subscription.created_at <= due.at,
                Person.channel == "telegram",
                Person.blocked.is_(False),
                Person.id > after,
                ~queued,
            )
            .order_by(Person.id)
            .limit(BATCH)
        )
