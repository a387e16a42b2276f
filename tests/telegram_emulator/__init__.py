"""A local Telegram Bot API emulator for end-to-end tests (see README.md)."""

from .clock import Clock, EmulatorClock, ManualClock
from .emulator import TelegramEmulator
from .faults import Fault, Injection
from .models import BotReply, CallbackQueryRecord, RateLimitViolation, ReceivedDocument, TranscriptEntry
from .ratelimit import RateLimitConfig
from .user import SimulatedUser

__all__ = [
    "BotReply",
    "CallbackQueryRecord",
    "Clock",
    "EmulatorClock",
    "Fault",
    "Injection",
    "ManualClock",
    "RateLimitConfig",
    "RateLimitViolation",
    "ReceivedDocument",
    "SimulatedUser",
    "TelegramEmulator",
    "TranscriptEntry",
]
