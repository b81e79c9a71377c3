"""Per-origin health of webhook receivers: one that refuses connections or times out is not
hammered by every due delivery.

An origin (scheme, host, port) is up until a request to it fails without an HTTP answer
(`PostError.origin_down`: refused, reset, unreachable, timed out). Then it is down: after a
pause (1 s, doubling to 30 s) one delivery goes as a probe; until the probe answers, its other
due deliveries are put back unattempted (no request, so no attempt is recorded) and retried
later. Any HTTP answer from the origin brings it up again, and the deliveries put back while it
was down are due again at once. Other origins are not affected. Time is a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

Origin = tuple[str, str, int]  # scheme, host, port

FIRST_PAUSE_S = 1.0
MAX_PAUSE_S = 30.0
# A delivery put back is remembered (up to REMEMBER per origin) and made due when the origin
# answers again; it waits MAX_DEFER_S in case no answer comes (or this process restarts).
# Beyond REMEMBER, one waits half its age (a few deferrals in a long outage, not one per
# pause), between MIN_DEFER_S and MAX_DEFER_S.
MIN_DEFER_S = 0.5
MAX_DEFER_S = 120.0
# How many put-back deliveries an origin remembers, to make them due at once when it is up.
REMEMBER = 20_000


def origin_of(url: str) -> Origin | None:
    """The origin of an http(s) URL, or None when it has none (the poster reports that)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return (parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80))


@dataclass(frozen=True, slots=True)
class Admission:
    """Send now (`probe`: as the one request testing a down origin), or put back until
    `defer_until`."""

    probe: bool = False
    defer_until: float | None = None


GO = Admission()
PROBE = Admission(probe=True)


@dataclass(slots=True)
class _Down:
    pause_s: float
    retry_at: float
    probing: bool = False
    deferred: list[str] = field(default_factory=list)


class OriginHealth:
    """The down origins and their probes (the sender's only per-origin state)."""

    def __init__(self, *, first_pause_s: float = FIRST_PAUSE_S, max_pause_s: float = MAX_PAUSE_S):
        self._first = first_pause_s
        self._max = max_pause_s
        self._down: dict[Origin, _Down] = {}

    def is_down(self, origin: Origin) -> bool:
        return origin in self._down

    def admit(
        self, origin: Origin | None, delivery_id: str, *, now: float, age_s: float
    ) -> Admission:
        down = self._down.get(origin) if origin is not None else None
        if down is None:
            return GO
        if not down.probing and now >= down.retry_at:
            down.probing = True
            return PROBE
        # While a probe is out, its answer is due within the request timeout; if it fails
        # the next probe is a pause away.
        base = down.retry_at if now < down.retry_at else now + down.pause_s
        if len(down.deferred) < REMEMBER:
            # Remembered: made due again as soon as the origin answers, so it can wait long
            # (one deferral per outage, not one per pause).
            down.deferred.append(delivery_id)
            wait = MAX_DEFER_S
        else:
            wait = min(MAX_DEFER_S, max(MIN_DEFER_S, age_s / 2))
        return Admission(defer_until=max(base, now + wait))

    def answered(self, origin: Origin | None) -> list[str]:
        """An HTTP answer came from the origin: it is up; returns the deliveries put back
        while it was down (to make due now)."""
        down = self._down.pop(origin, None) if origin is not None else None
        return down.deferred if down is not None else []

    def no_verdict(self, origin: Origin | None) -> None:
        """A probe ended without telling whether the origin is up (e.g. a bad URL): the next
        due delivery probes instead."""
        down = self._down.get(origin) if origin is not None else None
        if down is not None:
            down.probing = False

    def failed(self, origin: Origin | None, *, now: float, probe: bool) -> None:
        """A request got no answer (refused, reset, timed out)."""
        if origin is None:
            return
        down = self._down.get(origin)
        if down is None:
            self._down[origin] = _Down(pause_s=self._first, retry_at=now + self._first)
        elif probe:
            down.pause_s = min(self._max, down.pause_s * 2)
            down.retry_at = now + down.pause_s
            down.probing = False
        # Requests sent before the origin was known down fail too: they change nothing.
