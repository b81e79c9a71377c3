"""Reassembly of concatenated inbound messages. Pure: the caller passes the time.

Parts of one message are grouped by (key, ref, total), where ``key`` identifies the sender
and recipient. A group that stays incomplete for ``timeout`` seconds after its first part
is handed back by :meth:`Reassembler.expire` so the caller can deliver what arrived or
report the loss; nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

from smsgate.codec.errors import CodecError

__all__ = ["Incomplete", "Reassembler"]


@dataclass(frozen=True, slots=True)
class Incomplete:
    """A message whose parts did not all arrive: what did arrive, by sequence number."""

    key: Hashable
    ref: int
    total: int
    received: tuple[tuple[int, str], ...]
    first_seen: float

    @property
    def missing(self) -> tuple[int, ...]:
        """Sequence numbers that never arrived."""
        have = {seq for seq, _ in self.received}
        return tuple(seq for seq in range(1, self.total + 1) if seq not in have)

    @property
    def partial_text(self) -> str:
        """The received parts joined in order (gaps are simply skipped)."""
        return "".join(text for _, text in self.received)


@dataclass(slots=True)
class _Group:
    first_seen: float
    texts: dict[int, str] = field(default_factory=dict)


_GroupKey = tuple[Hashable, int, int]


class Reassembler:
    """Collects the parts of concatenated messages until each message is complete.

    At most ``max_pending`` groups are kept; starting one more evicts the oldest, which the
    next :meth:`expire` call reports together with the timed-out ones. A completed message is
    remembered for ``timeout`` seconds, so parts of it delivered again are ignored.
    """

    def __init__(self, *, timeout: float, max_pending: int = 10000) -> None:
        if timeout <= 0 or max_pending < 1:
            raise ValueError("timeout must be positive and max_pending at least 1")
        self._timeout = timeout
        self._max_pending = max_pending
        self._groups: dict[_GroupKey, _Group] = {}
        self._evicted: list[Incomplete] = []
        # Messages completed within the timeout: a part of one arriving again is a late
        # duplicate (SMSCs redeliver), not the start of a new message.
        self._done: dict[_GroupKey, float] = {}

    def __len__(self) -> int:
        return len(self._groups)

    def add(
        self, key: Hashable, ref: int, total: int, seq: int, text: str, now: float
    ) -> str | None:
        """Record part ``seq`` of ``total``; return the whole text once the last part is in.

        Duplicates are ignored. ``seq`` outside 1..total raises :class:`CodecError`.
        """
        if total < 1 or not 1 <= seq <= total:
            raise CodecError(f"part {seq} of {total} is out of range")
        if total == 1:
            return text
        gkey = (key, ref, total)
        done_at = self._done.get(gkey)
        if done_at is not None and now - done_at < self._timeout:
            return None
        group = self._groups.get(gkey)
        if group is None:
            if len(self._groups) >= self._max_pending:
                self._evict_oldest()
            group = self._groups[gkey] = _Group(now)
        group.texts.setdefault(seq, text)
        if len(group.texts) < total:
            return None
        del self._groups[gkey]
        self._done[gkey] = now
        if len(self._done) > self._max_pending:
            del self._done[next(iter(self._done))]  # the oldest completion
        return "".join(group.texts[i] for i in range(1, total + 1))

    def expire(self, now: float) -> list[Incomplete]:
        """Remove and return the groups whose first part is ``timeout`` or more seconds old."""
        expired, self._evicted = self._evicted, []
        deadline = now - self._timeout
        for gkey in [k for k, at in self._done.items() if at <= deadline]:
            del self._done[gkey]
        for gkey in [k for k, g in self._groups.items() if g.first_seen <= deadline]:
            expired.append(self._incomplete(gkey, self._groups.pop(gkey)))
        return expired

    def _evict_oldest(self) -> None:
        gkey = min(self._groups, key=lambda k: self._groups[k].first_seen)
        self._evicted.append(self._incomplete(gkey, self._groups.pop(gkey)))

    @staticmethod
    def _incomplete(gkey: _GroupKey, group: _Group) -> Incomplete:
        key, ref, total = gkey
        received = tuple(sorted(group.texts.items()))
        return Incomplete(key, ref, total, received, group.first_seen)
