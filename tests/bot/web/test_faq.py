"""The FAQ pages: both languages side by side, preview as Telegram shows it, publish (live for the
bot), refusals that keep the text, a stale form refused, history with differences and restore,
new topics, example questions, and who may do all this."""

from __future__ import annotations

import html
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from bot.faq import store
from bot.faq.service import FaqService
from bot.storage import repo
from bot.storage.models import AuditEntry, FaqRevision
from bot.web.preview import telegram_preview

from ...conftest import BACKENDS
from .conftest import ADMIN, ORGANIZER, STAFF, Web

GENEVA = "quebec-psoig-2021-023"
RABAT = "iom-internship-rabat"
FR = "<b>Allocation</b> : {stipend}, versée chaque mois."
EN = "<b>Stipend</b>: {stipend}, paid monthly."

on_both_backends = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


async def text_of(response: Any) -> str:
    return html.unescape(await response.text())


async def publish(web: Web, topic: str, fr: str, en: str, *, offer: str = "all", base: int = 0) -> Any:
    data = {"offer": offer, "base": str(base), "fr": fr, "en": en, "action": "publish"}
    return await web.post(f"/faq/topic/{topic}/edit", data, allow_redirects=False)


async def audit(web: Web) -> list[AuditEntry]:
    async with web.context.sessions() as session:
        return list((await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars())


async def revisions(web: Web) -> list[FaqRevision]:
    async with web.context.sessions() as session:
        return list((await session.execute(select(FaqRevision).order_by(FaqRevision.id))).scalars())


async def the_bot_answers(web: Web, topic: str, program: str, lang: str) -> str | None:
    """What another process (the bot) answers once it looks at the database."""
    faq = FaqService.create(web.context.faq.programs)
    async with web.context.sessions() as session:
        await faq.refresh(session)
    return faq.text(topic, faq.programs[program], lang, date(2026, 3, 2))


# --- reading ------------------------------------------------------------------------------------


async def test_the_list_shows_every_topic_with_both_titles(web: Web) -> None:
    await web.sign_in(STAFF)
    shown = await text_of(await web.client.get("/faq"))
    assert "Allocation" in shown and "Stipend" in shown
    assert "Date limite" in shown and "Deadline" in shown
    assert "Réponse intégrée, jamais modifiée" in shown
    assert (await publish(web, "stipend", FR, EN, offer=GENEVA)).status == 303
    shown = await text_of(await web.client.get("/faq"))
    assert "OIM Genève — offre PSOIG 2021-023" in shown  # the offer with its own answer
    assert "2 mars 2026, 10 h 00, par équipe" in shown  # when, in the bot's zone, and who (role)


async def test_a_topic_shows_both_languages_as_people_see_them(web: Web) -> None:
    await web.sign_in(STAFF)
    response = await web.client.get("/faq/topic/stipend")
    assert response.status == 200
    shown = await text_of(response)
    assert "13\u00a0000,00\u00a0$ CA" in shown and "CA$13,000.00" in shown  # each language, filled for Geneva
    assert 'class="bubble"' in shown
    assert "Revenir à la réponse intégrée" not in shown  # nothing staff published to go back from
    await web.client.get("/lang/en")
    shown = await text_of(await web.client.get("/faq/topic/stipend"))
    assert "<h1>Stipend</h1>" in shown and "What people see:" in shown and "Built-in answer" in shown
    assert (await web.client.get("/faq/topic/no_such_topic")).status == 404


def test_the_preview_keeps_telegram_s_tags_and_escapes_everything_else() -> None:
    shown = str(telegram_preview('<b>gras</b> <script>alert(1)</script> <img src=x onerror="alert(1)">'))
    assert shown.startswith("<b>gras</b> &lt;script&gt;alert(1)&lt;/script&gt; &lt;img")
    assert "<script" not in shown and "<img" not in shown
    assert str(telegram_preview('<a href="javascript:alert(1)">x</a>')) == "<span>x</span>"
    link = str(telegram_preview('<a href="https://example.org/?a=1&amp;b=2">x</a>'))
    assert link.startswith('<a href="https://example.org/?a=1&amp;b=2" rel=')
    assert str(telegram_preview('<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>')) == (
        '<span class="spoiler">s</span><span class="spoiler">t</span>'
    )
    assert (
        str(telegram_preview("<b><i>x</b> <u onclick='x'>y")) == "<b><i>x</i></b> <u>y</u>"
    )  # balanced, no attributes
    # an unclosed <script> or <style> is text too: the rest of what was typed still shows
    assert str(telegram_preview("<script>alert(1) <b>bold</b>")) == "&lt;script&gt;alert(1) <b>bold</b>"


async def test_a_preview_renders_telegram_html_safely(web: Web) -> None:
    await web.sign_in(STAFF)
    fr = "<b>Gras</b> &lt;script&gt;alert(1)&lt;/script&gt; {stipend}"
    data = {"offer": "all", "base": "0", "fr": fr, "en": EN, "action": "preview"}
    response = await web.post("/faq/topic/stipend/edit", data)
    assert response.status == 200
    page = await response.text()
    assert "<b>Gras</b> &lt;script&gt;alert(1)&lt;/script&gt; 13\u00a0000,00\u00a0$ CA" in page
    assert "<script>alert" not in page
    assert "OIM Rabat — lutte contre la traite" in html.unescape(page)  # a preview for each offer
    assert await revisions(web) == []  # a preview publishes nothing


async def test_the_edit_form_starts_from_what_is_live(web: Web) -> None:
    await web.sign_in(STAFF)
    faq = web.context.faq
    geneva = await text_of(await web.client.get(f"/faq/topic/stipend/edit?offer={GENEVA}"))
    assert f">{faq.template('stipend', faq.programs[GENEVA], 'fr')}</textarea>" in geneva
    everyone = await text_of(await web.client.get("/faq/topic/stipend/edit?offer=all"))
    assert 'name="fr" lang="fr" required></textarea>' in everyone  # the built-in answer differs by offer
    assert f"{faq.template('stipend', faq.programs[RABAT], 'fr')}</pre>" in everyone  # each shown instead
    assert (await publish(web, "stipend", FR, EN)).status == 303
    everyone = await text_of(await web.client.get("/faq/topic/stipend/edit?offer=all"))
    assert f">{FR}</textarea>" in everyone and 'name="base" value="1"' in everyone
    assert (await web.client.get("/faq/topic/stipend/edit?offer=nowhere")).status == 404


# --- publishing ---------------------------------------------------------------------------------


@on_both_backends
async def test_publishing_is_live_for_the_bot_and_audited(web: Web) -> None:
    await web.sign_in(STAFF)
    response = await publish(web, "stipend", FR, EN)
    assert response.status == 303
    assert response.headers["Location"] == "/faq/topic/stipend?done=published"
    geneva = web.context.faq.programs[GENEVA]
    assert web.context.faq.template("stipend", geneva, "fr") == FR  # the site shows it at once
    not_stated = "the offer does not state it"  # Rabat states no stipend
    assert await the_bot_answers(web, "stipend", RABAT, "en") == f"<b>Stipend</b>: {not_stated}, paid monthly."
    (entry,) = [e for e in await audit(web) if e.action == "faq.publish"]
    assert entry.actor_role == "staff"
    assert entry.detail["topic"] == "stipend" and entry.detail["program"] is None
    shown = await text_of(await web.client.get("/faq/topic/stipend?done=published"))
    assert "Publié" in shown and FR in shown and "Version 1, 2 mars 2026, 10 h 00, par équipe" in shown


async def test_a_text_typed_in_a_browser_is_stored_as_telegram_would(web: Web) -> None:
    await web.sign_in(STAFF)
    assert (
        await publish(web, "stipend", "Ligne 1\r\nLigne 2 : {stipend}", "Line 1\r\nLine 2: {stipend}")
    ).status == 303
    (revision,) = await revisions(web)
    assert (revision.text_fr, revision.text_en) == ("Ligne 1\nLigne 2 : {stipend}", "Line 1\nLine 2: {stipend}")


async def test_a_double_click_on_publish_publishes_once_and_says_published(web: Web) -> None:
    await web.sign_in(STAFF)
    first, second = await publish(web, "stipend", FR, EN), await publish(web, "stipend", FR, EN)
    assert first.status == second.status == 303  # the second finds its own text live
    assert second.headers["Location"] == "/faq/topic/stipend?done=published"
    assert len(await revisions(web)) == 1
    other = await publish(web, "stipend", FR + " !", EN)  # a different text on the same old form: refused
    assert other.status == 409


async def test_an_admin_publishes_as_an_admin(web: Web) -> None:
    await web.sign_in(ADMIN)
    assert (await publish(web, "stipend", FR, EN)).status == 303
    assert [e.actor_role for e in await audit(web)] == ["admin"]


async def test_a_refused_text_is_explained_and_kept(web: Web) -> None:
    await web.sign_in(STAFF)
    fr = "Allocation : {montant} <i>par mois</i>"
    response = await publish(web, "stipend", fr, EN)
    assert response.status == 422
    shown = await text_of(response)
    assert "Ce texte ne peut pas être publié (Français)" in shown and "{montant}" in shown
    assert f">{fr}</textarea>" in shown and f">{EN}</textarea>" in shown  # both texts kept
    response = await publish(web, "stipend", FR, "")  # both languages are required
    assert response.status == 422
    assert "(Anglais)" in await text_of(response)
    response = await publish(web, "stipend", "<script>x</script>", EN)
    assert response.status == 422
    assert "&lt;script&gt;x&lt;/script&gt;</textarea>" in await response.text()
    await web.client.get("/lang/en")
    response = await publish(web, "stipend", fr, EN)
    assert "This text cannot be published (French)" in await text_of(response)
    assert await revisions(web) == [] and await audit(web) == []


@on_both_backends
async def test_a_form_opened_before_someone_else_published_is_refused(web: Web) -> None:
    await web.sign_in(STAFF)
    form = await (await web.client.get("/faq/topic/stipend/edit?offer=all")).text()
    assert 'name="base" value="0"' in form
    assert (await publish(web, "stipend", FR, EN)).status == 303  # someone else, meanwhile
    mine = "Mon texte : {stipend}"
    response = await publish(web, "stipend", mine, EN, base=0)
    assert response.status == 409
    shown = await text_of(response)
    assert "Rien n’a été publié" in shown and "version 1" in shown
    assert f'<pre class="source">{FR}</pre>' in shown  # what is live now
    assert f">{mine}</textarea>" in shown  # what they typed
    assert 'name="base" value="1"' in shown  # publishing again replaces it knowingly
    assert len(await revisions(web)) == 1
    assert (await publish(web, "stipend", mine, EN, base=1)).status == 303
    assert web.context.faq.template("stipend", web.context.faq.programs[GENEVA], "fr") == mine


async def test_an_offer_s_own_answer_and_going_back(web: Web) -> None:
    await web.sign_in(STAFF)
    own = "Pour Genève : {stipend}"
    assert (await publish(web, "stipend", own, EN, offer=GENEVA)).status == 303
    data = {"offer": "all", "base": "0", "fr": FR, "en": EN, "action": "preview"}
    shown = await text_of(await web.post("/faq/topic/stipend/edit", data))
    assert "cette offre a sa propre réponse, qui reste en ligne" in shown  # as Telegram's preview says
    page = await text_of(await web.client.get("/faq/topic/stipend"))
    assert "Revenir à la réponse de toutes les offres" in page
    (revision,) = await revisions(web)
    back = {"offer": GENEVA, "base": str(revision.id)}
    response = await web.post("/faq/topic/stipend/builtin", back, allow_redirects=False)
    assert response.status == 303
    assert await the_bot_answers(web, "stipend", GENEVA, "fr") == (
        web.context.faq.text("stipend", web.context.faq.programs[GENEVA], "fr", date(2026, 3, 2))
    )
    assert "Pour Genève" not in (await the_bot_answers(web, "stipend", GENEVA, "fr") or "")
    assert [r.text_fr for r in await revisions(web)] == [own, None]
    again = await web.post("/faq/topic/stipend/builtin", back, allow_redirects=False)
    assert again.status == 409  # nothing left to go back from
    assert len(await revisions(web)) == 2


# --- history ------------------------------------------------------------------------------------


@on_both_backends
async def test_history_shows_differences_and_restores(web: Web) -> None:
    await web.sign_in(STAFF)
    assert (await publish(web, "stipend", "Un <b>deux</b> trois {stipend}", EN)).status == 303
    web.clock.advance(3600)
    assert (await publish(web, "stipend", "Un <b>quatre</b> trois {stipend}", EN, base=1)).status == 303
    response = await web.client.get("/faq/topic/stipend/history")
    assert response.status == 200
    page = await response.text()
    assert '<del class="diff">&lt;b&gt;deux&lt;/b&gt;</del><ins class="diff">&lt;b&gt;quatre&lt;/b&gt;</ins>' in page
    assert "2 mars 2026, 11 h 00, par équipe" in html.unescape(page)
    response = await web.post("/faq/topic/stipend/restore", {"revision": "1"}, allow_redirects=False)
    assert response.status == 303
    geneva = web.context.faq.programs[GENEVA]
    assert web.context.faq.template("stipend", geneva, "fr") == "Un <b>deux</b> trois {stipend}"
    assert (await revisions(web))[-1].restored_from == 1
    assert [e.action for e in await audit(web)] == ["faq.publish", "faq.publish", "faq.restore"]
    shown = await text_of(await web.client.get("/faq/topic/stipend/history?restored=1"))
    assert "La version 1 est de nouveau en ligne" in shown and "reprise de la version 1" in shown
    other = await web.post("/faq/topic/deadline/restore", {"revision": "1"}, allow_redirects=False)
    assert other.status == 404  # a version of another topic
    assert len(await revisions(web)) == 3


async def test_history_is_shown_ten_versions_at_a_time(web: Web) -> None:
    await web.sign_in(STAFF)
    for number in range(1, 12):
        assert (await publish(web, "deadline", f"Texte {number}", f"Text {number}", base=number - 1)).status == 303
    first = await text_of(await web.client.get("/faq/topic/deadline/history"))
    assert "Version 11 — Toutes les offres" in first and "Version 2 —" in first and "Version 1 —" not in first
    assert "?from=10" in first and "Versions plus récentes" not in first
    older = await text_of(await web.client.get("/faq/topic/deadline/history?from=10"))
    assert "Version 1 —" in older and "Version 2 —" not in older and "Versions plus récentes" in older


# --- new topics and examples ------------------------------------------------------------------


@on_both_backends
async def test_a_new_topic(web: Web) -> None:
    await web.sign_in(STAFF)
    values = {"title_fr": "Logement", "title_en": "Housing", "fr": "Logé : <i>non</i>.", "en": "Housing: <i>no</i>."}
    refused = await web.post("/faq/new", {**values, "title_fr": "<b>Logement</b>", "action": "publish"})
    assert refused.status == 422
    shown = await text_of(refused)
    assert "Chaque titre tient sur une ligne" in shown and 'value="Housing"' in shown
    preview = await web.post("/faq/new", {**values, "action": "preview"})
    assert 'class="bubble">Logé : <i>non</i>.</div>' in await preview.text()
    response = await web.post("/faq/new", {**values, "action": "publish"}, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/faq/topic/housing?done=created"
    assert "housing" in web.context.faq.topics()
    assert web.context.faq.title("housing", "en") == "Housing"
    assert await the_bot_answers(web, "housing", RABAT, "en") == "Housing: <i>no</i>."
    assert [e.action for e in await audit(web)] == ["faq.topic", "faq.publish"]
    listed = await text_of(await web.client.get("/faq"))
    assert "Logement" in listed and "sujet créé par le personnel" in listed


@on_both_backends
async def test_adding_an_example_question(web: Web) -> None:
    await web.sign_in(STAFF)
    question = "c payé combien par mois?"
    response = await web.post("/faq/topic/stipend/examples", {"text": question, "lang": "fr"}, allow_redirects=False)
    assert response.status == 303
    assert store.StaffExample("stipend", "fr", question) in web.context.faq.content.examples
    shown = await text_of(await web.client.get("/faq/topic/stipend?done=example"))
    assert question in shown and "Exemple ajouté" in shown
    assert "Exemples intégrés" in shown  # the data file's examples too
    (entry,) = await audit(web)
    assert entry.action == "faq.example" and entry.actor_role == "staff"
    async with web.context.sessions.begin() as session:  # from /faq_gaps: someone's own question
        asker = await repo.lock_person(session, "telegram", "555001", web.clock.now())
        author = store.Author(None, "staff")
        await store.add_example(session, "stipend", "en", "how much $$$", author, web.clock.now(), asker=asker.id)
    await web.context.refresh_now()
    shown = await text_of(await web.client.get("/faq/topic/stipend"))
    assert "how much $$$ " in shown and "question d’une personne" in shown  # its words, as in /faq_gaps
    assert "555001" not in shown and f"/{asker.id}" not in shown  # never who asked
    async with web.context.sessions.begin() as session:
        await repo.erase_person(session, asker.id, web.clock.now())
    await web.context.refresh_now()
    assert "how much $$$" not in await text_of(await web.client.get("/faq/topic/stipend"))  # erased with them
    too_long = "x" * (store.MAX_EXAMPLE + 1)
    refused = await web.post("/faq/topic/stipend/examples", {"text": too_long, "lang": "en"})
    assert refused.status == 422
    assert too_long in await refused.text()  # kept in the form
    assert [e.action for e in await audit(web)] == ["faq.example", "faq.example", "faq.example.erased"]


# --- who may ------------------------------------------------------------------------------------


async def test_staff_only_and_signed_in_only(web: Web) -> None:
    assert (await web.client.get("/faq", allow_redirects=False)).headers["Location"] == "/login?next=%2Ffaq"
    await web.sign_in(ORGANIZER)
    assert (await web.client.get("/faq")).status == 403
    assert (await web.client.get("/faq/topic/stipend")).status == 403
    assert (await publish(web, "stipend", FR, EN)).status == 403
    web.client.session.cookie_jar.clear()
    await web.sign_in(STAFF)
    assert (await web.client.get("/faq")).status == 200
    assert await revisions(web) == []


async def test_a_change_without_the_csrf_token_is_refused(web: Web) -> None:
    await web.sign_in(STAFF)
    data = {"offer": "all", "base": "0", "fr": FR, "en": EN, "action": "publish"}
    response = await web.client.post("/faq/topic/stipend/edit", data=data)
    assert response.status == 403
    assert await revisions(web) == []


async def test_switching_language_while_editing_keeps_what_was_typed(web: Web) -> None:
    await web.sign_in(STAFF)
    page = await text_of(await web.client.get("/faq/topic/stipend/edit?offer=all", headers={"Accept-Language": "fr"}))
    assert 'form="faq-form"' in page  # the language switch sends the form
    data = {"offer": "all", "base": "0", "fr": FR, "en": EN, "action": "preview"}
    switched = await web.post("/faq/topic/stipend/edit?lang=en", data)
    shown = await text_of(switched)
    assert switched.status == 200
    assert "Preview" in shown and f">{FR}</textarea>" in shown and f">{EN}</textarea>" in shown
    assert await revisions(web) == []  # nothing published
