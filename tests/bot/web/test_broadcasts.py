"""/broadcasts over HTTP: compose with a live count and a preview, send now or at a local time,
live progress, pause / resume / cancel, the delivery report and its chart; roles, CSRF, bad ids."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.broadcasts import schedule
from bot.storage.models import AuditEntry, Broadcast, OutboxMessage

from ...conftest import BACKENDS
from ..broadcasts.test_store import QC, person
from .conftest import ADMIN, ORGANIZER, STAFF, Web

on_both_databases = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

FRENCH = {"Accept-Language": "fr-CA,fr;q=0.9"}
ENGLISH = {"Accept-Language": "en-CA,en;q=0.9"}
MESSAGE = {
    "text_fr": "<b>Bonjour</b>, la date limite approche.",
    "text_en": "<b>Hello</b>, the deadline is near.",
    "kind": "subscribers",
    "offer": "all",
    "language": "both",
}


@pytest.fixture
async def people(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """Three people who opted in (two read French, one English), one who did not."""
    async with sessions.begin() as session:
        return {
            "amina": await person(session, 101, lang="fr", verdicts={QC: "eligible"}),
            "ben": await person(session, 102, lang="en", verdicts={QC: "not_eligible"}),
            "chloe": await person(session, 103, lang=None, verdicts={QC: "eligible"}),
            "never_opted_in": await person(session, 104, lang="fr", subscribed=()),
        }


async def _send(web: Web, **changes: str) -> Any:
    return await web.post("/broadcasts/new", {**MESSAGE, "action": "send", **changes}, allow_redirects=False)


async def _rows(web: Web, broadcast_id: int | None = None) -> int:
    async with web.context.sessions() as session:
        query = select(func.count()).select_from(OutboxMessage)
        if broadcast_id is not None:
            query = query.where(OutboxMessage.broadcast_id == broadcast_id)
        return int(await session.scalar(query) or 0)


async def _broadcast(web: Web, broadcast_id: int) -> Broadcast:
    async with web.context.sessions() as session:
        found = await session.get(Broadcast, broadcast_id)
        assert found is not None
        return found


def _created_id(response: Any) -> int:
    assert response.status == 303, response.status
    found = re.fullmatch(r"/broadcasts/(\d+)\?done=\w+", response.headers["Location"])
    assert found is not None, response.headers["Location"]
    return int(found.group(1))


async def test_organizers_and_admins_only(web: Web) -> None:
    anonymous = await web.client.get("/broadcasts/new", allow_redirects=False)
    assert anonymous.status == 303 and anonymous.headers["Location"].startswith("/login?next=")
    assert (await web.client.post("/broadcasts/new", data=MESSAGE)).status == 401
    await web.sign_in(STAFF)
    for path in ("/broadcasts", "/broadcasts/new", "/broadcasts/reach?kind=subscribers"):
        assert (await web.client.get(path)).status == 403, path
    assert (await _send(web)).status == 403
    await web.sign_in(ORGANIZER)
    for path in ("/broadcasts", "/broadcasts/new"):
        assert (await web.client.get(path)).status == 200, path
    await web.sign_in(ADMIN)
    assert (await web.client.get("/broadcasts")).status == 200


async def test_a_post_without_the_csrf_token_is_refused_and_nothing_is_sent(web: Web, people: dict[str, int]) -> None:
    await web.sign_in(ORGANIZER)
    response = await web.client.post("/broadcasts/new", data={**MESSAGE, "action": "send"})
    assert response.status == 403
    assert await _rows(web) == 0


async def test_the_audience_is_counted_live_as_it_is_chosen(web: Web, people: dict[str, int]) -> None:
    await web.sign_in(ORGANIZER)
    form = await (await web.client.get("/broadcasts/new", headers=ENGLISH)).text()
    assert 'hx-get="/broadcasts/reach"' in form and 'hx-trigger="change"' in form
    assert "3 people right now (2 in French, 1 in English)" in form  # chloe reads the default, French

    async def reach(**fields: str) -> str:
        query = {"kind": "subscribers", "offer": "all", "language": "both", **fields}
        response = await web.client.get("/broadcasts/reach", params=query, headers=FRENCH)
        assert response.status == 200
        return await response.text()

    assert "3 personnes en ce moment (2 en français, 1 en anglais)" in await reach()
    assert "1 personne en ce moment (0 en français, 1 en anglais)" in await reach(language="en")
    assert "2 personnes" in await reach(kind="eligible", offer=QC)
    assert "0 personne en ce moment" in await reach(kind="incomplete", offer=QC)
    assert "Choisissez une offre" in await reach(kind="eligible")
    assert "n’existe pas" in await reach(offer="nowhere")


async def test_the_preview_shows_both_texts_as_telegram_does_and_why_one_is_refused(web: Web) -> None:
    await web.sign_in(ORGANIZER)
    response = await web.post(
        "/broadcasts/preview", {"text_fr": "<b>Bonjour</b> <script>x</script>", "text_en": "<b>Hello"}
    )
    html = await response.text()
    assert '<div class="bubble"><b>Bonjour</b> &lt;script&gt;x&lt;/script&gt;</div>' in html
    assert "Stop all messages" in html or "Ne plus recevoir" in html  # each copy's stop button
    assert html.count('class="notice error"') == 2  # the French text's <script>, the English text's open <b>
    # without htmx: the form's own preview button shows the page again with the preview, saving nothing
    shown = await web.post("/broadcasts/new", {**MESSAGE, "action": "preview"}, headers=ENGLISH)
    assert shown.status == 200
    page = await shown.text()
    assert '<div class="bubble"><b>Hello</b>, the deadline is near.</div>' in page
    assert "right now" in page  # the audience's count
    async with web.context.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Broadcast)) == 0


async def test_send_now_queues_every_recipient_and_is_audited(web: Web, people: dict[str, int]) -> None:
    await web.sign_in(ORGANIZER)
    created = _created_id(await _send(web))
    assert await _rows(web, created) == 3
    broadcast = await _broadcast(web, created)
    assert (broadcast.status, broadcast.origin, broadcast.created_role, broadcast.total) == (
        "sending",
        "web",
        "organizer",
        3,
    )
    assert broadcast.progress_chat_id is None and broadcast.scheduled_at is None
    async with web.context.sessions() as session:
        entry = (await session.execute(select(AuditEntry))).scalar_one()
    assert (entry.action, entry.actor_role, entry.detail["broadcast"], entry.detail["total"]) == (
        "broadcast.create",
        "organizer",
        created,
        3,
    )
    shown = await (await web.client.get(f"/broadcasts/{created}?done=send", headers=ENGLISH)).text()
    assert f"Broadcast #{created} created" in shown
    listed = await (await web.client.get("/broadcasts", headers=ENGLISH)).text()
    assert f'href="/broadcasts/{created}"' in listed
    assert "Subscribers — All offers — Both languages" in listed
    assert "organizer · staff website" in listed and "0 of 3 sent" in listed and "sending" in listed


async def test_nobody_in_the_audience_sends_nothing(web: Web, people: dict[str, int]) -> None:
    await web.sign_in(ORGANIZER)
    response = await _send(web, kind="incomplete", offer=QC)
    assert response.status == 400
    assert "Nobody" in await response.text() or "Personne" in await response.text()
    assert await _rows(web) == 0


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"text_fr": "<b>Bonjour"}, "Le texte en français ne peut pas être envoyé"),
        ({"text_en": "x" * 3600}, "Le texte en anglais ne peut pas être envoyé"),
        ({"text_en": "   "}, "Il manque le texte en anglais."),
        ({"kind": "eligible"}, "Choisissez une offre"),
    ],
)
async def test_bad_input_is_refused_in_the_viewers_language_and_the_form_kept(
    web: Web, people: dict[str, int], changes: dict[str, str], expected: str
) -> None:
    await web.sign_in(ORGANIZER)
    await web.client.get("/lang/fr")
    response = await _send(web, **changes)
    assert response.status == 400
    html = await response.text()
    assert expected in html
    kept = {**MESSAGE, **changes}
    for name in ("text_fr", "text_en"):
        typed = kept[name].strip().replace("<", "&lt;").replace(">", "&gt;")
        assert f">{typed}</textarea>" in html, name
    assert f'<option value="{kept["kind"]}" selected>' in html
    async with web.context.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Broadcast)) == 0


@on_both_databases
async def test_a_scheduled_broadcast_is_queued_at_its_local_time_once(
    web: Web, people: dict[str, int], sessions: async_sessionmaker[AsyncSession]
) -> None:
    await web.sign_in(ORGANIZER)
    # the clock: 2 March 2026, 15:00 UTC = 10:00 in Montréal (EST)
    schedule_at = {**MESSAGE, "action": "schedule", "when": "2026-03-02T09:59"}
    past = await web.post("/broadcasts/new", schedule_at, headers=ENGLISH)
    assert past.status == 400 and "This time has already passed" in await past.text()
    assert (await web.post("/broadcasts/new", {**MESSAGE, "action": "schedule", "when": "soon"})).status == 400
    skipped = await web.post("/broadcasts/new", {**MESSAGE, "action": "schedule", "when": "2026-03-08T02:30"})
    assert skipped.status == 400  # clocks spring forward from 2:00 to 3:00 that night
    response = await web.post(
        "/broadcasts/new", {**MESSAGE, "action": "schedule", "when": "2026-03-03T09:30"}, allow_redirects=False
    )
    created = _created_id(response)
    broadcast = await _broadcast(web, created)
    assert broadcast.status == "scheduled"
    assert broadcast.scheduled_at == datetime(2026, 3, 3, 14, 30, tzinfo=UTC)
    assert await _rows(web) == 0
    shown = await (await web.client.get(f"/broadcasts/{created}", headers=ENGLISH)).text()
    assert "Its audience will be chosen then" in shown and "March 3, 2026, 9:30" in shown
    assert 'hx-trigger="every 10s"' in shown
    async with sessions.begin() as session:  # subscribes meanwhile
        await person(session, 105, lang="en")
    web.clock.advance(23 * 3600)  # 3 March, 14:00 UTC: not yet
    assert await schedule.start_due(sessions, web.clock.now(), "fr") == []
    web.clock.advance(3600)
    job = schedule.job(sessions, "fr")
    assert await job.run_once(web.clock.now()) == [created]
    assert await job.run_once(web.clock.now()) == []
    assert await _rows(web, created) == 4
    assert (await _broadcast(web, created)).status == "sending"
    async with web.context.sessions() as session:
        actions = list((await session.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars())
    assert actions == ["broadcast.schedule", "broadcast.start"]


async def test_a_scheduled_broadcast_cancelled_before_its_time_never_starts(web: Web, people: dict[str, int]) -> None:
    await web.sign_in(ORGANIZER)
    created = _created_id(
        await web.post(
            "/broadcasts/new", {**MESSAGE, "action": "schedule", "when": "2026-03-02T11:00"}, allow_redirects=False
        )
    )
    pause = await web.post(f"/broadcasts/{created}/pause", headers=ENGLISH)
    assert pause.status == 409 and "cannot be paused: it is scheduled" in await pause.text()
    cancel = await web.post(f"/broadcasts/{created}/cancel", allow_redirects=False)
    assert cancel.status == 303
    web.clock.advance(2 * 3600)
    assert await schedule.start_due(web.context.sessions, web.clock.now(), "fr") == []
    assert await _rows(web) == 0
    assert (await _broadcast(web, created)).status == "cancelled"


async def test_pause_resume_cancel_and_a_finished_one_says_why_not(web: Web, people: dict[str, int]) -> None:
    await web.sign_in(ORGANIZER)
    created = _created_id(await _send(web))
    for action, status in (("pause", "paused"), ("resume", "sending"), ("pause", "paused")):
        response = await web.post(f"/broadcasts/{created}/{action}", allow_redirects=False)
        assert response.status == 303 and response.headers["Location"] == f"/broadcasts/{created}?done={action}"
        assert (await _broadcast(web, created)).status == status
    again = await web.post(f"/broadcasts/{created}/pause", headers=ENGLISH)
    assert again.status == 409 and "cannot be paused: it is paused" in await again.text()
    assert (await web.post(f"/broadcasts/{created}/cancel", allow_redirects=False)).status == 303
    assert (await _broadcast(web, created)).status == "cancelled"
    assert await _rows(web, created) == 3
    async with web.context.sessions() as session:
        cancelled = await session.scalar(
            select(func.count()).where(OutboxMessage.broadcast_id == created, OutboxMessage.status == "cancelled")
        )
        actions = list((await session.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars())
    assert cancelled == 3
    assert actions == [
        "broadcast.create",
        "broadcast.pause",
        "broadcast.resume",
        "broadcast.pause",
        "broadcast.cancel",
    ]
    resume = await web.post(f"/broadcasts/{created}/resume", headers=FRENCH)
    assert resume.status == 409 and "Impossible de reprendre cette diffusion : elle est annulée." in await resume.text()


async def test_live_progress_then_the_delivery_report_with_its_chart(web: Web, sessions: Any) -> None:
    async with sessions.begin() as session:
        for external in range(201, 207):
            await person(session, external, lang="en")
    await web.sign_in(ORGANIZER)
    created = _created_id(await _send(web))
    fragment = await (await web.client.get(f"/broadcasts/{created}/progress", headers=ENGLISH)).text()
    assert 'hx-trigger="every 2s"' in fragment
    assert '<progress max="6" value="0">' in fragment and "0 of 6 handled" in fragment
    assert '<td class="num" data-count="waiting">6</td>' in fragment
    assert "<svg" not in fragment  # no report while it runs
    # the senders' work: 3 sent, 2 blocked the bot, 1 refused by Telegram
    async with sessions.begin() as session:
        ids = list(
            (
                await session.execute(
                    select(OutboxMessage.id).where(OutboxMessage.broadcast_id == created).order_by(OutboxMessage.id)
                )
            ).scalars()
        )
        outcomes = [("sent", None)] * 3 + [("failed", "blocked")] * 2 + [("failed", "chat not found")]
        for row_id, (status, error) in zip(ids, outcomes, strict=True):
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row_id).values(status=status, error=error)
            )
    running = await (await web.client.get(f"/broadcasts/{created}/progress", headers=ENGLISH)).text()
    assert '<progress max="6" value="6">' in running
    web.clock.advance(1)
    over = await web.post(f"/broadcasts/{created}/pause", headers=ENGLISH)  # nothing left: it is done
    assert over.status == 409 and "cannot be paused: it is done" in await over.text()
    report = await (await web.client.get(f"/broadcasts/{created}/progress", headers=ENGLISH)).text()
    assert "hx-trigger" not in report  # the polling stops
    assert "Delivery report" in report and "chat not found" in report
    chart = report[report.index("<svg") : report.index("</svg>")]
    assert "style=" not in chart
    bars = re.findall(r'<rect class="bar (\w+)"[^>]*><title>([^<]+)</title>', chart)
    assert bars == [("good", "Sent — 3"), ("bad", "Blocked — 2"), ("bad", "Failed — 1")]
    page = await (await web.client.get(f"/broadcasts/{created}", headers=FRENCH)).text()
    assert "Rapport de livraison" in page and "<svg" in page and "Envoyés — 3" in page


async def test_unknown_or_forged_ids_are_not_found(web: Web) -> None:
    await web.sign_in(ORGANIZER)
    for path in ("/broadcasts/999", "/broadcasts/abc", "/broadcasts/99999999999999999999", "/broadcasts/999/progress"):
        response = await web.client.get(path, headers=ENGLISH)
        assert response.status == 404, path
        assert "Traceback" not in await response.text()
    assert (await web.post("/broadcasts/999/pause")).status == 404
    assert (await web.post("/broadcasts/1/explode")).status == 404
