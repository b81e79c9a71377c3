"""Rate limits of the SMPP server (Postfix's "anvil"): pure arithmetic, time is a parameter.

* `TokenBucket`: `rate` tokens a second, holding at most `burst`.
* `BindBudget`: bind attempts per source address per minute, against password guessing.
* `address_key`: what "one address" is for these limits.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass


def address_key(ip: str) -> str:
    """The client address that per-address limits count: an IPv4 address (also when it
    comes IPv4-mapped, `::ffff:a.b.c.d`), or the /64 of an IPv6 one, since one IPv6 host
    usually has a whole /64 to pick addresses from. Anything unparsable counts as itself."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return str(addr.ipv4_mapped)
        return str(ipaddress.IPv6Network((addr, 64), strict=False))
    return str(addr)


@dataclass(slots=True)
class TokenBucket:
    """A token bucket: `take(now)` spends one token if there is one."""

    rate: float
    burst: float
    tokens: float
    stamp: float

    @classmethod
    def full(cls, rate: float, now: float, burst: float | None = None) -> TokenBucket:
        """A bucket that starts full; the burst defaults to one second's worth (at least 1)."""
        if rate <= 0:
            raise ValueError("rate must be positive")
        size = max(1.0, rate) if burst is None else burst
        return cls(rate=rate, burst=size, tokens=size, stamp=now)

    def refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now

    def take(self, now: float) -> bool:
        """Spend one token; False (and nothing spent) when the bucket is empty."""
        self.refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def is_full(self, now: float) -> bool:
        self.refill(now)
        return self.tokens >= self.burst


class BindBudget:
    """At most `per_minute` bind attempts per source address, refilled continuously.

    When the table reaches `max_tracked`, addresses whose bucket is full again are forgotten:
    what remains is the addresses that tried within about the last minute (each entry is a
    few dozen bytes; max_connections bounds how fast new ones can arrive).
    """

    def __init__(self, per_minute: int, *, max_tracked: int = 10_000) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self.max_tracked = max_tracked
        self._buckets: dict[str, TokenBucket] = {}

    def attempt(self, ip: str, now: float) -> bool:
        """Count one bind attempt from `ip`; False when its budget is spent."""
        bucket = self._buckets.get(ip)
        if bucket is None:
            if len(self._buckets) >= self.max_tracked:
                self._forget_idle(now)
            bucket = TokenBucket.full(self.per_minute / 60.0, now, burst=float(self.per_minute))
            self._buckets[ip] = bucket
        return bucket.take(now)

    def _forget_idle(self, now: float) -> None:
        for ip in [ip for ip, b in self._buckets.items() if b.is_full(now)]:
            del self._buckets[ip]

    def __len__(self) -> int:
        return len(self._buckets)
