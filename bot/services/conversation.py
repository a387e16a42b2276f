"""The conversation service: one person's input in, effects out, for every channel.

A turn is one transaction with the person's row locked: load the dialog state, run the engine,
save the state, the answers and the verdicts, record what could not be answered, and decide
what to say. Channels (Telegram, the terminal, Rasa, the web) only turn their input into an
`Input` and carry out the returned effects; no channel type crosses this module.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from dialogs.engine import Engine, Event
from dialogs.outputs import Output, Say, Unanswered, VerdictCard
from dialogs.state import DialogState
from rules import N_, Message, Program, load_programs

from ..clock import Clock, SystemClock, local_today
from ..config import Config, RemindersConfig
from ..faq.service import FaqService
from ..i18n import Lang, as_language, gettext, render
from ..offers.catalog import OfferCatalog
from ..reminders import subscriptions
from ..render import Rendered, render_output
from ..storage import bulk, repo
from ..storage.db import scrub
from ..storage.models import Person, Subscription
from . import privacy
from .effects import Effect, Erased, Reply, SendDocument
from .inputs import Input, InputKind, PersonKey

if TYPE_CHECKING:  # the staff desk imports this package's inputs and effects
    from ..staff.desk import StaffDesk
    from ..staff.roles import Role

logger = logging.getLogger(__name__)


@dataclass
class ConversationService:
    """Applies inputs to people's dialogs; holds no per-person data between turns."""

    sessions: async_sessionmaker[AsyncSession]
    database: AsyncEngine
    engine: Engine
    faq: FaqService
    desk: StaffDesk
    offers: OfferCatalog  # the live offers (shipped files and imported editions); the engine and FAQ use them
    default_language: Lang = "fr"
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("America/Toronto"))
    clock: Clock = field(default_factory=SystemClock)
    fixed_today: date | None = None  # a pinned "today" for the dialog (the terminal's --today)
    reminders: RemindersConfig = field(default_factory=RemindersConfig)  # deadline reminders' defaults

    @classmethod
    def from_config(
        cls,
        config: Config,
        sessions: async_sessionmaker[AsyncSession],
        database: AsyncEngine,
        *,
        programs: dict[str, Program] | None = None,
        clock: Clock | None = None,
        today: date | None = None,
    ) -> ConversationService:
        from ..staff.desk import StaffDesk
        from ..staff.roles import Roles
        from ..web.auth import link_maker as web_link

        catalog = OfferCatalog(programs if programs is not None else load_programs(config.offers_path()))
        offers = catalog.programs
        faq = FaqService.create(offers)
        engine = Engine(
            offers,
            translate=gettext,
            interrupt=faq,
            require_consent=True,
            consent_version=config.privacy.consent_version,
            retention_days=config.privacy.retention_days,
        )
        return cls(
            sessions,
            database,
            engine,
            faq,
            StaffDesk(Roles.from_config(config), config.default_language, web_link(config)),
            catalog,
            default_language=config.default_language,
            zone=config.zone,
            clock=clock or SystemClock(),
            fixed_today=today,
            reminders=config.reminders,
        )

    def today(self) -> date:
        return self.fixed_today or local_today(self.clock, self.zone)

    async def refresh_offers(self, session: AsyncSession) -> None:
        """Take the offer editions imported since the last look, in the engine and the FAQ too."""
        if await self.offers.refresh(session):
            self.engine.programs = self.faq.programs = self.offers.programs

    @asynccontextmanager
    async def turn(self, key: PersonKey) -> AsyncIterator[Turn]:
        """One transaction for one person, their row created if new and locked until the end."""
        async with self.sessions.begin() as session:
            person, created = await repo.claim_person(session, key.channel, key.external_id, self.clock.now())
            current = Turn(self, session, person, created=created)
            yield current
            if current.unreachable:
                await end_subscriptions(session, person.id)
            if current.discarded:  # nothing worth keeping was said: keep nothing, not even the id
                await repo.erase_person(session, person.id)
        if current.erased:
            await self.scrub()

    async def scrub(self) -> None:
        """After an erasure: nothing erased stays readable in the database's files."""
        await scrub(self.database)

    async def handle(self, input: Input) -> list[Effect]:
        """One input, one transaction; the effects are for the channel to carry out now."""
        async with self.turn(input.person) as current:
            return await current.apply(input)

    async def export(self, key: PersonKey) -> dict[str, Any] | None:
        """Everything stored about a person (None if unknown), without creating them."""
        async with self.sessions() as session:
            person = await repo.find_person(session, key.channel, key.external_id)
            return None if person is None else await repo.export_person(session, person.id)

    async def export_document(self, person_id: int) -> SendDocument | None:
        """A person's data export as a document, built now (None if they were erased meanwhile)."""
        async with self.sessions() as session:
            person = await session.get(Person, person_id)
            if person is None:
                return None
            state = await repo.load_state(session, person.id)
            lang = as_language(str((state or {}).get("lang") or person.language), self.default_language)
            effects = await privacy.export(session, person, lang)
        return next(e for e in effects if isinstance(e, SendDocument))

    async def stored_language(self, key: PersonKey, otherwise: Lang | None = None) -> Lang:
        """The person's language as saved, for messages outside a turn (an apology); `otherwise`
        (else the default) for someone with nothing saved."""
        fallback = otherwise or self.default_language
        async with self.sessions() as session:
            person = await repo.find_person(session, key.channel, key.external_id)
            state = None if person is None else await repo.load_state(session, person.id)
        if state is not None:
            return as_language(str(state.get("lang")), fallback)
        return as_language(person.language if person else None, fallback)


async def end_subscriptions(session: AsyncSession, person_id: int) -> None:
    """Someone who blocked the bot gets nothing more: their subscriptions end and what was queued
    for them in bulk is cancelled (they opt in again after unblocking, if they wish)."""
    await session.execute(delete(Subscription).where(Subscription.person_id == person_id))
    await bulk.cancel_queued(session, person_id, reason="blocked")


@dataclass
class Turn:
    """The work of one transaction on one person; `apply` may be called for several inputs in order."""

    service: ConversationService
    session: AsyncSession
    person: Person
    created: bool = False  # the row was made by this turn
    erased: bool = False
    kept: bool = False  # a dialog state was saved: the person is someone to remember
    unreachable: bool = False  # the person blocked the bot during this turn

    @property
    def discarded(self) -> bool:
        """A row made for someone who said nothing to remember (an old button, a block, /privacy):
        dropped at the end of the turn. What the turn says goes to no person's row."""
        return self.created and not self.kept and not self.erased

    def mark_reachable(self, reachable: bool) -> None:
        """The channel says the person blocked (or unblocked) the bot: when blocked, their
        subscriptions end at the end of the turn, as when Telegram refuses a message (403)."""
        self.person.blocked = not reachable
        self.unreachable = not reachable

    async def apply(self, input: Input) -> list[Effect]:
        """The person's input applied to their dialog; never raises on anything a person can send."""
        if self.erased:
            return []
        service, session, person = self.service, self.session, self.person
        stored = await repo.load_state(session, person.id)
        if stored is None:
            lang = person.language or as_language(input.language_hint, service.default_language)
            stored = DialogState(lang=lang).to_json()
        lang = as_language(str(stored.get("lang")), service.default_language)
        await service.refresh_offers(session)  # /start lists the offers, open or closed: the live ones
        if input.kind is not InputKind.START:  # what may reach the FAQ or the staff desk: staff's latest
            await service.faq.refresh(session)
        roles = service.desk.roles_of(input.person, service.faq)
        if roles:
            self.kept = True  # someone with a role: their changes stay signed
        waiting = bool(roles) and await service.desk.waiting_for_text(session, person.id, service.clock.now())
        if service.desk.claims(input, roles) or (waiting and input.kind is InputKind.TEXT):
            return await self._staff(input, roles, lang)
        notice: list[Effect] = []
        if waiting:  # back to their own dialog (/start, a button, /privacy): the staff step is dropped, and said so
            await service.desk.abandon(session, person.id, service.clock.now())
            notice = [Reply(Rendered(render(Message(N_("staff.abandoned")), lang)))]
        answered = await self._privacy_input(input, stored, lang)
        if answered is None:
            answered = await self._reminders_input(input, stored, lang)
        if answered is not None:
            return notice + answered
        state, outputs = service.engine.step(stored, self._event(input))
        if roles and input.kind is InputKind.COMMAND and input.value == "help":  # each role's own commands
            keys = [i for i, o in enumerate(outputs) if isinstance(o, Say) and o.message.key == "help.commands"]
            at = keys[0] + 1 if keys else 0
            outputs[at:at] = [Say(Message(key)) for key in service.desk.help_keys(roles)]
        await self._save(state, outputs, input)
        replies: list[Effect] = [Reply(r) for r in (render_output(o, state.lang) for o in outputs) if r is not None]
        judged = [o.result.program for o in outputs if isinstance(o, VerdictCard)]
        if judged:  # after a verdict: a reminder of each deadline still ahead, for the asking
            mine = await subscriptions.subscribed(session, person.id)
            now = service.clock.now()
            replies += subscriptions.offer_after_verdict(judged, person, mine, state.lang, self._offers(), now)
        return notice + replies

    async def _privacy_input(self, input: Input, stored: dict[str, Any], lang: str) -> list[Effect] | None:
        """/privacy, /mydata, /forget and the erasure's confirmation; None for anything else."""
        if input.kind is InputKind.COMMAND and input.value in privacy.COMMANDS:
            effects = await self._privacy(input.value, lang)
            return effects if input.value == "forget" else effects + self._current_prompt(stored, lang)
        if input.kind is InputKind.BUTTON and input.value.startswith(f"{privacy.FORGET_BUTTON}:"):
            effects = await privacy.answer_forget(self.session, self.person, input.value, lang)
            self.erased = any(isinstance(e, Erased) for e in effects)
            return effects if self.erased else effects + self._current_prompt(stored, lang)
        return None

    async def _reminders_input(self, input: Input, stored: dict[str, Any], lang: str) -> list[Effect] | None:
        """/reminders and the reminder buttons (remind:on|off:<offer>); None for anything else."""
        at = self.service.clock.now()
        if input.kind is InputKind.COMMAND and input.value == subscriptions.COMMAND:
            listed = await subscriptions.listing(self.session, self.person, lang, self._offers(), at)
            return listed + self._current_prompt(stored, lang)
        if input.kind is InputKind.BUTTON and subscriptions.is_button(input.value):
            return await subscriptions.press(self.session, self.person, input.value, lang, self._offers(), at)
        return None

    def _offers(self) -> subscriptions.Offers:
        service = self.service
        return subscriptions.Offers(service.offers.programs, service.reminders, service.zone.key)

    async def _staff(self, input: Input, roles: frozenset[Role], lang: str) -> list[Effect]:
        from ..staff.desk import Desk

        service = self.service
        desk = Desk(
            self.session,
            self.person.id,
            input.person,
            lang,
            roles,
            service.desk.roles,
            service.faq,
            service.clock.now(),
            service.today(),
            zone=service.zone,
        )
        return await service.desk.handle(desk, input)

    def _current_prompt(self, stored: dict[str, Any], lang: str) -> list[Effect]:
        """Where the person was, shown again after a privacy command, so the dialog goes on."""
        outputs = self.service.engine.current_prompt(stored, self.service.today())
        return [Reply(r) for r in (render_output(o, lang) for o in outputs) if r is not None]

    def _event(self, input: Input) -> Event:
        today = self.service.today()
        if input.kind is InputKind.START:
            return Event.start(today)
        if input.kind is InputKind.BUTTON:
            return Event.press(input.value, today)
        if input.kind is InputKind.COMMAND:
            return Event.command(input.value, today, input.arg)
        return Event.text(input.value, today)

    async def _privacy(self, command: str, lang: str) -> list[Effect]:
        if command == "privacy":
            return privacy.notice(self.person, lang, self.service.engine.retention_days)
        if self.created and not self.kept:  # /mydata or /forget from someone we know nothing about
            return privacy.nothing_stored(lang)
        if command == "forget":
            return privacy.ask_to_forget(self.person, lang)
        return await privacy.export(self.session, self.person, lang)

    async def _save(self, state: DialogState, outputs: list[Output], input: Input) -> None:
        person, moment = self.person, self.service.clock.now()
        person.language = state.lang  # the dialog's language, for messages sent outside a turn (reminders)
        if state.consent is not None and person.consent_version != state.consent:
            person.consent_version, person.consent_at = state.consent, moment
        verdicts = [
            (o.result.program.id, o.result.status.value, list(o.result.failing), list(o.result.missing_facts))
            for o in outputs
            if isinstance(o, VerdictCard)
        ]
        await repo.save_state(self.session, person.id, state.to_json(), verdicts, at=moment)
        self.kept = True
        for output in outputs:
            if isinstance(output, Unanswered) and state.consent is not None:  # kept for staff only with consent
                await repo.record_unanswered(self.session, person.id, output.text, state.lang, at=moment)
