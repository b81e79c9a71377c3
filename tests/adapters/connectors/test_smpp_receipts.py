"""SMPP receipt `stat` words mapped to domain statuses by the connector (DESIGN.md §2)."""

from __future__ import annotations

import pytest

from smsgate.adapters.connectors.smpp.receipts import status_from_receipt
from smsgate.domain.states import Status


@pytest.mark.parametrize(
    ("stat", "status"),
    [
        ("DELIVRD", Status.DELIVERED),
        ("delivrd", Status.DELIVERED),
        ("DELIVERED", Status.DELIVERED),
        ("EXPIRED", Status.EXPIRED),
        ("UNDELIV", Status.UNDELIVERED),
        ("REJECTD", Status.UNDELIVERED),
        ("DELETED", Status.UNDELIVERED),
        ("ACCEPTD", Status.SENT),
        ("ENROUTE", Status.SENT),
        ("UNKNOWN", Status.SENT),
        ("garbage", Status.SENT),
    ],
)
def test_receipt_stat_mapping(stat: str, status: Status) -> None:
    assert status_from_receipt(stat) == status
