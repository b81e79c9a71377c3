"""Records for tests and benchmarks: a stored message with ordinary values, changed where a
test says so."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from smsgate.services.records import Message

_MESSAGE = Message(
    id="msg_1",
    account_id="acc",
    direction="outbound",
    to_addr="+359888123456",
    from_addr="ACME",
    from_ton=5,
    from_npi=0,
    text="hi",
    status="delivered",
    category="transactional",
    encoding="gsm7",
    parts=1,
    created_at=1000.0,
    updated_at=1000.0,
)


def a_message(**fields: Any) -> Message:
    """A delivered one-part transactional message from ACME, with `fields` changed."""
    return replace(_MESSAGE, **fields)
