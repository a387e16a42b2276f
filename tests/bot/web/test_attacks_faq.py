"""Attacks on the FAQ pages: forged ids and values, second clicks and two staff at once, hostile
titles and texts. Each refusal says why in the viewer's language and keeps what was typed;
nothing is half-saved; what the site publishes is what the bot answers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.faq import store
from bot.storage import repo
from bot.storage.models import AuditEntry, FaqExample, FaqRevision, FaqTopic

from .conftest import STAFF, Web
from .test_faq import EN, FR, GENEVA, RABAT, on_both_backends, publish, revisions, text_of, the_bot_answers

NEW = {"title_fr": "Logement", "title_en": "Housing", "fr": "Logé : <i>non</i>.", "en": "Housing: <i>no</i>."}


async def saved(web: Web) -> dict[str, int]:
    """How many versions, staff topics, audit entries and examples are stored."""
    tables: dict[str, Any] = {"versions": FaqRevision, "topics": FaqTopic, "audit": AuditEntry, "examples": FaqExample}
    async with web.context.sessions() as session:
        return {name: int(await session.scalar(select(func.count()).select_from(t)) or 0) for name, t in tables.items()}


def create(web: Web, **changed: str) -> Any:
    return web.post("/faq/new", {**NEW, **changed, "action": "publish"}, allow_redirects=False)


# --- forged requests ----------------------------------------------------------------------------


async def test_forged_topics_and_offers_find_nothing(web: Web) -> None:
    await web.sign_in(STAFF)
    for topic in ("nope", "help:x", "..", "%2e%2e", "%C3%A9t%C3%A9", "x" * 2000):
        response = await web.client.get(f"/faq/topic/{topic}")
        assert response.status == 404 and "Cette page n’existe pas" in await text_of(response)
    assert (await publish(web, "help:x", FR, EN)).status == 404
    assert (await publish(web, "stipend", FR, EN, offer="nowhere")).status == 404
    assert (await web.client.get("/faq/topic/stipend/edit?offer=..")).status == 404
    restore = await web.post("/faq/topic/stipend/restore", {"revision": "-1"})
    assert restore.status == 404
    assert await saved(web) == {"versions": 0, "topics": 0, "audit": 0, "examples": 0}


async def test_a_form_without_its_version_keeps_the_text(web: Web) -> None:
    await web.sign_in(STAFF)
    for base in ("", "-1", "99999999999", "x"):
        data = {"offer": "all", "base": base, "fr": FR, "en": EN, "action": "publish"}
        response = await web.post("/faq/topic/stipend/edit", data)
        assert response.status == 409
        shown = await text_of(response)
        assert "Rien n’a été publié" in shown and f">{FR}</textarea>" in shown and f">{EN}</textarea>" in shown
    assert await revisions(web) == []


@on_both_backends
async def test_a_nul_character_is_never_a_server_error(web: Web) -> None:
    await web.sign_in(STAFF)
    assert (await publish(web, "stipend", "Allo\x00cation : {stipend}", EN)).status == 303
    assert (await revisions(web))[0].text_fr == "Allocation : {stipend}"
    example = await web.post("/faq/topic/stipend/examples", {"text": "comb\x00ien?", "lang": "fr"})
    assert example.status == 200
    assert (await create(web, title_en="Hous\x00ing")).headers["Location"] == "/faq/topic/housing?done=created"


# --- texts --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fr", "why"),
    [
        ("{montant} par mois", "{montant}"),
        ("{stipend par mois", "Accolade seule"),
        ("{{stipend}}", "Accolade seule"),
        ("<b><i>x</b></i>", "Balises mal imbriquées"),
        ('<a href="javascript:alert(1)">x</a>', "javascript:alert(1)"),
        ("<tg-emoji>x</tg-emoji>", "emoji-id"),
        ("x" * 4090 + "{stipend}", "Telegram en accepte au plus"),
        (" \r\n ", "Le texte est vide"),
    ],
)
async def test_a_text_telegram_would_refuse_is_explained_and_kept(web: Web, fr: str, why: str) -> None:
    await web.sign_in(STAFF)
    response = await publish(web, "stipend", fr, EN)
    assert response.status == 422
    shown = await text_of(response)
    assert "Ce texte ne peut pas être publié (Français)" in shown and why in shown
    assert f">{fr.strip()}</textarea>" in shown
    assert await saved(web) == {"versions": 0, "topics": 0, "audit": 0, "examples": 0}


async def test_what_is_typed_is_never_markup_on_the_page(web: Web) -> None:
    await web.sign_in(STAFF)
    attack = "<script>alert(1)</script>"
    refused = await (await publish(web, "stipend", "{" + attack + "}", EN)).text()
    assert "<script>" not in refused and "&lt;script&gt;" in refused
    assert (await web.post("/faq/topic/stipend/examples", {"text": attack, "lang": "fr"})).status == 200
    assert (await publish(web, "stipend", f"&lt;script&gt; {{stipend}} {attack[8:]}", EN)).status == 422
    page = await (await web.client.get("/faq/topic/stipend?done=%3Cscript%3E")).text()
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- second clicks and two staff at once --------------------------------------------------------


@on_both_backends
async def test_two_staff_publishing_at_once_publish_one_text(web: Web) -> None:
    await web.sign_in(STAFF)
    mine, theirs = await asyncio.gather(publish(web, "stipend", FR, EN), publish(web, "stipend", "Autre {stipend}", EN))
    assert sorted([mine.status, theirs.status]) == [303, 409]
    (live,) = await revisions(web)
    assert await the_bot_answers(web, "stipend", RABAT, "fr") == live.text_fr.replace(
        "{stipend}", "l’offre ne le précise pas"
    )


@on_both_backends
async def test_a_second_click_on_create_makes_one_topic(web: Web) -> None:
    await web.sign_in(STAFF)
    first, second = await create(web), await create(web)
    assert first.headers["Location"] == second.headers["Location"] == "/faq/topic/housing?done=created"
    together = await asyncio.gather(
        create(web, title_fr="Repas", title_en="Meals"), create(web, title_fr="Repas", title_en="Meals")
    )
    assert [r.headers["Location"] for r in together] == ["/faq/topic/meals?done=created"] * 2
    assert await saved(web) == {"versions": 2, "topics": 2, "audit": 4, "examples": 0}
    assert await the_bot_answers(web, "housing", GENEVA, "en") == NEW["en"]


async def test_a_new_topic_cannot_take_a_title_in_use(web: Web) -> None:
    await web.sign_in(STAFF)
    assert (await create(web)).status == 303
    for titles in ({"title_en": "Stipend"}, {"title_fr": "  allocation "}, {"title_en": "HOUSING", "fr": "Autre."}):
        response = await create(web, **titles)
        assert response.status == 422
        shown = await text_of(response)
        assert "porte déjà ce titre" in shown and f">{NEW['en']}</textarea>" in shown
        assert all(f'value="{value.strip()}"' in shown for value in titles.values() if value != "Autre.")
    await web.client.get("/lang/en")
    assert "The topic “Stipend” already has this title" in await text_of(await create(web, title_en="Stipend"))
    assert await saved(web) == {"versions": 1, "topics": 1, "audit": 2, "examples": 0}


@pytest.mark.parametrize(
    "title", ["\u200b", "\u200d", "\u202eHousing", "Hou\u2028sing", "Hou\u200bsing", "Hou\tsing", "\u200dHousing"]
)
async def test_a_title_with_invisible_characters_is_refused(web: Web, title: str) -> None:
    await web.sign_in(STAFF)
    response = await create(web, title_en=title)
    assert response.status == 422
    shown = await text_of(response)
    assert "sans < > & { } ni caractère invisible" in shown and 'value="Logement"' in shown
    assert await saved(web) == {"versions": 0, "topics": 0, "audit": 0, "examples": 0}


async def test_a_title_may_hold_an_emoji_sequence(web: Web) -> None:
    await web.sign_in(STAFF)
    response = await create(web, title_en="Tech \U0001f469\u200d\U0001f4bb help")
    assert response.headers["Location"] == "/faq/topic/tech_help?done=created"


@on_both_backends
async def test_a_second_click_on_add_example_adds_it_once(web: Web) -> None:
    await web.sign_in(STAFF)
    data = {"text": "c payé combien?", "lang": "fr"}
    first = await web.post("/faq/topic/stipend/examples", data, allow_redirects=False)
    second = await web.post("/faq/topic/stipend/examples", data, allow_redirects=False)
    assert first.headers["Location"] == second.headers["Location"] == "/faq/topic/stipend?done=example#examples"
    await asyncio.gather(*(web.post("/faq/topic/deadline/examples", data, allow_redirects=False) for _ in range(2)))
    assert await saved(web) == {"versions": 0, "topics": 0, "audit": 2, "examples": 2}
    english = await web.post("/faq/topic/stipend/examples", {**data, "lang": "en"}, allow_redirects=False)
    assert english.status == 303 and (await saved(web))["examples"] == 3  # another language: another example


@on_both_backends
async def test_a_second_click_on_restore_restores_once(web: Web) -> None:
    await web.sign_in(STAFF)
    assert (await publish(web, "deadline", "Texte 1", "Text 1")).status == 303
    (first,) = await revisions(web)
    assert (await publish(web, "deadline", "Texte 2", "Text 2", base=first.id)).status == 303
    page = await text_of(await web.client.get("/faq/topic/deadline/history"))
    live = first.id + 1
    assert f'name="revision" value="{first.id}">\n    <input type="hidden" name="live" value="{live}">' in page
    form = {"revision": str(first.id), "live": str(live)}
    clicks = [await web.post("/faq/topic/deadline/restore", form, allow_redirects=False) for _ in range(2)]
    assert [c.headers["Location"] for c in clicks] == [f"/faq/topic/deadline/history?restored={first.id}"] * 2
    assert [r.restored_from for r in await revisions(web)] == [None, None, first.id]
    assert await the_bot_answers(web, "deadline", GENEVA, "fr") == "Texte 1"
    again = await web.post("/faq/topic/deadline/restore", {"revision": str(live), "live": str(live)})
    assert again.status == 409  # someone else restored since the list was shown: nothing restored over it
    assert "cette page n’était plus à jour" in await text_of(again)
    assert len(await revisions(web)) == 3


async def test_a_new_topic_takes_only_questions_still_waiting(web: Web) -> None:
    await web.sign_in(STAFF)
    async with web.context.sessions.begin() as session:
        for text in ("où dormir <b>?</b>", "déjà traitée", "x" * 400):
            await repo.record_unanswered(session, None, text, "fr", at=web.clock.now())
        await store.mark_handled(session, [2], web.clock.now())
    forged = "example=1&example=2&example=-1&example=abc&example=99999999999&example=3"
    shown = await web.client.get(f"/faq/new?{forged}")
    page = await shown.text()
    assert "où dormir &lt;b&gt;?&lt;/b&gt;" in page and "déjà traitée" not in page
    assert 'name="example" value="2"' not in page
    data = {**NEW, "action": "publish", "example": ["1", "2", "3"]}
    response = await web.client.post("/faq/new", data={"csrf": await web.csrf(), **data}, allow_redirects=False)
    assert response.status == 303
    async with web.context.sessions() as session:
        examples = list((await session.execute(select(FaqExample))).scalars())
        waiting = await store.unanswered(session)
    assert [(e.topic, len(e.text)) for e in examples] == [("housing", store.MAX_EXAMPLE)]  # the newest, cut
    assert waiting == []
