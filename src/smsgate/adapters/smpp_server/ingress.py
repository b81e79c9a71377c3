"""Messages that customers submit over SMPP, and the deliver_sm they get back.

The SMPP half of the customers' pipeline: submit_sm, data_sm, query_sm, cancel_sm and
replace_sm become calls of the protocol-neutral services (MessageService, ClientParts), their
domain errors become command statuses here, and receipts and inbound messages become
`DeliverSmSpec` rows for the account's receivers.

A submit_sm becomes a message of the account through the same pipeline as the REST API and
is committed before its ESME_ROK. A text that fits one submit_sm (or comes in
message_payload) is split by us like any other message and gets one receipt. A long message
the ESME split itself (UDH or SAR parts, one submit_sm each) becomes one message of N parts
(services/client_parts.py): each part keeps its own id (`<message id>.<seq>`) and gets its
own receipt, as an SMSC would give; a group still incomplete PART_HOLD_S after its first part
ends `failed` (error `incomplete_concatenation`, a REJECTD receipt per part).

Limits, as on every channel (DESIGN.md §5): a message longer than the account's `max_parts`
is refused with ESME_RINVMSGLEN, whether it comes whole (short_message, message_payload) or
as parts (each part whose UDH or SAR total is above the limit); impossible part numbers
(part 0, part above the total, total 0) are ESME_RINVESMCLASS in a UDH and
ESME_RINVOPTPARAMVAL in SAR TLVs (as is an incomplete SAR set).
"""

from __future__ import annotations

from datetime import UTC, datetime

from smsgate import codec
from smsgate.adapters.smpp_server.deliver import DeliverSmSpec
from smsgate.adapters.smpp_server.submission import (
    SubmitRefused,
    destination_of,
    payload_of,
    refusal,
    source_of,
    times_of,
)
from smsgate.domain.errors import DomainError
from smsgate.domain.states import FINAL, Status
from smsgate.services.client_parts import PART_HOLD_S, ClientPart, ClientParts
from smsgate.services.clock import Clock
from smsgate.services.messages import MessageService, SendRequest
from smsgate.services.records import Account, Change, Message, NewSmppDelivery, Part
from smsgate.services.store_port import StorePort
from smsgate.smpp import SmppError
from smsgate.smpp.constants import CommandStatus, EsmClass, MessageState
from smsgate.smpp.pdu import DataSm, SubmitSm
from smsgate.smpp.receipt import Receipt, format_receipt
from smsgate.smpp.smpp_time import format_smpp_time, parse_smpp_time

__all__ = [
    "PART_HOLD_S",
    "SMPP",
    "SMPP_PARTS",
    "SmppIngress",
    "SubmitRefused",
    "message_state",
    "smpp_id",
    "split_smpp_id",
]

SMPP = "smpp"  # Message.source of a submit_sm we split (or that fit one part)
SMPP_PARTS = "smpp-cat"  # Message.source of a message the ESME sent as concatenated parts
TEXT_CODINGS = (0, 1, 3, 8)

STATE_OF = {
    Status.DELIVERED: MessageState.DELIVERED,
    Status.UNDELIVERED: MessageState.UNDELIVERABLE,
    Status.EXPIRED: MessageState.EXPIRED,
    Status.FAILED: MessageState.REJECTED,
    Status.REJECTED: MessageState.REJECTED,
    Status.CANCELED: MessageState.DELETED,
}
STAT_OF = {
    MessageState.DELIVERED: "DELIVRD",
    MessageState.UNDELIVERABLE: "UNDELIV",
    MessageState.EXPIRED: "EXPIRED",
    MessageState.REJECTED: "REJECTD",
    MessageState.DELETED: "DELETED",
    MessageState.ENROUTE: "ENROUTE",
    MessageState.ACCEPTED: "ACCEPTD",
    MessageState.UNKNOWN: "UNKNOWN",
}


def message_state(status: str) -> MessageState:
    """SMPP 3.4 §5.2.28: every message still on its way (queued, scheduled, sent) is ENROUTE."""
    if status in STATE_OF:
        return STATE_OF[Status(status)]
    return MessageState.DELIVERED if status == Status.RECEIVED else MessageState.ENROUTE


def smpp_id(message_id: str, seq: int | None) -> str:
    return message_id if seq is None else f"{message_id}.{seq}"


def split_smpp_id(value: str) -> tuple[str, int | None]:
    head, dot, tail = value.rpartition(".")
    if dot and tail.isdigit():
        return head, int(tail)
    return value, None


class SmppIngress:
    """The SMPP customers' requests as service calls (see the module docstring)."""

    def __init__(
        self,
        store: StorePort,
        clock: Clock,
        messages: MessageService,
        *,
        part_hold_s: float = PART_HOLD_S,
    ) -> None:
        self._store = store
        self._clock = clock
        self._messages = messages
        self._parts = ClientParts(store, clock, messages, origin=SMPP_PARTS, hold_s=part_hold_s)

    # ---- submit_sm / data_sm -----------------------------------------------------------

    async def submit(self, account: Account, pdu: SubmitSm | DataSm) -> str:
        """Store the submission; its SMPP message id. Raises SubmitRefused."""
        now = self._clock.now()
        body, udh, concat = payload_of(pdu)
        coding = pdu.data_coding & 0xFF
        if coding not in TEXT_CODINGS:
            raise SubmitRefused(CommandStatus.ESME_RSUBMITFAIL, "unsupported data_coding")
        try:
            text = codec.decode_payload(body, coding)
        except codec.CodecError as exc:
            raise SubmitRefused(CommandStatus.ESME_RINVMSGLEN, "undecodable text") from exc
        send_at, valid_until = times_of(pdu, now)
        to = destination_of(pdu, account)
        sender = source_of(pdu)
        try:
            await self._messages.check_sender(account, sender, now)
        except DomainError as exc:
            raise refusal(exc) from exc
        receipt = pdu.registered_delivery & 0x03
        if concat is None or concat[1] == 1:
            return await self._submit_whole(
                account, to, sender, text, coding, receipt, send_at, valid_until, now
            )
        return await self._submit_part(
            account, to, sender, pdu, text, udh, body, concat, receipt, send_at, valid_until, now
        )

    async def _submit_whole(
        self,
        account: Account,
        to: str,
        sender: str,
        text: str,
        coding: int,
        receipt: int,
        send_at: float | None,
        valid_until: float | None,
        now: float,
    ) -> str:
        validity = None if valid_until is None else max(5, int(valid_until - (send_at or now)))
        req = SendRequest(
            to=to,
            sender=sender,
            text=text,
            send_at=send_at,
            validity_s=validity,
            encoding="auto",  # GSM-7 when the text allows, whatever coding the ESME used
        )
        try:
            new = self._messages.build(account, req, now, origin=SMPP, receipt=receipt)
        except DomainError as exc:
            raise refusal(exc) from exc
        await self._messages.commit(new)
        return new.message.id

    async def _submit_part(
        self,
        account: Account,
        to: str,
        sender: str,
        pdu: SubmitSm | DataSm,
        text: str,
        udh: bytes,
        body: bytes,
        concat: tuple[int, int, int],
        receipt: int,
        send_at: float | None,
        valid_until: float | None,
        now: float,
    ) -> str:
        ref, total, seq = concat
        part = Part(
            message_id="",
            seq=seq,
            total=total,
            status=Status.QUEUED,
            short_message=udh + body,
            esm_class=pdu.esm_class,
            data_coding=pdu.data_coding,
            sar_ref=None if udh else ref,
            receipt_requested=receipt,
        )
        client_part = ClientPart(
            to=to,
            sender=sender,
            text=text,
            ref=ref,
            total=total,
            seq=seq,
            part=part,
            receipt=receipt,
            send_at=send_at,
            valid_until=valid_until,
        )
        try:
            message_id = await self._parts.add(account, client_part, now)
        except DomainError as exc:
            raise refusal(exc) from exc
        return smpp_id(message_id, seq)

    # ---- query_sm / cancel_sm / replace_sm -----------------------------------------------

    async def query(self, account: Account, message_id: str) -> tuple[MessageState, str, int]:
        """(message_state, final_date, error_code) of one of the account's submissions."""
        mid, seq = split_smpp_id(message_id)
        message = await self._store.get_message(mid, account.id)
        if message is None:
            raise SubmitRefused(CommandStatus.ESME_RQUERYFAIL, "no such message")
        status = message.status
        if seq is not None:
            parts = {p.seq: p for p in await self._store.get_parts(mid)}
            if seq not in parts:
                raise SubmitRefused(CommandStatus.ESME_RQUERYFAIL, "no such part")
            status = parts[seq].status
        state = message_state(status)
        final = ""
        if status in FINAL:
            when = message.delivered_at or message.updated_at
            final = format_smpp_time(datetime.fromtimestamp(when, UTC))
        return state, final, 0

    async def cancel(self, account: Account, message_id: str) -> None:
        mid, _seq = split_smpp_id(message_id)
        try:
            await self._messages.cancel(account, mid)
        except DomainError as exc:
            raise SubmitRefused(CommandStatus.ESME_RCANCELFAIL, exc.message) from exc

    async def replace(
        self, account: Account, message_id: str, short_message: bytes, schedule: str
    ) -> None:
        now = self._clock.now()
        mid, seq = split_smpp_id(message_id)
        message = await self._store.get_message(mid, account.id)
        if message is None or seq is not None or message.source != SMPP:
            raise SubmitRefused(CommandStatus.ESME_RREPLACEFAIL, "not replaceable")
        parts = await self._store.get_parts(mid)
        coding = parts[0].data_coding if parts else 0
        try:
            text = codec.decode_payload(short_message, coding) if short_message else message.text
            when = parse_smpp_time(schedule, datetime.fromtimestamp(now, UTC)) if schedule else None
        except (codec.CodecError, SmppError) as exc:
            raise SubmitRefused(CommandStatus.ESME_RREPLACEFAIL, "bad replacement") from exc
        due = when.timestamp() if when is not None else (message.scheduled_at or now)
        try:
            split = codec.split(text, max_parts=account.max_parts)
        except codec.CodecError as exc:
            raise SubmitRefused(CommandStatus.ESME_RREPLACEFAIL, "text too long") from exc
        new_parts = [
            Part(
                message_id=mid,
                seq=p.seq,
                total=p.total,
                status=Status.SCHEDULED if due > now else Status.QUEUED,
                short_message=p.short_message,
                esm_class=0x40 if p.udh else 0,
                data_coding=0 if split.encoding == codec.Encoding.GSM7 else 8,
            )
            for p in split.parts
        ]
        ok = await self._store.replace_scheduled(
            mid,
            text=split.text,
            encoding=split.encoding.value,
            parts=new_parts,
            due_at=due,
            now=now,
        )
        if not ok:
            raise SubmitRefused(CommandStatus.ESME_RREPLACEFAIL, "already being sent")

    # ---- inbound messages to the ESME ----------------------------------------------------

    def mo_for(self, message: Message) -> list[Change]:
        """A deliver_sm for an inbound message of an account that binds over SMPP."""
        if message.account_id not in self._store.smpp_account_ids:
            return []  # nobody binds for this account: webhooks are its way
        text = message.text
        gsm = codec.gsm7_units(text) is not None
        body = codec.encode_gsm7(text) if gsm else codec.encode_ucs2(text)
        long = len(body) > 254  # SMPP 3.4 §5.3.2.32: message_payload instead
        spec = DeliverSmSpec(
            source_addr=message.from_addr.lstrip("+"),
            source_addr_ton=1 if message.from_addr.startswith("+") else 5,
            source_addr_npi=1 if message.from_addr.startswith("+") else 0,
            destination_addr=message.to_addr.lstrip("+"),
            dest_addr_ton=1 if message.to_addr.startswith("+") else 3,
            dest_addr_npi=1 if message.to_addr.startswith("+") else 0,
            esm_class=0,
            data_coding=0 if gsm else 8,
            short_message=b"" if long else body,
            message_payload=body if long else None,
        )
        return [
            NewSmppDelivery(
                account_id=message.account_id,
                kind="mo",
                message_id=message.id,
                pdu=spec.to_json(),
                created_at=message.created_at,
            )
        ]

    # ---- receipts back to the ESME ---------------------------------------------------------

    def receipts_for(
        self, message: Message, seq: int | None, status: str, error: str | None, now: float
    ) -> list[Change]:
        """The deliver_sm receipt for a submission that reached a final status, if asked.

        Called for every part (seq) and every whole message (seq None) that becomes final:
        a message we split gets one receipt, an ESME-concatenated one one per part."""
        if message.receipt_requested == 0 or status not in STATE_OF:
            return []
        if (message.source, seq is None) not in ((SMPP, True), (SMPP_PARTS, False)):
            return []
        if message.receipt_requested == 2 and status == Status.DELIVERED:
            return []  # registered_delivery 2: receipts on failure only
        state = STATE_OF[Status(status)]
        rid = smpp_id(message.id, seq)
        receipt = Receipt(
            id=rid,
            sub="001",
            dlvrd="001" if status == Status.DELIVERED else "000",
            submit_date=_receipt_date(message.created_at),
            done_date=_receipt_date(now),
            stat=STAT_OF[state],
            err=(error or "000")[:3] if status != Status.DELIVERED else "000",
            text=message.text[:20],
        )
        spec = DeliverSmSpec(
            source_addr=message.to_addr.lstrip("+"),
            source_addr_ton=1,
            source_addr_npi=1,
            destination_addr=message.from_addr.lstrip("+"),
            dest_addr_ton=message.from_ton,
            dest_addr_npi=message.from_npi,
            esm_class=int(EsmClass.DELIVERY_RECEIPT),
            data_coding=0,
            short_message=format_receipt(receipt).encode("ascii", "replace"),
            receipted_message_id=rid,
            message_state=int(state),
        )
        return [
            NewSmppDelivery(
                account_id=message.account_id,
                kind="receipt",
                message_id=message.id,
                pdu=spec.to_json(),
                created_at=now,
            )
        ]


def _receipt_date(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%y%m%d%H%M")
