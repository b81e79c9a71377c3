"""Pacing pieces every southbound connector shares: reconnect backoff, a TPS token bucket, and
number masking for logs.

They hold no I/O of their own; the clock is passed in so they can be tested without sleeping.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["Backoff", "TokenBucket", "mask_number"]


def mask_number(number: str) -> str:
    """Hide all but the last 4 characters of a phone number (or sender) for logs."""
    if len(number) <= 4:
        return "*" * len(number)
    return "*" * (len(number) - 4) + number[-4:]


@dataclass(slots=True)
class Backoff:
    """Exponential backoff with full jitter (delays in seconds), reset after a success.

    Jitter keeps many connectors that lost the same SMSC from reconnecting in lockstep.
    """

    minimum: float
    maximum: float
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 0

    def next_delay(self) -> float:
        ceiling = min(self.maximum, self.minimum * (2.0 ** min(self.attempts, 30)))
        self.attempts += 1
        return self.minimum / 2 + self.rng.uniform(0.0, max(0.0, ceiling - self.minimum / 2))

    def reset(self) -> None:
        self.attempts = 0


@dataclass(slots=True)
class TokenBucket:
    """A token bucket: `rate` tokens a second, at most `capacity` saved up.

    `take(now)` spends one token if there is one; `wait_time(now)` says how long until there is.
    """

    rate: float
    capacity: float
    tokens: float = 0.0
    stamp: float | None = None

    def _refill(self, now: float) -> None:
        if self.stamp is None:
            self.tokens = self.capacity
        else:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def take(self, now: float) -> bool:
        self._refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def wait_time(self, now: float) -> float:
        self._refill(now)
        return max(0.0, (1.0 - self.tokens) / self.rate)
