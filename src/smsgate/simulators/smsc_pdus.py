"""The deliver_sm PDUs the simulator sends: delivery receipts and mobile-originated messages.

Receipts carry the Appendix B text plus the receipted_message_id and message_state TLVs
(SMPP 3.4 §5.3.2.12, §5.3.2.35). A long mobile-originated text is split with
`smsgate.codec.split` and tied together by an 8- or 16-bit UDH (TS 23.040 §9.2.3.24.1 / .8)
or by SMPP SAR TLVs (SMPP 3.4 §5.3.2.22-24); without concatenation the whole text goes in
one message_payload TLV (§5.3.2.32).
"""

from __future__ import annotations

import random
from typing import Literal

from smsgate.codec.encoding import Encoding
from smsgate.codec.segment import Concat, split
from smsgate.smpp.constants import EsmClass, MessageState, TlvTag
from smsgate.smpp.pdu import DataSm, DeliverSm, SubmitSm
from smsgate.smpp.receipt import Receipt, format_receipt
from smsgate.smpp.tlv import Tlv

__all__ = ["RECEIPT_STATES", "build_mo_pdus", "build_receipt_pdu", "receipt_pdu"]

RECEIPT_STATES = {
    "DELIVRD": MessageState.DELIVERED,
    "UNDELIV": MessageState.UNDELIVERABLE,
    "EXPIRED": MessageState.EXPIRED,
}
"""The receipt `stat` words the simulator writes, and their message_state."""


# The receipt's text field echoes the start of the message; keep it ASCII-safe.
_PRINTABLE = bytes(b if 0x20 <= b < 0x7F else 0x2E for b in range(256))


def _printable(data: bytes) -> str:
    return data.translate(_PRINTABLE).decode("ascii")


def build_receipt_pdu(
    pdu: SubmitSm | DataSm, short: bytes, written_id: str, stat: str, err: str, stamp: str
) -> DeliverSm:
    """The receipt for `pdu` (addresses swapped; sequence_number 0: the session numbers it);
    `stamp` is the submit/done date, YYMMDDhhmm."""
    text = format_receipt(
        Receipt(
            id=written_id,
            sub="001",
            dlvrd="001" if stat == "DELIVRD" else "000",
            submit_date=stamp,
            done_date=stamp,
            stat=stat,
            err=err,
            text=_printable(short[:20]),
        )
    )
    return receipt_pdu(
        (pdu.source_addr_ton, pdu.source_addr_npi, pdu.source_addr),
        (pdu.dest_addr_ton, pdu.dest_addr_npi, pdu.destination_addr),
        text.encode("latin-1"),
        written_id,
        stat,
    )


def receipt_pdu(
    source: tuple[int, int, str],
    destination: tuple[int, int, str],
    text: bytes,
    written_id: str,
    stat: str,
) -> DeliverSm:
    """The receipt deliver_sm for a message from `source` to `destination` (ton, npi,
    address): it goes the other way."""
    return DeliverSm(
        sequence_number=0,
        source_addr_ton=destination[0],
        source_addr_npi=destination[1],
        source_addr=destination[2],
        dest_addr_ton=source[0],
        dest_addr_npi=source[1],
        destination_addr=source[2],
        esm_class=EsmClass.DELIVERY_RECEIPT,
        short_message=text,
        tlvs=(
            Tlv.cstr(TlvTag.RECEIPTED_MESSAGE_ID, written_id),
            Tlv.int(TlvTag.MESSAGE_STATE, RECEIPT_STATES[stat]),
        ),
    )


_DATA_CODING = {Encoding.GSM7: 0, Encoding.UCS2: 8}
_MAX_SHORT_MESSAGE = 254  # sm_length is one octet, 0-254 (SMPP 3.4 §5.2.21)


def build_mo_pdus(
    source: str,
    destination: str,
    text: str,
    *,
    concat: Literal["udh8", "udh16", "sar"] | None,
    encoding: Literal["auto", "gsm7", "ucs2"],
    rng: random.Random,
) -> list[DeliverSm]:
    """The deliver_sm PDUs (sequence_number 0: the session numbers them) for one MO text."""
    mode = Concat(concat) if concat else Concat.SAR
    ref = rng.randrange(1, 0x100 if mode is Concat.UDH8 else 0x10000)
    message = split(text, encoding=encoding, concat=mode, ref=ref)
    coding = _DATA_CODING[message.encoding]

    def make(short: bytes, esm_class: int = 0, tlvs: tuple[Tlv, ...] = ()) -> DeliverSm:
        return DeliverSm(
            sequence_number=0,
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr=source,
            dest_addr_ton=1 if len(destination) > 8 else 3,
            dest_addr_npi=1,
            destination_addr=destination,
            esm_class=esm_class,
            data_coding=coding,
            short_message=short,
            tlvs=tlvs,
        )

    if concat is None or len(message.parts) == 1:
        data = b"".join(part.payload for part in message.parts)
        if len(data) > _MAX_SHORT_MESSAGE:
            return [make(b"", tlvs=(Tlv.octets(TlvTag.MESSAGE_PAYLOAD, data),))]
        return [make(data)]
    if mode is Concat.SAR:
        return [
            make(
                part.payload,
                tlvs=(
                    Tlv.int(TlvTag.SAR_MSG_REF_NUM, part.ref),
                    Tlv.int(TlvTag.SAR_TOTAL_SEGMENTS, part.total),
                    Tlv.int(TlvTag.SAR_SEGMENT_SEQNUM, part.seq),
                ),
            )
            for part in message.parts
        ]
    return [make(part.short_message, EsmClass.UDHI) for part in message.parts]
