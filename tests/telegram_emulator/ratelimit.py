"""Telegram's flood limits on emulated time: ~30 messages/s in all, 1/s per private chat with a
short burst, 20/min per group. time_scale makes every window shorter by that factor."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from .clock import EmulatorClock
from .errors import ApiError, scaled_retry_after, too_many_requests
from .models import RateLimitViolation

# Methods that put a new message in a chat: per-chat and global limits.
SENDING_METHODS = frozenset({"sendMessage", "sendDocument"})
# Methods that only count toward the global limit.
GLOBAL_ONLY_METHODS = frozenset({"editMessageText", "editMessageReplyMarkup"})


@dataclass(frozen=True)
class RateLimitConfig:
    """Limits in emulated seconds. Defaults follow Telegram's published guidance."""

    global_per_second: float = 30.0
    global_burst: int = 30
    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: int = 20


@dataclass
class _Bucket:
    rate: float
    capacity: float
    tokens: float
    updated: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait(self, now: float) -> float:
        """Emulated seconds until one token is available (0 when one is)."""
        self.refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


@dataclass
class _Window:
    size: float
    limit: int
    times: deque[float] = field(default_factory=deque)

    def wait(self, now: float) -> float:
        while self.times and now - self.times[0] >= self.size:
            self.times.popleft()
        return 0.0 if len(self.times) < self.limit else self.size - (now - self.times[0])


class RateLimiter:
    def __init__(self, clock: EmulatorClock, config: RateLimitConfig | None) -> None:
        self.clock = clock
        self.config = config
        self.violations: list[RateLimitViolation] = []
        self._global: _Bucket | None = None
        self._private: dict[int, _Bucket] = {}
        self._groups: dict[int, _Window] = {}

    @property
    def enabled(self) -> bool:
        return self.config is not None

    def _bucket(self, chat_id: int, now: float) -> _Bucket:
        assert self.config is not None
        bucket = self._private.get(chat_id)
        if bucket is None:
            cfg = self.config
            bucket = _Bucket(cfg.private_per_second, cfg.private_burst, cfg.private_burst, now)
            self._private[chat_id] = bucket
        return bucket

    def check(self, method: str, chat_id: int | None) -> None:
        """Counts one call, or raises 429 (and records the violation) without counting it."""
        cfg = self.config
        if cfg is None or method not in SENDING_METHODS | GLOBAL_ONLY_METHODS:
            return
        now = self.clock.emulated()
        if self._global is None:
            self._global = _Bucket(cfg.global_per_second, cfg.global_burst, cfg.global_burst, now)
        waits: list[tuple[float, str]] = [(self._global.wait(now), "global")]
        per_chat = method in SENDING_METHODS and chat_id is not None
        if per_chat and chat_id is not None and chat_id > 0:
            waits.append((self._bucket(chat_id, now).wait(now), "private_chat"))
        elif per_chat and chat_id is not None:
            window = self._groups.setdefault(chat_id, _Window(60.0, cfg.group_per_minute))
            waits.append((window.wait(now), "group_chat"))
        wait, limit = max(waits)
        if wait > 0:
            raise self._violation(method, chat_id, limit, wait)
        self._global.tokens -= 1
        if per_chat and chat_id is not None and chat_id > 0:
            self._private[chat_id].tokens -= 1
        elif per_chat and chat_id is not None:
            self._groups[chat_id].times.append(now)

    def _violation(self, method: str, chat_id: int | None, limit: str, wait: float) -> ApiError:
        retry_after = scaled_retry_after(wait, self.clock.time_scale)
        self.violations.append(
            RateLimitViolation(
                at=round(self.clock.real(), 4),
                emulated_at=round(self.clock.emulated(), 4),
                method=method,
                chat_id=chat_id,
                limit=limit,
                retry_after=retry_after,
            )
        )
        return too_many_requests(retry_after)
