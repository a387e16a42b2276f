"""/broadcast's offer buttons mean the offers shown with them, whatever is imported meanwhile."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from bot.services.inputs import PersonKey
from bot.staff import broadcast_editor
from bot.staff.desk import Desk, Step
from bot.staff.roles import Role
from rules import load_programs

SHIPPED = load_programs()
QC, RABAT = "quebec-psoig-2021-023", "iom-internship-rabat"


def desk(programs: dict[str, Any]) -> Desk:
    return Desk(
        session=None,  # type: ignore[arg-type]
        person_id=1,
        key=PersonKey("telegram", "9301"),
        lang="fr",
        roles=frozenset({Role.ORGANIZER}),
        registry=None,  # type: ignore[arg-type]
        faq=SimpleNamespace(programs=programs),  # type: ignore[arg-type]
        at=datetime(2027, 1, 1, tzinfo=UTC),
        today=date(2027, 1, 1),
    )


def offer_buttons(shown: Desk) -> dict[str, str]:
    return {b.id.rsplit(":", 1)[1]: b.label for b in shown.replies[-1].buttons if ":offer:" in b.id}


async def test_an_offer_button_picks_the_offer_it_was_shown_with() -> None:
    live = {QC: SHIPPED[QC], RABAT: SHIPPED[RABAT]}
    organizer = desk(live)
    organizer.begin("broadcast", Step.BC_KIND, fr="Bonjour", en="Hello")
    await broadcast_editor.press(organizer, "kind", "eligible")
    assert "OIM Rabat" in offer_buttons(organizer)["1"]
    live.clear()  # an import meanwhile: another offer now comes first in the live list
    live.update({"0-new": SHIPPED[QC].model_copy(update={"id": "0-new"}), QC: SHIPPED[QC], RABAT: SHIPPED[RABAT]})
    await broadcast_editor.press(organizer, "offer", "1")
    assert organizer.state["program"] == RABAT and organizer.step == Step.BC_LANG


async def test_an_offer_withdrawn_since_it_was_shown_makes_its_button_stale() -> None:
    live = {QC: SHIPPED[QC], RABAT: SHIPPED[RABAT]}
    organizer = desk(live)
    organizer.begin("broadcast", Step.BC_KIND, fr="Bonjour", en="Hello")
    await broadcast_editor.press(organizer, "kind", "eligible")
    del live[RABAT]
    await broadcast_editor.press(organizer, "offer", "1")
    assert "n’est plus valide" in organizer.replies[-1].text and organizer.step == Step.BC_OFFER
    await broadcast_editor.press(organizer, "offer", "7")  # never shown
    assert "n’est plus valide" in organizer.replies[-1].text and organizer.step == Step.BC_OFFER
