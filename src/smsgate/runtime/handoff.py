"""The dispatcher's book of hand-offs (services/ports.py `Handoff`): reservations, and the
order between messages handed over from memory and messages that had to be queued.

Every hand-off attempt takes a ticket. A refused one is queued in the store; a hand-off with
a later ticket must not be sent before it, so it waits here until a claim that began after
the refusal found the queue drained (the writer runs a claim after every write queued before
it, so such a claim has taken the refused message). Claims stay in charge of the queue:
what waits here never blocks them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from smsgate.services.records import DueMessage


@dataclass(slots=True)
class Waiting:
    """Handed-off parts that wait for a claim of messages queued before them."""

    ticket: int
    since: float  # monotonic
    parts: int
    due: Sequence[DueMessage]


class HandoffBook:
    def __init__(self) -> None:
        self.ticket = 0
        self._first_refused: int | None = None  # earliest refusal no claim has covered yet
        self._last_refused = 0
        self._reserved: dict[int, int] = {}  # ticket → parts whose commit is not done yet
        self.reserved_parts = 0
        self._waiting: deque[Waiting] = deque()
        self.waiting_parts = 0

    @property
    def behind_queue(self) -> bool:
        """Some refused hand-off may still be in the queue, unclaimed."""
        return self._first_refused is not None

    def next_ticket(self) -> int:
        self.ticket += 1
        return self.ticket

    def grant(self, ticket: int, parts: int) -> None:
        self._reserved[ticket] = parts
        self.reserved_parts += parts

    def refuse(self, ticket: int) -> None:
        """This ticket's parts are queued in the store: later hand-offs wait for its claim."""
        if self._first_refused is None or ticket < self._first_refused:
            self._first_refused = ticket
        self._last_refused = max(self._last_refused, ticket)

    def release(self, ticket: int) -> None:
        """The reservation ends (committed, or the commit failed); at most once a ticket."""
        parts = self._reserved.pop(ticket, None)
        if parts is not None:
            self.reserved_parts -= parts

    def must_wait(self, ticket: int) -> bool:
        return self._first_refused is not None and self._first_refused < ticket

    def park(self, waiting: Waiting) -> None:
        self._waiting.append(waiting)
        self.waiting_parts += waiting.parts

    def claimed_all(self, snapshot: int) -> list[Waiting]:
        """A claim that began at ticket `snapshot` took every due part: the refusals up to it
        are claimed. Returns the hand-offs that no longer wait, in order."""
        if self._first_refused is not None:
            if self._last_refused <= snapshot:
                self._first_refused = None
            else:  # refusals after the snapshot are not known one by one: assume the next
                self._first_refused = max(self._first_refused, snapshot + 1)
        ready = []
        while self._waiting and not self.must_wait(self._waiting[0].ticket):
            ready.append(self._pop())
        return ready

    def stale(self, since: float) -> list[Waiting]:
        """Hand-offs parked before `since` (monotonic), taken out of the book; the caller
        queues them, and `refuse`s their tickets once they are queued."""
        out = []
        while self._waiting and self._waiting[0].since < since:
            out.append(self._pop())
        return out

    def drain(self) -> list[Waiting]:
        return self.stale(float("inf"))

    def _pop(self) -> Waiting:
        head = self._waiting.popleft()
        self.waiting_parts -= head.parts
        return head
