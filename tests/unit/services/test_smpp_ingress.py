"""Pure parts of the SMPP customer pipeline: ids, passwords, IP allow-lists, receipts."""

from __future__ import annotations

import json

import pytest

from smsgate.adapters.smpp_server.pipeline import ip_allowed
from smsgate.services.records import Message, NewSmppDelivery
from smsgate.services.smpp_ingress import (
    SMPP,
    SMPP_PARTS,
    SmppIngress,
    check_password,
    hash_password,
    message_state,
    smpp_id,
    split_smpp_id,
)
from smsgate.smpp.constants import MessageState
from smsgate.smpp.receipt import parse_receipt


def test_ids_round_trip() -> None:
    assert smpp_id("msg_1", None) == "msg_1"
    assert smpp_id("msg_1", 3) == "msg_1.3"
    assert split_smpp_id("msg_1.3") == ("msg_1", 3)
    assert split_smpp_id("msg_1") == ("msg_1", None)
    assert split_smpp_id("a.b") == ("a.b", None)


def test_passwords_are_salted_and_checked() -> None:
    one, two = hash_password("secret1"), hash_password("secret1")
    assert one != two
    assert "secret1" not in one
    assert check_password("secret1", one)
    assert not check_password("secret2", one)
    assert not check_password("secret1", "garbage")


@pytest.mark.parametrize(
    ("peer", "allowed", "ok"),
    [
        ("10.1.2.3", "", True),
        ("10.1.2.3", "10.0.0.0/8", True),
        ("10.1.2.3", "192.168.0.1, 10.1.2.3", True),
        ("10.1.2.3", "192.168.0.0/16", False),
        ("::1", "::1", True),
        ("not-an-ip", "10.0.0.0/8", False),
        ("10.1.2.3", "junk, 10.1.2.3", True),
    ],
)
def test_ip_allow_list(peer: str, allowed: str, ok: bool) -> None:
    assert ip_allowed(peer, allowed) is ok


def test_message_states() -> None:
    assert message_state("delivered") == MessageState.DELIVERED
    assert message_state("undelivered") == MessageState.UNDELIVERABLE
    assert message_state("sent") == MessageState.ENROUTE
    assert message_state("queued") == MessageState.ENROUTE
    assert message_state("scheduled") == MessageState.ENROUTE


def _message(source: str, receipt: int) -> Message:
    return Message(
        id="msg_x",
        account_id="acc",
        direction="outbound",
        to_addr="+359888123456",
        from_addr="ACME",
        from_ton=5,
        from_npi=0,
        text="Привет, мир: a long text beyond twenty",
        status="delivered",
        category="transactional",
        encoding="ucs2",
        parts=2,
        source=source,
        receipt_requested=receipt,
        created_at=1_800_000_000.0,
        updated_at=1_800_000_000.0,
    )


def _ingress() -> SmppIngress:
    return SmppIngress(store=None, clock=None, messages=None)  # type: ignore[arg-type]


def test_receipt_per_message_or_per_part() -> None:
    ingress = _ingress()
    whole = _message(SMPP, 1)
    assert ingress.receipts_for(whole, 1, "delivered", None, 1.8e9) == []  # parts of ours: no
    (change,) = ingress.receipts_for(whole, None, "delivered", None, 1.8e9 + 60)
    assert isinstance(change, NewSmppDelivery)
    pdu = json.loads(change.pdu)
    assert pdu["receipted_message_id"] == "msg_x"
    assert pdu["destination_addr"] == "ACME"
    assert pdu["source_addr"] == "359888123456"
    receipt = parse_receipt(bytes.fromhex(pdu["short_message_hex"]))
    assert receipt is not None
    assert (receipt.id, receipt.stat, receipt.dlvrd) == ("msg_x", "DELIVRD", "001")
    parts = _message(SMPP_PARTS, 1)
    assert ingress.receipts_for(parts, None, "delivered", None, 1.8e9) == []
    (per_part,) = ingress.receipts_for(parts, 2, "undelivered", "001", 1.8e9)
    assert json.loads(per_part.pdu)["receipted_message_id"] == "msg_x.2"
    assert json.loads(per_part.pdu)["message_state"] == int(MessageState.UNDELIVERABLE)


def test_receipt_only_when_asked() -> None:
    ingress = _ingress()
    assert ingress.receipts_for(_message(SMPP, 0), None, "delivered", None, 1.0) == []
    assert ingress.receipts_for(_message("api", 1), None, "delivered", None, 1.0) == []
    failure_only = _message(SMPP, 2)
    assert ingress.receipts_for(failure_only, None, "delivered", None, 1.0) == []
    assert len(ingress.receipts_for(failure_only, None, "expired", None, 1.0)) == 1
    assert ingress.receipts_for(_message(SMPP, 1), None, "sent", None, 1.0) == []
