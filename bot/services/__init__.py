"""The channel-neutral services: a person's input in, typed effects out.

Every channel (Telegram, the terminal chat, the Rasa action server, the staff website) goes
through `ConversationService`; none of its types crosses into another channel.
"""

from .conversation import ConversationService, Turn
from .effects import Effect, Erased, Reply, SendDocument
from .inputs import Input, InputKind, PersonKey

__all__ = [
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
