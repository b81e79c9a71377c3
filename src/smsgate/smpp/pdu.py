"""One frozen dataclass per SMPP 3.4 PDU (§4), field names as in the specification.

C-octet string fields are `str` holding the octets decoded as latin-1: SMPP 3.4 defines
them as ASCII, latin-1 maps every octet 0-255 to one code point so decoding never fails and
re-encoding gives the same bytes. `short_message` and TLV values are `bytes`; text encoding
(GSM 03.38, UCS-2) belongs to `smsgate.codec`. Every PDU has `sequence_number` and
`command_status` (0 on requests); every PDU that has a body keeps its optional parameters
in `tlvs`, in wire order. Construction is keyword-only.

A response whose command_status is not 0 may come with no body at all (SMPP 3.4 §4.1.2,
§4.4.2, ...): it decodes with the default field values, and it is encoded without a body
when all its body fields are at their defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar, cast

from smsgate.smpp.constants import INTERFACE_VERSION, CommandId
from smsgate.smpp.tlv import Tlv

_R = TypeVar("_R", bound="PduBase")


@dataclass(frozen=True, slots=True, kw_only=True)
class PduBase:
    """Header fields shared by every PDU (SMPP 3.4 §3.2: command_length is computed)."""

    command_id: ClassVar[CommandId]
    sequence_number: int
    command_status: int = 0


class Request(Generic[_R]):
    """Mixin of request PDUs: `make_resp` builds the matching response."""

    __slots__ = ()
    response_class: ClassVar[type[PduBase]]
    sequence_number: int

    def make_resp(self, **fields: Any) -> _R:
        """The response to this request, with the same sequence_number (status via
        `command_status=`, body fields by name)."""
        return cast(_R, self.response_class(sequence_number=self.sequence_number, **fields))


# --- bind / outbind / unbind (§4.1, §4.2) ---------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _BindBody(PduBase):
    system_id: str = ""
    password: str = field(default="", repr=False)  # never in logs
    system_type: str = ""
    interface_version: int = INTERFACE_VERSION
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""
    tlvs: tuple[Tlv, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class _BindRespBody(PduBase):
    system_id: str = ""
    tlvs: tuple[Tlv, ...] = ()  # sc_interface_version (§4.1.2)


@dataclass(frozen=True, slots=True, kw_only=True)
class BindTransmitterResp(_BindRespBody):
    """bind_transmitter_resp (§4.1.2)."""

    command_id: ClassVar[CommandId] = CommandId.BIND_TRANSMITTER_RESP


@dataclass(frozen=True, slots=True, kw_only=True)
class BindTransmitter(_BindBody, Request[BindTransmitterResp]):
    """bind_transmitter (§4.1.1)."""

    command_id: ClassVar[CommandId] = CommandId.BIND_TRANSMITTER
    response_class: ClassVar[type[PduBase]] = BindTransmitterResp


@dataclass(frozen=True, slots=True, kw_only=True)
class BindReceiverResp(_BindRespBody):
    """bind_receiver_resp (§4.1.4)."""

    command_id: ClassVar[CommandId] = CommandId.BIND_RECEIVER_RESP


@dataclass(frozen=True, slots=True, kw_only=True)
class BindReceiver(_BindBody, Request[BindReceiverResp]):
    """bind_receiver (§4.1.3)."""

    command_id: ClassVar[CommandId] = CommandId.BIND_RECEIVER
    response_class: ClassVar[type[PduBase]] = BindReceiverResp


@dataclass(frozen=True, slots=True, kw_only=True)
class BindTransceiverResp(_BindRespBody):
    """bind_transceiver_resp (§4.1.6)."""

    command_id: ClassVar[CommandId] = CommandId.BIND_TRANSCEIVER_RESP


@dataclass(frozen=True, slots=True, kw_only=True)
class BindTransceiver(_BindBody, Request[BindTransceiverResp]):
    """bind_transceiver (§4.1.5)."""

    command_id: ClassVar[CommandId] = CommandId.BIND_TRANSCEIVER
    response_class: ClassVar[type[PduBase]] = BindTransceiverResp


@dataclass(frozen=True, slots=True, kw_only=True)
class Outbind(PduBase):
    """outbind (§4.1.7): the SMSC asks the ESME to bind_receiver; it has no response."""

    command_id: ClassVar[CommandId] = CommandId.OUTBIND
    system_id: str = ""
    password: str = field(default="", repr=False)
    tlvs: tuple[Tlv, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class UnbindResp(PduBase):
    """unbind_resp (§4.2.2)."""

    command_id: ClassVar[CommandId] = CommandId.UNBIND_RESP


@dataclass(frozen=True, slots=True, kw_only=True)
class Unbind(PduBase, Request[UnbindResp]):
    """unbind (§4.2.1)."""

    command_id: ClassVar[CommandId] = CommandId.UNBIND
    response_class: ClassVar[type[PduBase]] = UnbindResp


@dataclass(frozen=True, slots=True, kw_only=True)
class GenericNack(PduBase):
    """generic_nack (§4.3): the answer to a PDU with a bad header or unknown command_id."""

    command_id: ClassVar[CommandId] = CommandId.GENERIC_NACK


# --- submit_sm / deliver_sm (§4.4, §4.6) ------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _ShortMessageBody(PduBase):
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""  # sm_length is len(short_message)
    tlvs: tuple[Tlv, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class _MessageIdBody(PduBase):
    message_id: str = ""
    tlvs: tuple[Tlv, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitSmResp(_MessageIdBody):
    """submit_sm_resp (§4.4.2)."""

    command_id: ClassVar[CommandId] = CommandId.SUBMIT_SM_RESP


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitSm(_ShortMessageBody, Request[SubmitSmResp]):
    """submit_sm (§4.4.1)."""

    command_id: ClassVar[CommandId] = CommandId.SUBMIT_SM
    response_class: ClassVar[type[PduBase]] = SubmitSmResp


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverSmResp(_MessageIdBody):
    """deliver_sm_resp (§4.6.2); message_id is unused and left empty."""

    command_id: ClassVar[CommandId] = CommandId.DELIVER_SM_RESP


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverSm(_ShortMessageBody, Request[DeliverSmResp]):
    """deliver_sm (§4.6.1): a mobile-originated message or a delivery receipt."""

    command_id: ClassVar[CommandId] = CommandId.DELIVER_SM
    response_class: ClassVar[type[PduBase]] = DeliverSmResp


# --- submit_multi (§4.5) -------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class DestAddress:
    """An SME address in submit_multi's dest_address list (dest_flag 1, §4.5.1.1)."""

    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DistributionList:
    """A distribution list name in submit_multi's dest_address list (dest_flag 2)."""

    dl_name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class UnsuccessSme:
    """One failed destination in submit_multi_resp (§4.5.2.1)."""

    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    error_status_code: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitMultiResp(PduBase):
    """submit_multi_resp (§4.5.2)."""

    command_id: ClassVar[CommandId] = CommandId.SUBMIT_MULTI_RESP
    message_id: str = ""
    unsuccess_smes: tuple[UnsuccessSme, ...] = ()
    tlvs: tuple[Tlv, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitMulti(PduBase, Request[SubmitMultiResp]):
    """submit_multi (§4.5.1): one message to up to 254 SME addresses or distribution lists."""

    command_id: ClassVar[CommandId] = CommandId.SUBMIT_MULTI
    response_class: ClassVar[type[PduBase]] = SubmitMultiResp
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addresses: tuple[DestAddress | DistributionList, ...] = ()
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""
    tlvs: tuple[Tlv, ...] = ()


# --- data_sm (§4.7) ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class DataSmResp(_MessageIdBody):
    """data_sm_resp (§4.7.2)."""

    command_id: ClassVar[CommandId] = CommandId.DATA_SM_RESP


@dataclass(frozen=True, slots=True, kw_only=True)
class DataSm(PduBase, Request[DataSmResp]):
    """data_sm (§4.7.1): the payload travels in the message_payload TLV."""

    command_id: ClassVar[CommandId] = CommandId.DATA_SM
    response_class: ClassVar[type[PduBase]] = DataSmResp
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    registered_delivery: int = 0
    data_coding: int = 0
    tlvs: tuple[Tlv, ...] = ()


# --- query_sm / cancel_sm / replace_sm (§4.8-§4.10) ----------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class QuerySmResp(PduBase):
    """query_sm_resp (§4.8.2)."""

    command_id: ClassVar[CommandId] = CommandId.QUERY_SM_RESP
    message_id: str = ""
    final_date: str = ""
    message_state: int = 0
    error_code: int = 0
    tlvs: tuple[Tlv, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class QuerySm(PduBase, Request[QuerySmResp]):
    """query_sm (§4.8.1)."""

    command_id: ClassVar[CommandId] = CommandId.QUERY_SM
    response_class: ClassVar[type[PduBase]] = QuerySmResp
    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    tlvs: tuple[Tlv, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelSmResp(PduBase):
    """cancel_sm_resp (§4.9.2): header only."""

    command_id: ClassVar[CommandId] = CommandId.CANCEL_SM_RESP


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelSm(PduBase, Request[CancelSmResp]):
    """cancel_sm (§4.9.1)."""

    command_id: ClassVar[CommandId] = CommandId.CANCEL_SM
    response_class: ClassVar[type[PduBase]] = CancelSmResp
    service_type: str = ""
    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    tlvs: tuple[Tlv, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplaceSmResp(PduBase):
    """replace_sm_resp (§4.10.2): header only."""

    command_id: ClassVar[CommandId] = CommandId.REPLACE_SM_RESP


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplaceSm(PduBase, Request[ReplaceSmResp]):
    """replace_sm (§4.10.1)."""

    command_id: ClassVar[CommandId] = CommandId.REPLACE_SM
    response_class: ClassVar[type[PduBase]] = ReplaceSmResp
    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""
    tlvs: tuple[Tlv, ...] = ()


# --- enquire_link / alert_notification (§4.11, §4.12) -------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class EnquireLinkResp(PduBase):
    """enquire_link_resp (§4.11.2)."""

    command_id: ClassVar[CommandId] = CommandId.ENQUIRE_LINK_RESP


@dataclass(frozen=True, slots=True, kw_only=True)
class EnquireLink(PduBase, Request[EnquireLinkResp]):
    """enquire_link (§4.11.1)."""

    command_id: ClassVar[CommandId] = CommandId.ENQUIRE_LINK
    response_class: ClassVar[type[PduBase]] = EnquireLinkResp


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertNotification(PduBase):
    """alert_notification (§4.12): the SMSC tells the ESME an MS became available; no response."""

    command_id: ClassVar[CommandId] = CommandId.ALERT_NOTIFICATION
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    esme_addr_ton: int = 0
    esme_addr_npi: int = 0
    esme_addr: str = ""
    tlvs: tuple[Tlv, ...] = ()


Pdu = (
    BindTransmitter
    | BindTransmitterResp
    | BindReceiver
    | BindReceiverResp
    | BindTransceiver
    | BindTransceiverResp
    | Outbind
    | Unbind
    | UnbindResp
    | GenericNack
    | SubmitSm
    | SubmitSmResp
    | SubmitMulti
    | SubmitMultiResp
    | DeliverSm
    | DeliverSmResp
    | DataSm
    | DataSmResp
    | QuerySm
    | QuerySmResp
    | CancelSm
    | CancelSmResp
    | ReplaceSm
    | ReplaceSmResp
    | EnquireLink
    | EnquireLinkResp
    | AlertNotification
)
"""Any SMPP 3.4 PDU."""

PDU_CLASSES: dict[int, type[Pdu]] = {
    cls.command_id: cls
    for cls in (
        BindTransmitter, BindTransmitterResp, BindReceiver, BindReceiverResp,
        BindTransceiver, BindTransceiverResp, Outbind, Unbind, UnbindResp, GenericNack,
        SubmitSm, SubmitSmResp, SubmitMulti, SubmitMultiResp, DeliverSm, DeliverSmResp,
        DataSm, DataSmResp, QuerySm, QuerySmResp, CancelSm, CancelSmResp, ReplaceSm,
        ReplaceSmResp, EnquireLink, EnquireLinkResp, AlertNotification,
    )
}  # fmt: skip
"""command_id → PDU class, for every SMPP 3.4 command."""


def response_for(pdu: PduBase, status: int = 0, **fields: Any) -> Pdu:
    """The response to request `pdu` (its *_resp, same sequence_number), or a generic_nack
    for a request that has no response of its own (outbind, alert_notification)."""
    cls = getattr(pdu, "response_class", GenericNack)
    return cast(Pdu, cls(sequence_number=pdu.sequence_number, command_status=status, **fields))
