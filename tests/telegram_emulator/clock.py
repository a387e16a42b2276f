"""Emulated time: Telegram's own clocks, driven by the wall clock (Clock) or by the test (ManualClock).

A clock counts two kinds of seconds. Its own seconds (`real()`) are the ones a test gives
durations in (Fault.slow, outage): wall-clock seconds for Clock, the seconds `advance()` adds
for ManualClock. Emulated seconds (`emulated()` = real × time_scale) are what Telegram's clocks
count: flood-limit windows, the callback-query lifetime, long-poll timeouts, webhook backoff
and delivery timeout, message dates. Everything in the emulator that waits, waits on its clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator

# A ManualClock timer this close to its deadline is due (emulated/real conversions round).
_EPSILON = 1e-9
# Emulated deadlines closer than this count as reached, so that rounding never leaves a loop
# waiting for a few femtoseconds that a ManualClock would never add.
RESOLUTION = 1e-6


class Signal:
    """Wakes every current waiter; checking a condition then waiting is race-free in asyncio."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def notify(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    def waiter(self) -> asyncio.Future[None]:
        """A future that the next notify() completes; discard() it when no longer needed."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        return waiter

    def discard(self, waiter: asyncio.Future[None]) -> None:
        self._waiters.discard(waiter)
        waiter.cancel()

    async def wait(self, seconds: float | None) -> bool:
        """True when notified, False when `seconds` wall-clock seconds passed first."""
        if seconds is not None and seconds <= 0:
            return False
        waiter = self.waiter()
        try:
            await asyncio.wait_for(waiter, seconds)
        except TimeoutError:
            return False
        finally:
            self.discard(waiter)
        return True


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class EmulatorClock(ABC):
    """What the emulator needs from a clock; see the module docstring for the two kinds of seconds."""

    def __init__(self, time_scale: float, unix_start: float) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.time_scale = float(time_scale)
        self._unix_start = unix_start

    @abstractmethod
    def real(self) -> float:
        """The clock's own seconds since it started."""

    @abstractmethod
    def timer(self, seconds: float) -> asyncio.Future[None]:
        """A future that completes once `seconds` of the clock's own seconds have passed.
        Cancelling it forgets the timer."""

    @abstractmethod
    def restart(self) -> None:
        """Called when the emulator starts; the clock may count from there."""

    def emulated(self) -> float:
        return self.real() * self.time_scale

    def unix(self) -> int:
        """The date Telegram would put on a message now."""
        return int(self._unix_start + self.emulated())

    def to_real(self, emulated_seconds: float) -> float:
        return emulated_seconds / self.time_scale

    async def sleep(self, seconds: float) -> None:
        """Waits `seconds` of the clock's own seconds (not scaled)."""
        timer = self.timer(seconds)
        try:
            await timer
        finally:
            timer.cancel()

    async def wait(self, signal: Signal, seconds: float | None) -> bool:
        """True when `signal` is notified, False when `seconds` emulated seconds passed first
        (None: no limit)."""
        if seconds is not None and seconds <= 0:
            return False
        waiter = signal.waiter()
        timer = None if seconds is None else self.timer(self.to_real(seconds))
        try:
            await asyncio.wait([waiter] if timer is None else [waiter, timer], return_when=asyncio.FIRST_COMPLETED)
            return waiter.done() and not waiter.cancelled()
        finally:
            signal.discard(waiter)
            if timer is not None:
                timer.cancel()

    @contextlib.asynccontextmanager
    async def timeout(self, seconds: float) -> AsyncIterator[None]:
        """Like asyncio.timeout, in emulated seconds: TimeoutError once they have passed."""
        loop = asyncio.get_running_loop()
        active = True

        async with asyncio.timeout(None) as scope:

            def expire(timer: asyncio.Future[None]) -> None:
                if active and not timer.cancelled():
                    scope.reschedule(loop.time())

            timer = self.timer(self.to_real(seconds))
            timer.add_done_callback(expire)
            try:
                yield
            finally:
                active = False
                timer.cancel()


class Clock(EmulatorClock):
    """The wall clock: real seconds since start, emulated seconds = real × time_scale."""

    def __init__(self, time_scale: float) -> None:
        super().__init__(time_scale, time.time())
        self._real_start = time.monotonic()

    def restart(self) -> None:
        self._real_start = time.monotonic()
        self._unix_start = time.time()

    def real(self) -> float:
        return time.monotonic() - self._real_start

    def timer(self, seconds: float) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        handle = loop.call_later(max(0.0, seconds), _resolve, future)
        future.add_done_callback(lambda _: handle.cancel())
        return future


class ManualClock(EmulatorClock):
    """A clock that moves only when the test calls advance(seconds).

    Give it to the emulator (`TelegramEmulator(token, clock=clock)`): long polls, flood-limit
    windows, callback-query lifetimes, webhook backoff and delivery timeouts, Fault.slow and
    outage then wait for `advance()` instead of the wall clock. Its seconds start at 0; message
    dates start at `unix_start` (default: the current date). With time_scale (default 1), one
    second of advance() is time_scale emulated seconds, and retry_after is divided by it, as
    with Clock.
    """

    def __init__(self, time_scale: float = 1.0, *, unix_start: float | None = None) -> None:
        super().__init__(time_scale, time.time() if unix_start is None else unix_start)
        self._now = 0.0
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._timer_added = Signal()

    def restart(self) -> None:
        """Nothing: only advance() moves a ManualClock (it counts from its creation)."""

    def real(self) -> float:
        return self._now

    def timer(self, seconds: float) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._prune()
        heapq.heappush(self._timers, (self._now + max(0.0, seconds), next(self._order), future))
        self._fire()
        self._timer_added.notify()
        return future

    def advance(self, seconds: float) -> None:
        """Moves the clock forward and completes every timer that is due (earliest first).
        The woken tasks run when the test next awaits something."""
        if seconds < 0:
            raise ValueError("a clock does not go back")
        self._now += seconds
        self._fire()

    def pending(self) -> list[float]:
        """What the emulator is waiting for: the seconds left on each live timer, shortest first."""
        return sorted(max(0.0, deadline - self._now) for deadline, _, future in self._timers if not future.done())

    async def wait_for_pending(self, count: int = 1, *, timeout: float = 5.0) -> list[float]:  # noqa: ASYNC109
        """pending() once at least `count` timers run, e.g. once a long poll waits. `timeout`
        (wall-clock seconds) only turns a hang into an AssertionError."""
        deadline = time.monotonic() + timeout
        while len(self.pending()) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"fewer than {count} timer(s) on the clock after {timeout}s: {self.pending()}")
            await self._timer_added.wait(remaining)
        return self.pending()

    def _fire(self) -> None:
        while self._timers and self._timers[0][0] <= self._now + _EPSILON:
            _, _, future = heapq.heappop(self._timers)
            _resolve(future)

    def _prune(self) -> None:
        """Drops cancelled timers now and then, so that the heap stays small."""
        if len(self._timers) > 64:
            self._timers = [t for t in self._timers if not t[2].done()]
            heapq.heapify(self._timers)
