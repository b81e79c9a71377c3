"""The message lifecycle as one table (DESIGN.md §2).

Outbound: scheduled → queued → sending → sent → delivered | undelivered | expired;
failed when no SMSC accepted it; rejected when policy refused it before queueing;
pending_review while content review holds it; canceled by the user. Inbound: received.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    SCHEDULED = "scheduled"
    PENDING_REVIEW = "pending_review"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    EXPIRED = "expired"
    FAILED = "failed"
    REJECTED = "rejected"
    CANCELED = "canceled"
    RECEIVED = "received"


FINAL: frozenset[Status] = frozenset(
    {
        Status.DELIVERED,
        Status.UNDELIVERED,
        Status.EXPIRED,
        Status.FAILED,
        Status.REJECTED,
        Status.CANCELED,
        Status.RECEIVED,
    }
)

# Which status may follow which. A receipt may overtake the submit_sm_resp, so sending may go
# straight to a final delivery state; a resend after a disconnect goes sent → sending.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.SCHEDULED: frozenset({Status.QUEUED, Status.CANCELED, Status.REJECTED}),
    Status.PENDING_REVIEW: frozenset({Status.QUEUED, Status.REJECTED, Status.CANCELED}),
    Status.QUEUED: frozenset(
        {Status.SENDING, Status.CANCELED, Status.FAILED, Status.EXPIRED, Status.REJECTED}
    ),
    Status.SENDING: frozenset(
        {
            Status.QUEUED,
            Status.SENT,
            Status.FAILED,
            Status.EXPIRED,
            Status.DELIVERED,
            Status.UNDELIVERED,
        }
    ),
    Status.SENT: frozenset(
        {Status.SENDING, Status.DELIVERED, Status.UNDELIVERED, Status.EXPIRED, Status.SENT}
    ),
    Status.DELIVERED: frozenset(),
    Status.UNDELIVERED: frozenset(),
    Status.EXPIRED: frozenset(),
    Status.FAILED: frozenset(),
    Status.REJECTED: frozenset(),
    Status.CANCELED: frozenset(),
    Status.RECEIVED: frozenset(),
}

CANCELABLE: frozenset[Status] = frozenset({Status.SCHEDULED, Status.QUEUED, Status.PENDING_REVIEW})


def can_transition(current: Status, new: Status) -> bool:
    return new in TRANSITIONS[current]


# Order used to fold part statuses into the message status: the "least advanced" part decides
# until every part is final; then the worst final outcome decides.
_PROGRESS = {
    Status.SCHEDULED: 0,
    Status.PENDING_REVIEW: 0,
    Status.QUEUED: 1,
    Status.SENDING: 2,
    Status.SENT: 3,
}
_FINAL_SEVERITY = {
    Status.DELIVERED: 0,
    Status.EXPIRED: 1,
    Status.UNDELIVERED: 2,
    Status.CANCELED: 3,
    Status.REJECTED: 4,
    Status.FAILED: 5,
}


def aggregate(part_statuses: list[Status]) -> Status:
    """A message of N parts is delivered when all parts are (DESIGN.md §2)."""
    if not part_statuses:
        raise ValueError("a message has at least one part")
    pending = [s for s in part_statuses if s not in FINAL]
    if pending:
        return min(pending, key=lambda s: _PROGRESS.get(s, 0))
    return max(part_statuses, key=lambda s: _FINAL_SEVERITY.get(s, 0))
