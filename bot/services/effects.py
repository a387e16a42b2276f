"""What the service asks a channel to do: small frozen values, carried out by each channel its way."""

from __future__ import annotations

from dataclasses import dataclass

from ..render import Rendered


@dataclass(frozen=True)
class Reply:
    """Show this message (text, heading, buttons with stable ids), in order with the others."""

    message: Rendered


@dataclass(frozen=True)
class SendDocument:
    """Send this file (the person's data export). A channel that queues what it sends queues a
    marker and builds the file again when it sends it: the content itself is never stored."""

    filename: str
    content: bytes
    caption: str
    media_type: str = "application/json"


@dataclass(frozen=True)
class Erased:
    """The person was erased everywhere. Show `farewell` without storing it; drop any cached state."""

    farewell: Rendered


Effect = Reply | SendDocument | Erased
