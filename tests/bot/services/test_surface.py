"""The services' public names: what channels may import, pinned."""

from __future__ import annotations

import bot.services


def test_the_public_surface_is_pinned() -> None:
    assert sorted(bot.services.__all__) == [
        "ConversationService",
        "Effect",
        "Erased",
        "Input",
        "InputKind",
        "PersonKey",
        "Reply",
        "SendDocument",
        "Turn",
    ]
