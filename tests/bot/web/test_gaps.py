"""Unanswered questions on the site: grouped, most asked first, with counts and dates; one click
makes a question (or a group) an example of a topic, as /faq_gaps does, with the same audit entry;
dismissing, a new topic, a question handled meanwhile, and who may do all this."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from bot.faq import store
from bot.storage import repo
from bot.storage.models import AuditEntry, UnansweredQuestion

from ...conftest import BACKENDS
from .conftest import ADMIN, ORGANIZER, STAFF, Web

on_both_backends = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


async def text_of(response: Any) -> str:
    return html.unescape(await response.text())


async def ask(web: Web, asker: str, text: str, lang: str = "fr", *, days_ago: int = 0) -> int:
    """Someone asks the bot a question it cannot answer (as the conversation records it)."""
    at = web.clock.now() - timedelta(days=days_ago)
    async with web.context.sessions.begin() as session:
        person = await repo.lock_person(session, "telegram", asker, at)
        await repo.record_unanswered(session, person.id, text, lang, at=at)
        await session.flush()
        return int(await session.scalar(select(UnansweredQuestion.id).order_by(UnansweredQuestion.id.desc())) or 0)


async def staff_person(web: Web) -> int:
    """The staff member wrote to the bot once: the audit log names their row."""
    async with web.context.sessions.begin() as session:
        return (await repo.lock_person(session, "telegram", str(STAFF), web.clock.now())).id


async def waiting(web: Web) -> list[str]:
    async with web.context.sessions() as session:
        return [q.text for q in await store.unanswered(session)]


async def audit(web: Web) -> list[AuditEntry]:
    async with web.context.sessions() as session:
        return list((await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars())


async def seed(web: Web) -> dict[str, int]:
    return {
        "old": await ask(web, "11", "Y a-t-il un logement?", days_ago=3),
        "again": await ask(web, "12", "y a t il un logement", days_ago=1),
        "parking": await ask(web, "13", "Où stationner?"),
        "english": await ask(web, "14", "Is there housing?", "en"),
    }


# --- who may -------------------------------------------------------------------------------------


async def test_signed_out_is_sent_to_sign_in_or_refused(web: Web) -> None:
    shown = await web.client.get("/gaps", allow_redirects=False)
    assert shown.status == 303
    assert shown.headers["Location"] == "/login?next=%2Fgaps"
    assert (await web.client.post("/gaps", data={"id": "1", "action": "dismiss"})).status == 401


@pytest.mark.parametrize("user", [STAFF, ADMIN])
async def test_staff_and_admins_see_the_page(web: Web, user: int) -> None:
    await web.sign_in(user)
    response = await web.client.get("/gaps")
    assert response.status == 200
    assert "Aucune question en attente." in await text_of(response)


async def test_organizers_are_refused(web: Web) -> None:
    ids = await seed(web)
    await web.sign_in(ORGANIZER)
    assert (await web.client.get("/gaps")).status == 403
    response = await web.post("/gaps", {"id": str(ids["parking"]), "action": "dismiss"})
    assert response.status == 403
    assert len(await waiting(web)) == 4


async def test_a_change_without_the_csrf_token_is_refused(web: Web) -> None:
    ids = await seed(web)
    await web.sign_in(STAFF)
    response = await web.client.post("/gaps", data={"id": str(ids["parking"]), "action": "dismiss"})
    assert response.status == 403
    assert len(await waiting(web)) == 4
    assert await audit(web) == []


# --- the list ------------------------------------------------------------------------------------


async def test_questions_are_grouped_most_asked_first_with_counts_and_dates(web: Web) -> None:
    await seed(web)
    await web.sign_in(STAFF)
    page = await text_of(await web.client.get("/gaps"))
    # the two wordings of the housing question are one group, asked by two people, shown first
    assert page.index("y a t il un logement") < page.index("Où stationner?")
    assert "Personnes\u00a0: 2 · questions\u00a0: 2" in page
    assert "du 27 février 2026, 10 h 00 au 1er mars 2026, 10 h 00" in page  # 15:00 UTC is 10 h in Toronto
    assert "Toutes les formulations (2)" in page
    assert "Is there housing?" in page and "en anglais" in page
    assert "Où stationner?" in page and "le 2 mars 2026, 10 h 00" in page


async def test_the_page_in_english(web: Web) -> None:
    await seed(web)
    await web.sign_in(STAFF)
    await web.client.get("/lang/en")
    page = await text_of(await web.client.get("/gaps"))
    assert "People: 2 · questions: 2" in page
    assert "from February 27, 2026, 10:00 to March 1, 2026, 10:00" in page
    assert "Add the group as an example" in page


# --- changes -------------------------------------------------------------------------------------


@on_both_backends
async def test_adding_a_group_makes_its_newest_wording_an_example_and_handles_it(web: Web) -> None:
    ids = await seed(web)
    me = await staff_person(web)
    await web.sign_in(STAFF)
    data = {"id": [str(ids["again"]), str(ids["old"])], "topic": "location", "action": "add"}
    response = await web.post("/gaps", data, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/gaps?done=added&topic=location"
    async with web.context.sessions() as session:
        content = await store.load(session)
    assert store.StaffExample("location", "fr", "y a t il un logement", from_question=True) in content.examples
    assert sorted(await waiting(web)) == ["Is there housing?", "Où stationner?"]
    [entry] = await audit(web)
    assert (entry.action, entry.actor_id, entry.actor_role) == ("faq.example", me, "staff")
    assert entry.detail == {"topic": "location", "lang": "fr"}
    assert entry.at == web.clock.now()
    page = await text_of(await web.client.get(response.headers["Location"]))
    assert "Ajoutée comme exemple du sujet «\u00a0Lieu\u00a0»." in page
    assert "y a t il un logement" not in page
    # the site's own matcher knows the example at once
    assert any(e.text == "y a t il un logement" for e in web.context.faq.content.examples)


async def test_adding_one_question_of_a_group_leaves_the_others(web: Web) -> None:
    ids = await seed(web)
    await web.sign_in(STAFF)
    data = {"id": [str(ids["again"]), str(ids["old"])], "only": str(ids["old"]), "topic": "location"}
    assert (await web.post("/gaps", data, allow_redirects=False)).status == 303
    async with web.context.sessions() as session:
        content = await store.load(session)
    assert [e.text for e in content.examples] == ["Y a-t-il un logement?"]
    assert "y a t il un logement" in await waiting(web)
    assert "Y a-t-il un logement?" not in await waiting(web)


async def test_an_admin_acts_as_admin(web: Web) -> None:
    ids = await seed(web)
    await web.sign_in(ADMIN)
    data = {"id": str(ids["english"]), "topic": "location", "action": "add"}
    assert (await web.post("/gaps", data, allow_redirects=False)).status == 303
    [entry] = await audit(web)
    assert (entry.action, entry.actor_role, entry.actor_id) == ("faq.example", "admin", None)


@on_both_backends
async def test_dismissing_handles_the_group_and_is_audited(web: Web) -> None:
    ids = await seed(web)
    me = await staff_person(web)
    await web.sign_in(STAFF)
    data = {"id": [str(ids["again"]), str(ids["old"])], "action": "dismiss"}
    response = await web.post("/gaps", data, allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (303, "/gaps?done=dismissed")
    assert sorted(await waiting(web)) == ["Is there housing?", "Où stationner?"]
    [entry] = await audit(web)
    assert (entry.action, entry.actor_id, entry.detail) == ("faq.dismiss", me, {"count": 2})
    async with web.context.sessions() as session:
        assert (await store.load(session)).examples == ()


async def test_a_new_topic_opens_the_faq_form_with_the_question(web: Web) -> None:
    ids = await seed(web)
    await web.sign_in(STAFF)
    data = {"id": [str(ids["again"]), str(ids["old"])], "action": "new"}
    response = await web.post("/gaps", data, allow_redirects=False)
    assert response.status == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == "/faq/new"
    assert parse_qs(location.query)["example"] == [str(ids["again"]), str(ids["old"])]  # newest first
    assert len(await waiting(web)) == 4  # nothing changes until the topic is published
    assert await audit(web) == []

    shown = await text_of(await web.client.get(response.headers["Location"]))
    assert "y a t il un logement" in shown and "Y a-t-il un logement?" in shown
    form = {
        "title_fr": "Logement",
        "title_en": "Housing",
        "fr": "L’offre ne mentionne pas de logement.",
        "en": "The offer does not mention housing.",
        "example": [str(ids["again"]), str(ids["old"])],
        "action": "publish",
    }
    created = await web.post("/faq/new", form, allow_redirects=False)
    assert created.status == 303, await created.text()
    assert sorted(await waiting(web)) == ["Is there housing?", "Où stationner?"]  # the group is handled
    async with web.context.sessions() as session:
        content = await store.load(session)
    assert [(e.topic, e.text, e.from_question) for e in content.examples] == [("housing", "y a t il un logement", True)]
    assert [a.action for a in await audit(web)] == ["faq.topic", "faq.publish", "faq.example"]


async def test_adding_without_a_topic_says_so_and_changes_nothing(web: Web) -> None:
    ids = await seed(web)
    await web.sign_in(STAFF)
    response = await web.post("/gaps", {"id": str(ids["parking"]), "topic": "", "action": "add"})
    assert response.status == 422
    assert "Choisissez le sujet auquel ajouter la question." in await text_of(response)
    unknown = await web.post("/gaps", {"id": str(ids["parking"]), "topic": "nope", "action": "add"})
    assert unknown.status == 422
    assert len(await waiting(web)) == 4
    assert await audit(web) == []


async def test_a_question_handled_meanwhile_is_not_added_twice(web: Web) -> None:
    ids = await seed(web)
    await web.sign_in(STAFF)
    async with web.context.sessions.begin() as session:
        await store.mark_handled(session, [ids["parking"]], web.clock.now())
    response = await web.post("/gaps", {"id": str(ids["parking"]), "topic": "location", "action": "add"})
    assert response.status == 200
    assert "déjà été traitées" in await text_of(response)
    assert await audit(web) == []
    garbled = await web.post("/gaps", {"id": "x", "action": "add"})
    assert garbled.status == 400


async def test_examples_count_only_the_question_not_who_asked(web: Web) -> None:
    await seed(web)
    await web.sign_in(STAFF)
    page = await text_of(await web.client.get("/gaps"))
    for asker in ("11", "12", "13", "14"):
        assert f">{asker}<" not in page
