"""The emulator's clocks: ManualClock (moved by the test) and Clock (the wall clock, scaled)."""

from __future__ import annotations

import asyncio

import pytest

from tests.telegram_emulator import Clock, ManualClock, TelegramEmulator
from tests.telegram_emulator.clock import Signal

from .conftest import TOKEN

# Wall-clock seconds after which a hang fails the test; no test asserts how long anything took.
HANG_GUARD = 5.0


async def test_manual_clock_moves_only_when_advanced() -> None:
    clock = ManualClock(time_scale=10, unix_start=1_700_000_000)
    assert (clock.real(), clock.emulated(), clock.unix()) == (0.0, 0.0, 1_700_000_000)
    clock.advance(1.5)
    assert (clock.real(), clock.emulated(), clock.unix()) == (1.5, 15.0, 1_700_000_015)
    assert clock.to_real(15.0) == 1.5
    with pytest.raises(ValueError, match="does not go back"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="positive"):
        ManualClock(time_scale=0)


async def test_advance_completes_due_timers_in_order() -> None:
    clock = ManualClock()
    woken: list[str] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woken.append(name)

    tasks = [asyncio.create_task(sleeper(name, s)) for name, s in (("late", 3.0), ("early", 1.0), ("mid", 2.0))]
    assert await clock.wait_for_pending(3) == [1.0, 2.0, 3.0]
    clock.advance(0.5)
    assert clock.pending() == [0.5, 1.5, 2.5]
    clock.advance(1.5)
    await asyncio.wait_for(asyncio.gather(*tasks[1:]), HANG_GUARD)
    assert woken == ["early", "mid"]
    assert clock.pending() == [1.0]
    tasks[0].cancel()  # a cancelled sleep forgets its timer
    with pytest.raises(asyncio.CancelledError):
        await tasks[0]
    assert clock.pending() == []


async def test_wait_ends_on_the_signal_or_on_emulated_time() -> None:
    clock = ManualClock(time_scale=2)
    signal = Signal()
    notified = asyncio.create_task(clock.wait(signal, 10.0))
    assert await clock.wait_for_pending() == [5.0]  # 10 emulated seconds = 5 s of the clock
    signal.notify()
    assert await asyncio.wait_for(notified, HANG_GUARD) is True
    assert clock.pending() == []
    expired = asyncio.create_task(clock.wait(signal, 10.0))
    await clock.wait_for_pending()
    clock.advance(5)
    assert await asyncio.wait_for(expired, HANG_GUARD) is False
    assert await clock.wait(signal, 0) is False


async def test_timeout_raises_after_emulated_seconds() -> None:
    clock = ManualClock()
    never = asyncio.Event()

    async def stuck() -> None:
        async with clock.timeout(60):
            await never.wait()

    task = asyncio.create_task(stuck())
    assert await clock.wait_for_pending() == [60.0]
    clock.advance(60)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(task, HANG_GUARD)
    async with clock.timeout(60):
        pass
    assert clock.pending() == []  # a finished body forgets its timer


async def test_wait_for_pending_fails_instead_of_hanging() -> None:
    with pytest.raises(AssertionError, match="fewer than 1 timer"):
        await ManualClock().wait_for_pending(timeout=0)


async def test_wall_clock_waits_are_scaled() -> None:
    clock = Clock(time_scale=1000)  # 5 emulated seconds are 5 ms
    signal = Signal()
    assert await asyncio.wait_for(clock.wait(signal, 5.0), HANG_GUARD) is False
    await asyncio.wait_for(clock.sleep(0), HANG_GUARD)
    waiting = asyncio.create_task(clock.wait(signal, None))
    await asyncio.sleep(0)
    signal.notify()
    assert await asyncio.wait_for(waiting, HANG_GUARD) is True
    with pytest.raises(TimeoutError):
        async with clock.timeout(5.0):
            await asyncio.Event().wait()
    assert clock.emulated() >= 0 and clock.to_real(5.0) == 0.005


async def test_the_emulator_takes_a_clock_or_a_time_scale() -> None:
    clock = ManualClock()
    assert TelegramEmulator(TOKEN, clock=clock).clock is clock
    scaled = TelegramEmulator(TOKEN, time_scale=10).clock
    assert isinstance(scaled, Clock) and scaled.time_scale == 10
    assert TelegramEmulator(TOKEN).clock.time_scale == 1
    with pytest.raises(ValueError, match="not both"):
        TelegramEmulator(TOKEN, time_scale=10, clock=clock)
