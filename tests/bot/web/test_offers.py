"""Offers on the site, read only: each offer's data as the bot formats it, open or closed on the
clock's day, its reminders, its editions with who imported them and what a new deadline changes."""

from __future__ import annotations

import html
from datetime import date, timedelta
from typing import Any

import pytest

from bot.offers import store
from rules.model import Deadline

from ...conftest import BACKENDS
from .conftest import ADMIN, ORGANIZER, STAFF, Web

QUEBEC = "quebec-psoig-2021-023"
RABAT = "iom-internship-rabat"

on_both_backends = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


async def text_of(response: Any) -> str:
    return html.unescape(await response.text())


async def import_deadline(web: Web, day: date, by: str = "ana") -> None:
    """An organizer imports a new edition of the Québec offer with another deadline (the command line's path)."""
    shipped = web.context.offers.shipped
    program = shipped[QUEBEC]
    moved = program.model_copy(update={"deadline": Deadline(date=day, source=f"Date limite : {day}")})
    async with web.context.sessions.begin() as session:
        results = await store.import_editions(session, [moved], shipped, by, web.clock.now())
    assert results[0].added
    await web.context.refresh_now()


# --- who may -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/offers", f"/offers/{QUEBEC}"])
async def test_signed_out_is_sent_to_sign_in(web: Web, path: str) -> None:
    response = await web.client.get(path, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("path", ["/offers", f"/offers/{QUEBEC}"])
async def test_organizers_and_admins_only(web: Web, path: str) -> None:
    await web.sign_in(STAFF)
    assert (await web.client.get(path)).status == 403
    for user in (ORGANIZER, ADMIN):
        web.client.session.cookie_jar.clear()
        await web.sign_in(user)
        assert (await web.client.get(path)).status == 200


async def test_an_unknown_offer_is_not_found(web: Web) -> None:
    await web.sign_in(ORGANIZER)
    response = await web.client.get("/offers/no-such-offer")
    assert response.status == 404


# --- what it shows -------------------------------------------------------------------------------


async def test_the_list_shows_deadlines_in_quebec_french_and_closed_offers(web: Web) -> None:
    await web.sign_in(ORGANIZER)
    page = await text_of(await web.client.get("/offers"))
    assert "10 octobre 2021" in page
    assert "Fermée" in page and "Ouverte" in page  # Rabat states no deadline: open
    assert "python -m bot offers import" in page  # read only: where editions are published
    assert "Ouverte ou fermée en date du 2 mars 2026." in page


async def test_an_offer_shows_its_data_as_the_bot_formats_it(web: Web) -> None:
    await web.sign_in(ORGANIZER)
    page = await text_of(await web.client.get(f"/offers/{QUEBEC}"))
    assert "13\u00a0000,00\u00a0$ CA" in page
    assert "7 mars 2022" in page and "2 septembre 2022" in page
    assert "10 octobre 2021" in page
    assert "Version 0 · en vigueur" in page and "Fichier livré avec le bot" in page
    await web.client.get("/lang/en")
    english = await text_of(await web.client.get(f"/offers/{QUEBEC}"))
    assert "October 10, 2021" in english and "CA$13,000.00" in english
    assert "Closed" in english


@on_both_backends
async def test_a_new_edition_moves_the_deadline_and_its_reminders(web: Web) -> None:
    await import_deadline(web, date(2026, 3, 20))
    await web.sign_in(ORGANIZER)
    listing = await text_of(await web.client.get("/offers"))
    assert "20 mars 2026" in listing and "10 octobre 2021" not in listing
    page = await text_of(await web.client.get(f"/offers/{QUEBEC}"))
    assert "Ouverte" in page
    assert "Version 1 · en vigueur" in page
    assert "Importée par ana le 2 mars 2026, 10 h 00" in page
    assert "La date limite passe du 10 octobre 2021 au 20 mars 2026." in page
    assert "deadline.date: 2021-10-10 -> 2026-03-20" in page
    # the default reminders (14, 7 and 1 days before, 10 h) of the new deadline
    assert "14\u00a0jours avant, le 6 mars 2026, 10 h 00" in page
    assert "1\u00a0jour avant, le 19 mars 2026, 10 h 00" in page
    assert "Personnes abonnées aux rappels\u00a0: 0" in page


async def test_open_or_closed_follows_the_clock(web: Web) -> None:
    await import_deadline(web, date(2026, 3, 3))
    web.clock.advance(timedelta(days=1).total_seconds())  # 3 March: the deadline day is still open
    await web.sign_in(ORGANIZER)
    assert "Ouverte" in await text_of(await web.client.get(f"/offers/{QUEBEC}"))
    web.clock.advance(timedelta(days=1).total_seconds())  # 4 March
    web.client.session.cookie_jar.clear()
    await web.sign_in(ORGANIZER)
    page = await text_of(await web.client.get(f"/offers/{QUEBEC}"))
    assert "Fermée" in page and "Ouverte" not in page
    assert "(passé)" in page  # its reminders are behind it
