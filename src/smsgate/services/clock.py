"""The clock port: services read time through it so tests can control it."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...


class SystemClock:
    """Wall-clock UNIX time."""

    def now(self) -> float:
        return time.time()
