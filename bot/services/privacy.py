"""/privacy, /mydata and /forget: the same on every channel.

Erasing asks for a confirmation whose buttons carry a one-time nonce kept on the person's row:
a button from an earlier /forget, a replayed one or a forged one erases nothing.
"""

from __future__ import annotations

import json
import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from rules import N_, Message

from ..i18n import render
from ..render import Rendered, RenderedButton
from ..storage import repo
from ..storage.models import Person
from .effects import Effect, Erased, Reply, SendDocument

COMMANDS = frozenset({"privacy", "mydata", "forget"})
FORGET_BUTTON = "forget"  # forget:<yes|no>:<nonce>


def notice(person: Person, lang: str, retention_days: int) -> list[Effect]:
    consent = N_("privacy.consent.given") if person.consent_version else N_("privacy.consent.none")
    text = "\n\n".join(
        (render(Message(N_("privacy.notice"), {"days": retention_days}), lang), render(Message(consent), lang))
    )
    return [Reply(Rendered(text))]


def nothing_stored(lang: str) -> list[Effect]:
    return [Reply(Rendered(render(N_("privacy.nothing_stored"), lang)))]


def ask_to_forget(person: Person, lang: str) -> list[Effect]:
    """The confirmation, with buttons valid for this request only."""
    nonce = secrets.token_urlsafe(9)
    person.forget_nonce = nonce
    buttons = (
        RenderedButton(f"{FORGET_BUTTON}:yes:{nonce}", render(N_("button.forget.confirm"), lang)),
        RenderedButton(f"{FORGET_BUTTON}:no:{nonce}", render(N_("button.forget.cancel"), lang)),
    )
    return [Reply(Rendered(render(N_("forget.confirm"), lang), buttons=buttons))]


async def answer_forget(session: AsyncSession, person: Person, button: str, lang: str) -> list[Effect]:
    """A press on a confirmation button: erase, keep, or say the button expired."""
    _, _, rest = button.partition(":")
    answer, _, nonce = rest.partition(":")
    expected = person.forget_nonce
    if not expected or not nonce or not secrets.compare_digest(nonce, expected) or answer not in ("yes", "no"):
        return [Reply(Rendered(render(N_("forget.expired"), lang)))]
    person.forget_nonce = None
    if answer == "no":
        return [Reply(Rendered(render(N_("forget.cancelled"), lang)))]
    await repo.erase_person(session, person.id)
    return [Erased(Rendered(render(N_("forget.done"), lang)))]


async def export(session: AsyncSession, person: Person, lang: str) -> list[Effect]:
    document = await repo.export_person(session, person.id)
    content = json.dumps(document, ensure_ascii=False, indent=2).encode()
    return [SendDocument("mydata.json", content, render(N_("mydata.caption"), lang))]
