"""Translation between the connector port values and SMPP PDUs.

`OutboundPart` → submit_sm (TON/NPI derived from the sender here, at the edge: domain/
senders.py); deliver_sm / data_sm → `ReceiptEvent` (a delivery receipt, its `stat` mapped to
a domain status by receipts.py) or `InboundEvent` (a mobile-originated segment). Pure
functions; the connector does the I/O.
"""

from __future__ import annotations

from datetime import UTC, datetime

from smsgate.adapters.connectors.smpp.receipts import status_from_receipt
from smsgate.codec.encoding import decode_payload
from smsgate.codec.errors import CodecError
from smsgate.codec.udh import split_udh
from smsgate.domain.errors import InvalidSender
from smsgate.domain.senders import parse_sender
from smsgate.services.ports import InboundEvent, OutboundPart, ReceiptEvent
from smsgate.smpp.constants import EsmClass, MessageState, TlvTag
from smsgate.smpp.errors import SmppError
from smsgate.smpp.pdu import DataSm, DeliverSm, SubmitSm
from smsgate.smpp.receipt import parse_receipt
from smsgate.smpp.smpp_time import format_smpp_time
from smsgate.smpp.tlv import Tlv, get_tlv, tlv_value

__all__ = [
    "InboundDecodeError",
    "build_submit_sm",
    "is_receipt",
    "to_inbound",
    "to_receipt",
]

# message_state TLV (SMPP 3.4 §5.2.28) → the receipt `stat` word (Appendix B).
_STATE_WORDS: dict[int, str] = {
    MessageState.ENROUTE: "ENROUTE",
    MessageState.DELIVERED: "DELIVRD",
    MessageState.EXPIRED: "EXPIRED",
    MessageState.DELETED: "DELETED",
    MessageState.UNDELIVERABLE: "UNDELIV",
    MessageState.ACCEPTED: "ACCEPTD",
    MessageState.UNKNOWN: "UNKNOWN",
    MessageState.REJECTED: "REJECTD",
}


class InboundDecodeError(Exception):
    """A deliver_sm we cannot turn into an event (bad UDH, undecodable text, no receipt id)."""


def receipt_date(text: str | None) -> datetime | None:
    """A receipt date "YYMMDDhhmm[ss]" (Appendix B) as UTC, None when absent or unreadable.

    The receipt carries no zone; SMSCs mostly write UTC or their own local time, and we
    cannot know which, so it is taken as UTC.
    """
    if not text or len(text) not in (10, 12) or not text.isdigit():
        return None
    yy, mo, dd, hh, mi = (int(text[i : i + 2]) for i in range(0, 10, 2))
    ss = int(text[10:12]) if len(text) == 12 else 0
    try:
        return datetime(2000 + yy, mo, dd, hh, mi, ss, tzinfo=UTC)
    except ValueError:
        return None


def build_submit_sm(
    part: OutboundPart,
    sequence_number: int,
    *,
    system_type_service: str = "",
    source_ton: int | None = None,
    source_npi: int | None = None,
) -> SubmitSm:
    """The submit_sm for one part (SAR TLVs when the part uses SAR concatenation).

    Raises SmppError when the part cannot be written as a submit_sm (an invalid sender)."""
    try:
        sender = parse_sender(part.source)
    except InvalidSender as exc:
        raise SmppError("the sender cannot be written as source_addr") from exc
    tlvs: tuple[Tlv, ...] = ()
    if part.sar is not None:
        ref, total, seq = part.sar
        tlvs = (
            Tlv.int(TlvTag.SAR_MSG_REF_NUM, ref),
            Tlv.int(TlvTag.SAR_TOTAL_SEGMENTS, total),
            Tlv.int(TlvTag.SAR_SEGMENT_SEQNUM, seq),
        )
    validity = format_smpp_time(part.validity_until) if part.validity_until else ""
    return SubmitSm(
        sequence_number=sequence_number,
        service_type=system_type_service,
        source_addr_ton=sender.ton if source_ton is None else source_ton,
        source_addr_npi=sender.npi if source_npi is None else source_npi,
        source_addr=sender.address,
        dest_addr_ton=1,  # international (the destination is E.164 digits)
        dest_addr_npi=1,  # ISDN (E.164)
        destination_addr=part.destination,
        esm_class=EsmClass.UDHI if part.udh else 0,
        validity_period=validity,
        registered_delivery=1 if part.registered_delivery else 0,
        data_coding=part.data_coding,
        short_message=part.short_message,
        tlvs=tlvs,
    )


def _payload(pdu: DeliverSm | DataSm) -> bytes:
    short = pdu.short_message if isinstance(pdu, DeliverSm) else b""
    if short:
        return short
    payload = get_tlv(pdu.tlvs, TlvTag.MESSAGE_PAYLOAD)
    return payload.value if payload is not None else b""


def is_receipt(pdu: DeliverSm | DataSm) -> bool:
    """esm_class says "SMSC delivery receipt" (§5.2.12), or a receipted_message_id is present."""
    kind = pdu.esm_class & EsmClass.TYPE_MASK
    if kind in (EsmClass.DELIVERY_RECEIPT, EsmClass.INTERMEDIATE_DELIVERY_NOTIFICATION):
        return True
    return get_tlv(pdu.tlvs, TlvTag.RECEIPTED_MESSAGE_ID) is not None


def _network_error(pdu: DeliverSm | DataSm) -> str | None:
    # §5.3.2.31: one octet network type, then a 2-octet error code.
    raw = tlv_value(pdu.tlvs, TlvTag.NETWORK_ERROR_CODE)
    if isinstance(raw, bytes) and len(raw) == 3:
        return f"{int.from_bytes(raw[1:], 'big'):03d}"
    return None


def to_receipt(connector: str, pdu: DeliverSm | DataSm) -> ReceiptEvent:
    """A ReceiptEvent from a receipt deliver_sm; the TLVs win over the text when both exist."""
    raw = _payload(pdu).decode("latin-1")
    parsed = parse_receipt(raw)
    tlv_id = tlv_value(pdu.tlvs, TlvTag.RECEIPTED_MESSAGE_ID)
    smsc_id = tlv_id if isinstance(tlv_id, str) and tlv_id else (parsed.id if parsed else "")
    if not smsc_id:
        raise InboundDecodeError("delivery receipt without a message id")
    state = tlv_value(pdu.tlvs, TlvTag.MESSAGE_STATE)
    stat = parsed.stat if parsed and parsed.stat else ""
    if not stat:
        stat = _STATE_WORDS.get(state, "UNKNOWN") if isinstance(state, int) else "UNKNOWN"
    err = parsed.err if parsed and parsed.err else (_network_error(pdu) or "000")
    return ReceiptEvent(
        connector=connector,
        smsc_id=smsc_id,
        status=status_from_receipt(stat),
        reported=stat.upper(),
        err=err,
        done_at=receipt_date(parsed.done_date) if parsed else None,
        raw=raw,
    )


def _sar(pdu: DeliverSm | DataSm) -> tuple[int, int, int] | None:
    ref = tlv_value(pdu.tlvs, TlvTag.SAR_MSG_REF_NUM)
    total = tlv_value(pdu.tlvs, TlvTag.SAR_TOTAL_SEGMENTS)
    seq = tlv_value(pdu.tlvs, TlvTag.SAR_SEGMENT_SEQNUM)
    if not (isinstance(ref, int) and isinstance(total, int) and isinstance(seq, int)):
        return None
    return (ref, total, seq) if 1 <= seq <= total else None


def to_inbound(connector: str, pdu: DeliverSm | DataSm, now: datetime) -> InboundEvent:
    """An InboundEvent from an MO deliver_sm / data_sm (UDH stripped, text decoded)."""
    body = _payload(pdu)
    concat = _sar(pdu)
    try:
        if pdu.esm_class & EsmClass.UDHI:
            udh, body = split_udh(body)
            if udh.concat is not None:
                concat = (udh.concat.ref, udh.concat.total, udh.concat.seq)
        text = decode_payload(body, pdu.data_coding)
    except CodecError as exc:
        raise InboundDecodeError("undecodable inbound message") from exc
    return InboundEvent(
        connector=connector,
        source=pdu.source_addr,
        source_ton=pdu.source_addr_ton,
        destination=pdu.destination_addr,
        dest_ton=pdu.dest_addr_ton,
        text=text,
        data_coding=pdu.data_coding,
        concat=concat,
        received_at=now,
    )
