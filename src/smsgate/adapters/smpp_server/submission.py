"""Reading a submit_sm / data_sm: its text bytes, UDH and concatenation, its times, its
addresses; and the SMPP command status of each refusal (SMPP 3.4 §5.1.3), domain errors
included. Pure functions of the PDU (and the account, and now)."""

from __future__ import annotations

from datetime import UTC, datetime

from smsgate import codec
from smsgate.domain.errors import DomainError, InvalidNumber, InvalidSender, TooManyParts
from smsgate.domain.numbers import normalize
from smsgate.domain.senders import parse_sender
from smsgate.services.records import Account
from smsgate.smpp import SmppError
from smsgate.smpp.constants import CommandStatus, EsmClass, TlvTag
from smsgate.smpp.pdu import DataSm, SubmitSm
from smsgate.smpp.smpp_time import parse_smpp_time
from smsgate.smpp.tlv import tlv_value

__all__ = [
    "SubmitRefused",
    "destination_of",
    "payload_of",
    "refusal",
    "source_of",
    "times_of",
]


class SubmitRefused(DomainError):
    """An SMPP request we answer with an error status."""

    code = "smpp_refused"

    def __init__(self, status: CommandStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


def payload_of(pdu: SubmitSm | DataSm) -> tuple[bytes, bytes, tuple[int, int, int] | None]:
    """(text bytes, UDH, concatenation) of a submission."""
    payload = pdu.short_message if isinstance(pdu, SubmitSm) else b""
    extra = tlv_value(pdu.tlvs, TlvTag.MESSAGE_PAYLOAD)
    if isinstance(extra, bytes) and extra:
        if payload:
            raise SubmitRefused(
                CommandStatus.ESME_RINVOPTPARAMVAL, "short_message and message_payload both set"
            )
        payload = extra
    udh = b""
    concat: tuple[int, int, int] | None = None
    if pdu.esm_class & EsmClass.UDHI:
        try:
            header, body = codec.split_udh(payload)
        except codec.UdhError as exc:
            raise SubmitRefused(CommandStatus.ESME_RINVESMCLASS, "bad UDH") from exc
        udh = payload[: len(payload) - len(body)]
        payload = body
        if header.concat is not None:
            concat = (header.concat.ref, header.concat.total, header.concat.seq)
        elif any(iei in CONCAT_IEIS for iei, _data in header.elements):
            # TS 23.040 voids such an element (part 0, part > total, total 0, bad length);
            # sending the part on as a whole message would be a silent guess.
            raise SubmitRefused(CommandStatus.ESME_RINVESMCLASS, "bad concatenation numbers")
    else:
        sar = [tlv_value(pdu.tlvs, tag) for tag in SAR_TAGS]
        if any(v is not None for v in sar):
            ref, total, seq = sar
            if not (isinstance(ref, int) and isinstance(total, int) and isinstance(seq, int)):
                raise SubmitRefused(CommandStatus.ESME_RINVOPTPARAMVAL, "incomplete SAR TLVs")
            if not 1 <= seq <= total:
                raise SubmitRefused(CommandStatus.ESME_RINVOPTPARAMVAL, "bad SAR numbers")
            concat = (ref, total, seq)
    return payload, udh, concat


CONCAT_IEIS = (0x00, 0x08)  # TS 23.040 §9.2.3.24.1 and §9.2.3.24.8
# SMPP 3.4 §5.3.2.22-24: used together or not at all
SAR_TAGS = (TlvTag.SAR_MSG_REF_NUM, TlvTag.SAR_TOTAL_SEGMENTS, TlvTag.SAR_SEGMENT_SEQNUM)


def times_of(pdu: SubmitSm | DataSm, now: float) -> tuple[float | None, float | None]:
    if isinstance(pdu, DataSm):
        return None, None
    at = datetime.fromtimestamp(now, UTC)
    try:
        schedule = parse_smpp_time(pdu.schedule_delivery_time, at)
    except SmppError as exc:
        raise SubmitRefused(CommandStatus.ESME_RINVSCHED, "bad schedule_delivery_time") from exc
    try:
        validity = parse_smpp_time(pdu.validity_period, at)
    except SmppError as exc:
        raise SubmitRefused(CommandStatus.ESME_RINVEXPIRY, "bad validity_period") from exc
    send_at = schedule.timestamp() if schedule is not None else None
    valid_until = validity.timestamp() if validity is not None else None
    if valid_until is not None and valid_until <= (send_at or now):
        raise SubmitRefused(CommandStatus.ESME_RINVEXPIRY, "validity ends before sending")
    return send_at, valid_until


def destination_of(pdu: SubmitSm | DataSm, account: Account) -> str:
    digits = pdu.destination_addr.strip()
    if pdu.dest_addr_ton == 1 and digits.isdigit():
        digits = "+" + digits
    try:
        return normalize(digits, account.default_country or None).e164
    except InvalidNumber as exc:
        raise SubmitRefused(CommandStatus.ESME_RINVDSTADR, exc.message) from exc


def source_of(pdu: SubmitSm | DataSm) -> str:
    source = pdu.source_addr.strip()
    if not source:
        return ""
    if pdu.source_addr_ton == 1 and source.isdigit():
        source = "+" + source
    try:
        return parse_sender(source).display
    except InvalidSender as exc:
        raise SubmitRefused(CommandStatus.ESME_RINVSRCADR, exc.message) from exc


def refusal(exc: DomainError) -> SubmitRefused:
    if isinstance(exc, TooManyParts):
        # The whole message is longer than the account's part limit: SMPP 3.4 §5.1.3 has
        # no closer status than "message length is invalid" (also for one part of it).
        return SubmitRefused(CommandStatus.ESME_RINVMSGLEN, exc.message)
    if isinstance(exc, InvalidSender):
        return SubmitRefused(CommandStatus.ESME_RINVSRCADR, exc.message)
    if isinstance(exc, InvalidNumber):
        return SubmitRefused(CommandStatus.ESME_RINVDSTADR, exc.message)
    return SubmitRefused(CommandStatus.ESME_RSUBMITFAIL, exc.message)
