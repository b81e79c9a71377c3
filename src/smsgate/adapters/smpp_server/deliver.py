"""`DeliverSmSpec`: a deliver_sm kept for an account's ESME (a receipt or an inbound message).

The spec is what `smpp_outbox.pdu` holds, as JSON (`to_json`/`from_json`; the keys are the
deliver_sm field names, bytes as hex): the row is written in the commit that makes the
receipt or the inbound message, and turned into a `DeliverSm` when a receiver of the account
is bound (`to_pdu`, runtime/smpp_delivery.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from smsgate.smpp.constants import TlvTag
from smsgate.smpp.pdu import DeliverSm
from smsgate.smpp.tlv import Tlv

__all__ = ["DeliverSmSpec"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverSmSpec:
    """The fields of one deliver_sm (SMPP 3.4 §4.6.1) before it has a sequence number."""

    source_addr: str
    source_addr_ton: int
    source_addr_npi: int
    destination_addr: str
    dest_addr_ton: int
    dest_addr_npi: int
    esm_class: int
    data_coding: int
    short_message: bytes
    message_payload: bytes | None = None  # §5.3.2.32, for a body over 254 octets
    receipted_message_id: str | None = None  # §5.3.2.12, receipts only
    message_state: int | None = None  # §5.3.2.35, receipts only

    def to_json(self) -> str:
        fields: dict[str, Any] = {
            "source_addr": self.source_addr,
            "source_addr_ton": self.source_addr_ton,
            "source_addr_npi": self.source_addr_npi,
            "destination_addr": self.destination_addr,
            "dest_addr_ton": self.dest_addr_ton,
            "dest_addr_npi": self.dest_addr_npi,
            "esm_class": self.esm_class,
            "data_coding": self.data_coding,
            "short_message_hex": self.short_message.hex(),
        }
        if self.message_payload is not None:
            fields["message_payload_hex"] = self.message_payload.hex()
        if self.receipted_message_id is not None:
            fields["receipted_message_id"] = self.receipted_message_id
        if self.message_state is not None:
            fields["message_state"] = self.message_state
        return json.dumps(fields)

    @classmethod
    def from_json(cls, text: str) -> DeliverSmSpec:
        fields = json.loads(text)
        payload = fields.get("message_payload_hex")
        return cls(
            source_addr=fields["source_addr"],
            source_addr_ton=fields["source_addr_ton"],
            source_addr_npi=fields["source_addr_npi"],
            destination_addr=fields["destination_addr"],
            dest_addr_ton=fields["dest_addr_ton"],
            dest_addr_npi=fields["dest_addr_npi"],
            esm_class=fields["esm_class"],
            data_coding=fields["data_coding"],
            short_message=bytes.fromhex(fields["short_message_hex"]),
            message_payload=None if payload is None else bytes.fromhex(payload),
            receipted_message_id=fields.get("receipted_message_id"),
            message_state=fields.get("message_state"),
        )

    def to_pdu(self, sequence_number: int = 0) -> DeliverSm:
        tlvs: list[Tlv] = []
        if self.receipted_message_id is not None:
            tlvs.append(Tlv.cstr(TlvTag.RECEIPTED_MESSAGE_ID, self.receipted_message_id))
        if self.message_state is not None:
            tlvs.append(Tlv.int(TlvTag.MESSAGE_STATE, self.message_state, size=1))
        if self.message_payload is not None:
            tlvs.append(Tlv.octets(TlvTag.MESSAGE_PAYLOAD, self.message_payload))
        return DeliverSm(
            sequence_number=sequence_number,
            source_addr=self.source_addr,
            source_addr_ton=self.source_addr_ton,
            source_addr_npi=self.source_addr_npi,
            destination_addr=self.destination_addr,
            dest_addr_ton=self.dest_addr_ton,
            dest_addr_npi=self.dest_addr_npi,
            esm_class=self.esm_class,
            data_coding=self.data_coding,
            short_message=self.short_message,
            tlvs=tuple(tlvs),
        )
