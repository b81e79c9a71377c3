"""The periodic sweeps of the gateway: each job is a service's one-shot `sweep(now)`, run
every `every_s` seconds (the first run one interval after start) until stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from smsgate.services.clock import Clock

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    every_s: float
    sweep: Callable[[float], Awaitable[object]]


class Scheduler:
    """Runs its jobs in one task group; a failing run is logged and tried again later."""

    def __init__(self, clock: Clock, jobs: Sequence[Job] = ()) -> None:
        self._clock = clock
        self._jobs = tuple(jobs)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._jobs and self._task is None:
            self._task = asyncio.create_task(self._run(), name="scheduler")

    async def _run(self) -> None:
        async with asyncio.TaskGroup() as group:
            for job in self._jobs:
                group.create_task(self._every(job), name=job.name)

    async def _every(self, job: Job) -> None:
        while True:
            await asyncio.sleep(job.every_s)
            try:
                await job.sweep(self._clock.now())
            except Exception:
                log.exception("%s failed; trying again later", job.name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
