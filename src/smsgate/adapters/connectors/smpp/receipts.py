"""SMPP receipts mapped to domain statuses (DESIGN.md §2: receipt mapping is each connector's
job). The `stat` word of a delivery receipt (SMPP 3.4 Appendix B) decides; UNKNOWN, ENROUTE and
ACCEPTD keep waiting (sent) until the validity ends."""

from __future__ import annotations

from smsgate.domain.states import Status

__all__ = ["RECEIPT_STAT", "status_from_receipt"]

RECEIPT_STAT: dict[str, Status] = {
    "DELIVRD": Status.DELIVERED,
    "EXPIRED": Status.EXPIRED,
    "UNDELIV": Status.UNDELIVERED,
    "REJECTD": Status.UNDELIVERED,
    "DELETED": Status.UNDELIVERED,
    "ACCEPTD": Status.SENT,
    "ENROUTE": Status.SENT,
    "UNKNOWN": Status.SENT,
    # The full words some SMSCs write, cut to seven letters as the lookup does.
    "DELIVER": Status.DELIVERED,
    "REJECTE": Status.UNDELIVERED,
    "ACCEPTE": Status.SENT,
}


def status_from_receipt(stat: str) -> Status:
    """Map a receipt's stat (any case, possibly truncated to 7 letters) to a part status."""
    return RECEIPT_STAT.get(stat.strip().upper()[:7], Status.SENT)
