"""The staff website in headless Chromium, served by the bot's own process against the emulator:
sign-in by a /web link sent on Telegram, an FAQ edit a person then sees on Telegram, a broadcast
from compose to report. Every page is photographed in both languages (`build/screenshots/`)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.broadcasts.audience import Audience, Kind
from bot.broadcasts.store import create
from bot.faq.store import Author, publish
from bot.storage.repo import record_unanswered

from ..telegram_emulator import SimulatedUser, TelegramEmulator
from .browser import shoot
from .conftest import RunningBot, make_config, say_and_read
from .processes import free_port
from .test_broadcasts import QC, seed
from .test_staff import at_quebec_birth_date

pytestmark = pytest.mark.slow

STAFF, ORGANIZER, ADMIN, PERSON = 9201, 9202, 9203, 9204
LINK = re.compile(r"(http://127\.0\.0\.1:\d+/login/link\?token=[A-Za-z0-9_.-]+)")


@pytest.fixture
async def site_bot(database_url: str, emulator: TelegramEmulator) -> AsyncIterator[tuple[RunningBot, str]]:
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    config = make_config(
        database_url,
        emulator,
        top={
            "staff": [STAFF],
            "organizers": [ORGANIZER],
            "admins": [ADMIN],
            "web": {"enabled": True, "port": port, "public_url": public},
        },
    )
    running = RunningBot(config)
    await running.start()
    try:
        yield running, public
    finally:
        await running.stop()


async def link_for(user: SimulatedUser) -> str:
    """What the bot answers to /web: a one-time link."""
    reply = await say_and_read(user, "/web")
    found = LINK.search(reply)
    assert found is not None, reply
    return found.group(1)


async def signed_in_page(browser: Any, user: SimulatedUser, lang: str) -> Any:
    context = await browser.new_context(locale="fr-CA" if lang == "fr" else "en-CA")
    page = await context.new_page()
    await page.goto(await link_for(user))
    await page.get_by_role("button").first.click()
    await page.wait_for_url(re.compile(r"/$"))
    return page


@pytest.mark.parametrize("lang", ["fr", "en"])
async def test_sign_in_by_a_link_sent_on_telegram(
    site_bot: tuple[RunningBot, str], emulator: TelegramEmulator, chromium: Any, lang: str
) -> None:
    _bot, public = site_bot
    admin = emulator.user(ADMIN, "Awa", language_code=lang)
    context = await chromium.new_context(locale="fr-CA" if lang == "fr" else "en-CA")
    page = await context.new_page()
    await page.goto(f"{public}/login")
    await shoot(page, "login", lang)
    assert "Telegram" in await page.inner_text("main")

    link = await link_for(admin)
    await page.goto(link)
    await shoot(page, "link", lang)
    await page.get_by_role("button", name="Me connecter" if lang == "fr" else "Sign me in").click()
    await page.wait_for_url(f"{public}/")
    await shoot(page, "home", lang)
    nav = await page.inner_text("nav")
    for section in ["FAQ", "Diffusions", "Statistiques"] if lang == "fr" else ["FAQ", "Broadcasts", "Statistics"]:
        assert section in nav

    # the same link again, in another browser: refused
    other = await (await chromium.new_context()).new_page()
    await other.goto(link)
    await other.get_by_role("button").first.click()
    assert "/login/link" in other.url
    assert "déjà servi" in await other.inner_text("main") or "already been used" in await other.inner_text("main")


async def test_web_is_refused_to_people_without_a_role(
    site_bot: tuple[RunningBot, str], emulator: TelegramEmulator
) -> None:
    person = emulator.user(PERSON, "Léa", language_code="fr")
    reply = await say_and_read(person, "/web")
    assert "/login/link" not in reply


async def test_help_tells_staff_about_web(site_bot: tuple[RunningBot, str], emulator: TelegramEmulator) -> None:
    staff = emulator.user(STAFF, "Sophie", language_code="en")
    assert "/web" in await say_and_read(staff, "/help")
    person = emulator.user(PERSON, "Léa", language_code="en")
    assert "/web" not in await say_and_read(person, "/help")


async def test_an_faq_edit_on_the_site_is_what_a_person_then_reads_on_telegram(
    site_bot: tuple[RunningBot, str], emulator: TelegramEmulator, chromium: Any
) -> None:
    _bot, public = site_bot
    staff = emulator.user(STAFF, "Sophie", language_code="fr")
    amina = emulator.user(PERSON, "Amina", language_code="fr")
    await at_quebec_birth_date(amina)
    before = await say_and_read(amina, "c'est combien l'allocation?")
    assert "13 000,00 $ CA" in before and "Bourse révisée" not in before, before

    page = await signed_in_page(chromium, staff, "fr")
    await page.goto(f"{public}/faq")
    await page.get_by_role("link", name=re.compile("Allocation|Bourse|allocation", re.I)).first.click()
    await page.get_by_role("link", name="Modifier").nth(2).click()  # the Québec offer's own answer
    assert "offer=quebec-psoig-2021-023" in page.url
    await page.fill("#text-fr", "Bourse révisée : <b>{stipend}</b> pour toute la durée.")
    await page.fill("#text-en", "Revised stipend: <b>{stipend}</b> for the whole internship.")
    await page.get_by_role("button", name="Aperçu").click()
    bubbles = " ".join(await page.locator(".bubble").all_inner_texts()).replace("\u00a0", " ")
    assert "Bourse révisée : 13 000,00 $ CA" in bubbles and "Revised stipend: CA$13,000.00" in bubbles, bubbles
    assert await page.locator(".bubble b").count() >= 2  # Telegram's bold, rendered
    await page.get_by_role("button", name="Publier").click()
    await page.wait_for_selector(".notice.ok")

    after = await say_and_read(amina, "c koi l'allocation")
    assert "Bourse révisée : 13 000,00 $ CA" in after, after

    await page.goto(f"{public}/faq/topic/stipend/history")
    assert "Bourse révisée" in await page.inner_text("main")


async def test_a_broadcast_from_compose_to_report(
    site_bot: tuple[RunningBot, str], emulator: TelegramEmulator, chromium: Any
) -> None:
    bot, public = site_bot
    users = await seed(bot, emulator)
    organizer = emulator.user(ORGANIZER, "Omar", language_code="en")
    page = await signed_in_page(chromium, organizer, "en")
    await page.goto(f"{public}/broadcasts/new")
    await page.fill("#text_fr", "<b>Date limite</b> dans 7 jours.")
    await page.fill("#text_en", "<b>Deadline</b> in 7 days.")
    await page.select_option("#kind", "eligible")
    await page.select_option("#offer", QC)
    await page.select_option("#language", "both")
    reach = page.locator("#reach")
    await reach.filter(has_text="2").wait_for()  # eligible and subscribed: 9401 (fr), 9402 (en)
    await page.get_by_role("button", name="Send now").click()
    await page.wait_for_url(re.compile(r"/broadcasts/\d+"))

    french = await users[9401].next_reply(timeout=20)
    english = await users[9402].next_reply(timeout=20)
    assert "Date limite" in french.text
    assert "Deadline" in english.text
    await page.locator(".report, svg.chart").first.wait_for(timeout=30_000)  # the live fragment ends in the report
    report = (await page.inner_text("main")).replace("\u00a0", " ")
    assert "2" in report
    assert await page.locator("svg.chart rect").count() >= 1
    for quiet in (9403, 9404):  # not eligible; eligible but never subscribed
        assert [m for m in emulator.chat_messages(quiet) if "Deadline" in m.get("text", "")] == []


PAGES = [
    ("home", "/"),
    ("faq", "/faq"),
    ("faq-topic", "/faq/topic/stipend"),
    ("faq-edit", f"/faq/topic/stipend/edit?offer={QC}"),
    ("faq-history", "/faq/topic/stipend/history"),
    ("faq-new", "/faq/new"),
    ("gaps", "/gaps"),
    ("broadcasts", "/broadcasts"),
    ("broadcast-compose", "/broadcasts/new"),
    ("broadcast-report", "/broadcasts/1"),
    ("offers", "/offers"),
    ("offer", f"/offers/{QC}"),
    ("stats", "/stats"),
    ("audit", "/audit"),
]


async def test_every_page_in_both_languages(
    site_bot: tuple[RunningBot, str], emulator: TelegramEmulator, chromium: Any
) -> None:
    """A screenshot of every page, in French and in English (and two on a phone's screen), with
    something on each: a published answer, a sent broadcast, questions left unanswered."""
    bot, public = site_bot
    users = await seed(bot, emulator)
    async with bot.sessions().begin() as session:
        author = Author(None, "staff")
        now = datetime.now(UTC)
        await publish(session, "stipend", QC, ("Bourse : <b>{stipend}</b>.", "Stipend: <b>{stipend}</b>."), author, now)
        for text in ("est-ce que le stage est payé en euros", "le stage est-il payé en euros ?", "parking sur place?"):
            await record_unanswered(session, None, text, "fr", now)
        audience = Audience(Kind.SUBSCRIBERS, QC, None)
        await create(
            session,
            "Rappel <b>important</b>",
            "<b>Important</b> reminder",
            audience,
            "web",
            author,
            now,
            default_language="fr",
        )
    for user_id in (9401, 9402, 9403):
        await users[user_id].next_reply(timeout=20)  # the broadcast was delivered

    for lang in ("fr", "en"):
        page = await signed_in_page(chromium, emulator.user(ADMIN, "Awa", language_code=lang), lang)
        for name, path in PAGES:
            response = await page.goto(f"{public}{path}")
            assert response is not None and response.status == 200, (path, response and response.status)
            heading = await page.inner_text("h1")
            assert heading.strip(), path
            shown = " ".join(await page.locator(".bubble").all_inner_texts())  # as people see it
            assert "{" not in shown, (path, "a placeholder left unfilled", shown)
            await shoot(page, name, lang)
        await page.set_viewport_size({"width": 390, "height": 844})
        for name, path in (("faq-topic", "/faq/topic/stipend"), ("broadcast-report", "/broadcasts/1")):
            await page.goto(f"{public}{path}")
            wide = await page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
            assert not wide, f"{path} scrolls sideways on a phone"
            await shoot(page, f"{name}-phone", lang)
