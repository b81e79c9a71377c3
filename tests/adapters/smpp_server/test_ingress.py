"""Pure parts of the SMPP customer pipeline: ids, IP allow-lists, receipts."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from smsgate.adapters.smpp_server.deliver import DeliverSmSpec
from smsgate.adapters.smpp_server.ingress import (
    SMPP,
    SMPP_PARTS,
    SmppIngress,
    message_state,
    smpp_id,
    split_smpp_id,
)
from smsgate.adapters.smpp_server.pipeline import ip_allowed
from smsgate.services.records import Message, NewSmppDelivery
from smsgate.smpp.constants import MessageState, TlvTag
from smsgate.smpp.receipt import parse_receipt
from smsgate.smpp.tlv import tlv_value
from smsgate.testing.records import a_message


def test_ids_round_trip() -> None:
    assert smpp_id("msg_1", None) == "msg_1"
    assert smpp_id("msg_1", 3) == "msg_1.3"
    assert split_smpp_id("msg_1.3") == ("msg_1", 3)
    assert split_smpp_id("msg_1") == ("msg_1", None)
    assert split_smpp_id("a.b") == ("a.b", None)


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
    return a_message(
        id="msg_x",
        text="Привет, мир: a long text beyond twenty",
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


def test_deliver_sm_spec_reads_rows_written_before_it() -> None:
    """smpp_outbox rows kept by the previous release (a plain JSON dict) read as before."""
    receipt_row = json.dumps(
        {
            "source_addr": "359888123456",
            "source_addr_ton": 1,
            "source_addr_npi": 1,
            "destination_addr": "ACME",
            "dest_addr_ton": 5,
            "dest_addr_npi": 0,
            "esm_class": 4,
            "data_coding": 0,
            "short_message_hex": b"id:msg_x stat:DELIVRD".hex(),
            "receipted_message_id": "msg_x",
            "message_state": 2,
        }
    )
    pdu = DeliverSmSpec.from_json(receipt_row).to_pdu()
    assert (pdu.source_addr, pdu.dest_addr_ton, pdu.esm_class) == ("359888123456", 5, 4)
    assert pdu.short_message == b"id:msg_x stat:DELIVRD"
    assert tlv_value(pdu.tlvs, TlvTag.RECEIPTED_MESSAGE_ID) == "msg_x"
    assert tlv_value(pdu.tlvs, TlvTag.MESSAGE_STATE) == 2
    long_mo = {
        **json.loads(receipt_row),
        "short_message_hex": "",
        "message_payload_hex": (b"x" * 300).hex(),
    }
    del long_mo["receipted_message_id"], long_mo["message_state"]
    spec = DeliverSmSpec.from_json(json.dumps(long_mo))
    assert spec.short_message == b""
    assert tlv_value(spec.to_pdu().tlvs, TlvTag.MESSAGE_PAYLOAD) == b"x" * 300
    assert DeliverSmSpec.from_json(spec.to_json()) == spec
    assert json.loads(spec.to_json()) == long_mo


def test_mo_for_long_text_uses_message_payload() -> None:
    class Store:
        smpp_account_ids = frozenset({"acc"})

    ingress = SmppIngress(store=Store(), clock=None, messages=None)  # type: ignore[arg-type]
    inbound = replace(_message(SMPP, 0), direction="inbound", text="Ж" * 200)
    (change,) = ingress.mo_for(inbound)
    assert isinstance(change, NewSmppDelivery)
    spec = DeliverSmSpec.from_json(change.pdu)
    assert (spec.short_message, spec.data_coding) == (b"", 8)
    assert spec.message_payload == "Ж".encode("utf-16-be") * 200
    assert (spec.source_addr, spec.source_addr_ton, spec.dest_addr_ton) == ("ACME", 5, 1)
