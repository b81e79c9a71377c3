"""The scheduler runs each service's one-shot sweep periodically until stopped."""

from __future__ import annotations

import asyncio
import logging

import pytest

from smsgate.runtime.scheduler import Job, Scheduler
from smsgate.testing.fakes_admin import FakeClock


class Sweeps:
    """A sweep that fails on its first run, and tells when it has run `enough` times."""

    def __init__(self, enough: int) -> None:
        self.times: list[float] = []
        self.enough = enough
        self.done = asyncio.Event()

    async def sweep(self, now: float) -> int:
        self.times.append(now)
        if len(self.times) >= self.enough:
            self.done.set()
        if len(self.times) == 1:
            raise RuntimeError("the database went away")
        return 0


async def test_a_failed_sweep_is_logged_and_the_next_one_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock, sweeps = FakeClock(t=1.8e9), Sweeps(enough=3)
    scheduler = Scheduler(clock, [Job("test sweep", 0.0, sweeps.sweep)])
    with caplog.at_level(logging.ERROR, logger="smsgate.runtime.scheduler"):
        await scheduler.start()
        await asyncio.wait_for(sweeps.done.wait(), 30)
        await scheduler.stop()
    assert sweeps.times[:3] == [1.8e9] * 3  # each run is given the clock's time
    assert [r.getMessage() for r in caplog.records] == ["test sweep failed; trying again later"]


async def test_no_sweep_runs_after_stop() -> None:
    sweeps = Sweeps(enough=2)
    scheduler = Scheduler(FakeClock(), [Job("test sweep", 0.0, sweeps.sweep)])
    await scheduler.start()
    await asyncio.wait_for(sweeps.done.wait(), 30)
    await scheduler.stop()
    runs = len(sweeps.times)
    for _ in range(10):
        await asyncio.sleep(0)  # give a leftover task every chance to run
    assert len(sweeps.times) == runs
