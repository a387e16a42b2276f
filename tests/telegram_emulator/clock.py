"""Emulated time: Telegram's own clocks run time_scale times faster than the real one."""

from __future__ import annotations

import asyncio
import time


class Clock:
    """Real seconds since start, emulated seconds (real x time_scale) and unix dates."""

    def __init__(self, time_scale: float) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.time_scale = float(time_scale)
        self._real_start = time.monotonic()
        self._wall_start = time.time()

    def restart(self) -> None:
        self._real_start = time.monotonic()
        self._wall_start = time.time()

    def real(self) -> float:
        return time.monotonic() - self._real_start

    def emulated(self) -> float:
        return self.real() * self.time_scale

    def unix(self) -> int:
        return int(self._wall_start + self.emulated())

    def to_real(self, emulated_seconds: float) -> float:
        return emulated_seconds / self.time_scale


class Signal:
    """Wakes every current waiter; checking a condition then waiting is race-free in asyncio."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def notify(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def wait(self, seconds: float | None) -> bool:
        """True when notified, False when `seconds` passed first."""
        if seconds is not None and seconds <= 0:
            return False
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter, seconds)
        except TimeoutError:
            return False
        finally:
            self._waiters.discard(waiter)
        return True
