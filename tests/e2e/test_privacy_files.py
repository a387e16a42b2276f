"""After /forget, the SQLite files themselves no longer hold what was erased (PostgreSQL reclaims
its space with VACUUM; what its files hold is the server's business)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..telegram_emulator import TelegramEmulator
from .conftest import RunningBot, at_birth_date, press_and_read, say_and_read, years_ago

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def test_erased_answers_do_not_stay_in_the_sqlite_files(
    bot: RunningBot, emulator: TelegramEmulator, database_url: str
) -> None:
    path = Path(database_url.split(":///", 1)[1])
    amina = emulator.user(3011, "Amina", language_code="fr")
    await at_birth_date(amina)
    born = years_ago(27).replace(day=13)
    await say_and_read(amina, born.strftime("%d/%m/%Y"))
    await say_and_read(amina, "Quelle est la couleur préférée de Zéphyrine?")

    def on_disk() -> bytes:
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))

    secrets = [born.isoformat().encode(), born.strftime("%d/%m/%Y").encode(), "Zéphyrine".encode()]
    assert all(secret in on_disk() for secret in secrets[::2])  # the check can see them
    await say_and_read(amina, "/forget")
    assert "a été effacé" in await press_and_read(amina, "Oui, tout effacer")
    disk = on_disk()
    assert [s for s in secrets if s in disk] == []
