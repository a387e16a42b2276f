"""Client-side flood control, so that Telegram never has to answer 429 (and never bans the bot).

Token buckets, as Telegram describes its limits: about 30 messages a second in all, one a second
per private chat after a short burst, 20 a minute per group. Waiting happens before sending.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from ..config import FloodConfig


@dataclass
class Bucket:
    rate: float  # tokens per second
    capacity: float
    tokens: float
    updated: float

    def delay(self, now: float) -> float:
        """Seconds to wait for a token; takes it when none is needed."""
        now = max(now, self.updated)  # a clock set back is no time gone by
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate

    def charge(self, now: float) -> None:
        """Count a message sent under another pacing: later waits here take it into account."""
        now = max(now, self.updated)
        self.tokens = max(-self.capacity, min(self.capacity, self.tokens + (now - self.updated) * self.rate) - 1)
        self.updated = now


@dataclass
class Throttle:
    config: FloodConfig
    _overall: Bucket | None = None
    _chats: dict[int, Bucket] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def _bucket(self, chat_id: int, now: float) -> Bucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if chat_id < 0:  # groups and channels
                rate, burst = self.config.per_group_per_minute / 60, float(self.config.per_group_per_minute)
            else:
                rate, burst = self.config.per_chat_per_second, float(self.config.per_chat_burst)
            bucket = self._chats[chat_id] = Bucket(rate, burst, burst, now)
            if len(self._chats) > 10_000:  # forget idle chats
                for key in [k for k, b in self._chats.items() if now - b.updated > 120][:5_000]:
                    del self._chats[key]
        return bucket

    async def acquire(self, chat_id: int, *, per_chat: bool = True) -> None:
        """Wait until one more message stays within the limits (the chat's one too, if `per_chat`).

        Queued replies are also paced per person in the database (shared by every process); a
        send paced only there (`per_chat=False`) is still counted in the chat's bucket here.
        """
        loop = asyncio.get_running_loop()
        while True:
            async with self._lock:
                now = loop.time()
                if self._overall is None:
                    rate = self.config.overall_per_second
                    self._overall = Bucket(rate, rate, rate, now)
                chat = self._bucket(chat_id, now) if per_chat else None
                wait_chat = chat.delay(now) if chat is not None else 0.0
                if wait_chat == 0:
                    wait_all = self._overall.delay(now)
                    if wait_all == 0:
                        if chat is None:
                            self._bucket(chat_id, now).charge(now)
                        return
                    if chat is not None:
                        chat.tokens += 1  # give the chat's token back; wait for the global one
                    wait = wait_all
                else:
                    wait = wait_chat
            await asyncio.sleep(wait)
