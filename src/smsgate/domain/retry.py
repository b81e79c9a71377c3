"""Retry and expiry decisions: pure functions of (attempt, now, validity)."""

from __future__ import annotations

from datetime import datetime, timedelta

BASE_DELAY_S = 2.0
MAX_DELAY_S = 300.0


def backoff(attempt: int, *, base: float = BASE_DELAY_S, cap: float = MAX_DELAY_S) -> float:
    """Seconds before retry number `attempt` (1-based): exponential, capped."""
    return min(cap, base * (2.0 ** max(0, attempt - 1)))


def next_attempt(attempt: int, now: datetime, valid_until: datetime | None) -> datetime | None:
    """When to try again, or None when the next try would come after the validity ends."""
    at = now + timedelta(seconds=backoff(attempt))
    if valid_until is not None and at >= valid_until:
        return None
    return at


def webhook_backoff(attempt: int) -> float:
    """Webhook retries: 5 s doubling to at most an hour; the sender gives up after 24 h."""
    return min(3600.0, 5.0 * (2.0 ** max(0, attempt - 1)))
