"""Statistics on the site: the funnel of each offer and language counted right for a small
population, days cut in the bot's time zone on both databases, by week, the CSV export with the same
figures, and who may see them."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.storage import repo
from bot.storage.models import Subscription
from bot.web import charts
from bot.web.stats import Period, Stage, count_stages
from dialogs.state import DialogState, Phase

from ...conftest import BACKENDS
from .conftest import ADMIN, ORGANIZER, STAFF, Web

QUEBEC = "quebec-psoig-2021-023"
RABAT = "iom-internship-rabat"
TORONTO_MIDNIGHT = 5  # UTC hour of midnight in Toronto in winter

on_both_backends = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


async def someone(
    web: Web,
    who: str,
    lang: str | None,
    offers: list[str],
    started: datetime,
    *,
    consented: datetime | None = None,
    verdicts: dict[str, str] | None = None,
    judged: datetime | None = None,
    subscribed: list[str] | None = None,
) -> None:
    """A person as the conversation leaves them: state, consent, verdicts, reminders."""
    async with web.context.sessions.begin() as session:
        person = await repo.lock_person(session, "telegram", who, started)
        person.language = lang
        state = DialogState(lang=lang or "fr", phase=Phase.DONE, programs=offers, consent=1 if consented else None)
        if consented is not None:
            person.consent_version, person.consent_at = 1, consented
        await repo.save_state(session, person.id, state.to_json(), at=started)
        if verdicts:
            found = [(offer, status, [], []) for offer, status in verdicts.items()]
            await repo.save_state(session, person.id, state.to_json(), found, at=judged or started)
        for offer in subscribed or []:
            session.add(Subscription(person_id=person.id, program_id=offer, topic="deadline", created_at=judged))


async def population(web: Web) -> None:
    now = web.clock.now()  # 2 March 2026, 10 h in Toronto
    await someone(
        web, "1", "fr", [QUEBEC], now, consented=now, verdicts={QUEBEC: "eligible"}, judged=now, subscribed=[QUEBEC]
    )
    late = datetime(2026, 3, 1, TORONTO_MIDNIGHT - 1, tzinfo=UTC)  # 28 February, 23 h in Toronto
    await someone(
        web,
        "2",
        "fr",
        [QUEBEC, RABAT],
        late,
        consented=late + timedelta(minutes=30),
        verdicts={QUEBEC: "not_eligible", RABAT: "eligible"},
        judged=datetime(2026, 3, 1, TORONTO_MIDNIGHT, tzinfo=UTC),  # 1 March, 0 h in Toronto
    )
    await someone(web, "3", "en", [RABAT], now)  # declined the privacy notice
    long_ago = now - timedelta(days=40)  # 21 January: in the weeks shown, not in the days
    await someone(
        web, "4", None, [QUEBEC], long_ago, consented=long_ago, verdicts={QUEBEC: "incomplete"}, judged=long_ago
    )


def table_rows(page: str) -> list[list[str]]:
    """Every table row's cells as text."""
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", page, flags=re.S):
        cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, flags=re.S)
        rows.append([html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells])
    return rows


async def text_of(response: Any) -> str:
    return html.unescape(await response.text())


def counts(started: int, consented: int, completed: int, eligible: int, subscribed: int) -> dict[Stage, int]:
    return dict(zip(Stage, (started, consented, completed, eligible, subscribed), strict=True))


# --- who may -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/stats", "/stats.csv"])
async def test_signed_out_is_sent_to_sign_in(web: Web, path: str) -> None:
    response = await web.client.get(path, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("path", ["/stats", "/stats.csv"])
async def test_organizers_and_admins_only(web: Web, path: str) -> None:
    await web.sign_in(STAFF)
    assert (await web.client.get(path)).status == 403
    for user in (ORGANIZER, ADMIN):
        web.client.session.cookie_jar.clear()
        await web.sign_in(user)
        assert (await web.client.get(path)).status == 200


# --- the counts ----------------------------------------------------------------------------------


@on_both_backends
async def test_each_stage_is_counted_on_its_day_in_the_bots_time_zone(web: Web) -> None:
    await population(web)
    async with web.context.sessions() as session:
        tally = await count_stages(session, "fr", web.context.config.zone, Period.DAY, date(2026, 3, 2))
    days = dict(tally.per_period())
    assert len(days) == 30 and list(days)[-1] == date(2026, 3, 2)
    assert days[date(2026, 3, 2)] == counts(2, 1, 1, 1, 1)
    assert days[date(2026, 3, 1)] == counts(0, 0, 2, 1, 0)  # judged at midnight in Toronto
    assert days[date(2026, 2, 28)] == counts(2, 2, 0, 0, 0)  # 1 March in UTC, still 28 February there
    assert sum(sum(day.values()) for day in days.values()) == 13  # the one of January is not in these days
    assert tally.per_offer() == [
        (RABAT, "en", counts(1, 0, 0, 0, 0)),
        (RABAT, "fr", counts(1, 1, 1, 1, 0)),
        (QUEBEC, "fr", counts(2, 2, 2, 1, 1)),
    ]


@on_both_backends
async def test_by_week_with_the_default_language(web: Web) -> None:
    await population(web)
    async with web.context.sessions() as session:
        tally = await count_stages(session, "fr", web.context.config.zone, Period.WEEK, date(2026, 3, 2), [QUEBEC])
    weeks = dict(tally.per_period())
    assert list(weeks)[-1] == date(2026, 3, 2)  # a Monday
    assert weeks[date(2026, 3, 2)] == counts(1, 1, 1, 1, 1)
    assert weeks[date(2026, 2, 23)] == counts(1, 1, 1, 0, 0)  # 28 February and 1 March
    assert weeks[date(2026, 1, 19)] == counts(1, 1, 1, 0, 0)  # no language chosen: the default, French
    assert tally.per_offer() == [(QUEBEC, "fr", counts(3, 3, 3, 1, 1))]


async def test_the_page_shows_the_funnel_as_charts_and_tables(web: Web) -> None:
    await population(web)
    await web.sign_in(ORGANIZER)
    page = await text_of(await web.client.get("/stats"))
    rows = table_rows(page)
    assert rows[1:5] == [  # each offer and language over the 30 days shown, then all of them
        ["OIM Rabat — lutte contre la traite", "Anglais", "1", "0", "0", "0", "0"],
        ["OIM Rabat — lutte contre la traite", "Français", "1", "1", "1", "1", "0"],
        ["OIM Genève — offre PSOIG 2021-023", "Français", "2", "2", "2", "1", "1"],
        ["Total", "4", "3", "3", "2", "1"],
    ]
    assert rows[6:9] == [  # day by day, newest first
        ["2 mars 2026", "2", "1", "1", "1", "1"],
        ["1er mars 2026", "0", "0", "2", "1", "0"],
        ["28 février 2026", "2", "2", "0", "0", "0"],
    ]
    assert rows[-1] == ["1er février 2026", "0", "0", "0", "0", "0"]
    assert "Du 1er février 2026 au 2 mars 2026" in page
    assert page.count('<svg class="chart"') == 2
    assert 'class="bar good"' in page  # eligible
    assert "style=" not in page  # the CSP blocks inline styles
    assert 'href="/stats.csv?by=day&offer=&lang="' in page
    await web.client.get("/lang/en")
    english = table_rows(await text_of(await web.client.get(f"/stats?by=week&offer={QUEBEC}&lang=fr")))
    assert english[1:3] == [
        ["IOM Geneva — PSOIG offer 2021-023", "French", "3", "3", "3", "1", "1"],
        ["Total", "3", "3", "3", "1", "1"],
    ]
    assert english[4] == ["Week of March 2, 2026", "1", "1", "1", "1", "1"]
    assert ["Week of January 19, 2026", "1", "1", "1", "0", "0"] in english


@on_both_backends
async def test_the_csv_has_the_same_figures(web: Web) -> None:
    await population(web)
    await web.sign_in(ORGANIZER)
    response = await web.client.get("/stats.csv?by=day")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Content-Disposition"] == 'attachment; filename="stats-day-2026-03-02.csv"'
    table = list(csv.reader(io.StringIO(await response.text())))
    assert table[0] == [
        "période",
        "offre",
        "langue",
        "Commencé",
        "Consentement donné",
        "Terminé",
        "Admissible",
        "Abonné aux rappels",
    ]
    assert table[1:] == [
        ["2026-02-28", RABAT, "fr", "1", "1", "0", "0", "0"],
        ["2026-02-28", QUEBEC, "fr", "1", "1", "0", "0", "0"],
        ["2026-03-01", RABAT, "fr", "0", "0", "1", "1", "0"],
        ["2026-03-01", QUEBEC, "fr", "0", "0", "1", "0", "0"],
        ["2026-03-02", RABAT, "en", "1", "0", "0", "0", "0"],
        ["2026-03-02", QUEBEC, "fr", "1", "1", "1", "1", "1"],
    ]
    page_total = next(
        row for row in table_rows(await text_of(await web.client.get("/stats?by=day"))) if row[0] == "Total"
    )
    csv_total = [sum(int(row[i]) for row in table[1:]) for i in range(3, 8)]
    assert page_total[1:] == [str(n) for n in csv_total]
    narrowed = await web.client.get(f"/stats.csv?by=week&offer={QUEBEC}&lang=fr")
    rows = list(csv.reader(io.StringIO(await narrowed.text())))[1:]
    assert {row[1] for row in rows} == {QUEBEC} and ["2026-01-19", QUEBEC, "fr", "1", "1", "1", "0", "0"] in rows


async def test_nothing_to_count(web: Web) -> None:
    await web.sign_in(ORGANIZER)
    page = await text_of(await web.client.get("/stats?by=nonsense&offer=nope&lang=xx"))
    assert "Rien pendant cette période." in page
    assert (await web.client.get("/stats.csv")).status == 200


def test_charts_are_drawn_without_style_and_escape_their_labels() -> None:
    drawn = str(charts.bars([("<b>Started</b>", 4), ("Eligible", 1)], title='"funnel"', kinds=["", "good"]))
    assert drawn.startswith('<svg class="chart"') and "style=" not in drawn
    assert "&lt;b&gt;Started&lt;/b&gt;" in drawn and "<b>" not in drawn
    assert '<rect class="bar good"' in drawn
    widths = [int(w) for w in re.findall(r'<rect class="bar[^"]*" x="\d+" y="\d+" width="(\d+)"', drawn)]
    assert widths[0] == 4 * widths[1]  # scaled to the largest count
    lined = str(charts.lines(["1 mars", "2 mars"], [("<i>x</i>", [0, 3])]))
    assert "style=" not in lined and "&lt;i&gt;x&lt;/i&gt;" in lined
    assert str(charts.bars([])).startswith("<svg") and str(charts.lines([], [])).startswith("<svg")
