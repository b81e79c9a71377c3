"""The mandatory-parameter layout of every PDU body, in wire order (SMPP 3.4 §4).

Each entry is `(field name, kind, limit, status)`:

* `CSTR`: C-octet string; `limit` is the maximum size INCLUDING the NUL, as in the spec's
  tables ("Var. max 21"); too long → `status`.
* `U8`: one-octet integer; `limit`/`status` unused.
* `SM`: sm_length (1 octet) followed by short_message, at most 254 octets (§4.4.1).
* `DESTS`: submit_multi's number_of_dests and dest_address list (§4.5.1.1).
* `UNSUCCESS`: submit_multi_resp's no_unsuccess and unsuccess_sme list (§4.5.2.1).

Anything after the mandatory parameters is the TLV stream when the PDU class has `tlvs`.
PDUs not listed (enquire_link, unbind, generic_nack, *_resp without body) are header only.
"""

from __future__ import annotations

import struct
from typing import Final

from smsgate.smpp.constants import CommandStatus as S
from smsgate.smpp.pdu import (
    AlertNotification,
    BindReceiver,
    BindReceiverResp,
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitter,
    BindTransmitterResp,
    CancelSm,
    DataSm,
    DataSmResp,
    DeliverSm,
    DeliverSmResp,
    Outbind,
    Pdu,
    QuerySm,
    QuerySmResp,
    ReplaceSm,
    SubmitMulti,
    SubmitMultiResp,
    SubmitSm,
    SubmitSmResp,
)

HEADER = struct.Struct(">IIII")  # command_length, command_id, command_status, sequence_number
HEADER_SIZE = 16  # §3.2

CSTR: Final = 0
U8: Final = 1
SM: Final = 2
DESTS: Final = 3
UNSUCCESS: Final = 4

MAX_SHORT_MESSAGE = 254  # sm_length, §4.4.1
MAX_DESTS = 254  # number_of_dests, §4.5.1
ADDR_21 = 21  # source_addr / destination_addr of submit_sm and friends
ADDR_65 = 65  # data_sm and alert_notification addresses
MESSAGE_ID = 65
TIME = 17  # schedule_delivery_time, validity_period, final_date: empty or 16 chars

Field = tuple[str, int, int, int]
_CMDLEN = S.ESME_RINVCMDLEN

_BIND: tuple[Field, ...] = (  # §4.1.1
    ("system_id", CSTR, 16, S.ESME_RINVSYSID),
    ("password", CSTR, 9, S.ESME_RINVPASWD),
    ("system_type", CSTR, 13, S.ESME_RINVSYSTYP),
    ("interface_version", U8, 0, 0),
    ("addr_ton", U8, 0, 0),
    ("addr_npi", U8, 0, 0),
    ("address_range", CSTR, 41, _CMDLEN),
)
_BIND_RESP: tuple[Field, ...] = (("system_id", CSTR, 16, S.ESME_RINVSYSID),)  # §4.1.2
_MESSAGE_ID: tuple[Field, ...] = (("message_id", CSTR, MESSAGE_ID, S.ESME_RINVMSGID),)


def _source(limit: int) -> tuple[Field, ...]:
    return (
        ("source_addr_ton", U8, 0, 0),
        ("source_addr_npi", U8, 0, 0),
        ("source_addr", CSTR, limit, S.ESME_RINVSRCADR),
    )


def _dest(limit: int) -> tuple[Field, ...]:
    return (
        ("dest_addr_ton", U8, 0, 0),
        ("dest_addr_npi", U8, 0, 0),
        ("destination_addr", CSTR, limit, S.ESME_RINVDSTADR),
    )


_SERVICE_TYPE: Field = ("service_type", CSTR, 6, S.ESME_RINVSERTYP)
_SCHEDULE: tuple[Field, ...] = (
    ("schedule_delivery_time", CSTR, TIME, S.ESME_RINVSCHED),
    ("validity_period", CSTR, TIME, S.ESME_RINVEXPIRY),
)
_SM_TAIL: tuple[Field, ...] = (  # from esm_class to short_message, §4.4.1 and §4.5.1
    ("esm_class", U8, 0, 0),
    ("protocol_id", U8, 0, 0),
    ("priority_flag", U8, 0, 0),
    *_SCHEDULE,
    ("registered_delivery", U8, 0, 0),
    ("replace_if_present_flag", U8, 0, 0),
    ("data_coding", U8, 0, 0),
    ("sm_default_msg_id", U8, 0, 0),
    ("short_message", SM, MAX_SHORT_MESSAGE, S.ESME_RINVMSGLEN),
)
_SHORT_MESSAGE: tuple[Field, ...] = (_SERVICE_TYPE, *_source(ADDR_21), *_dest(ADDR_21), *_SM_TAIL)

LAYOUTS: dict[type[Pdu], tuple[Field, ...]] = {
    BindTransmitter: _BIND,
    BindReceiver: _BIND,
    BindTransceiver: _BIND,
    BindTransmitterResp: _BIND_RESP,
    BindReceiverResp: _BIND_RESP,
    BindTransceiverResp: _BIND_RESP,
    Outbind: _BIND[:2],  # §4.1.7
    SubmitSm: _SHORT_MESSAGE,  # §4.4.1
    DeliverSm: _SHORT_MESSAGE,  # §4.6.1 (same layout, some fields unused)
    SubmitSmResp: _MESSAGE_ID,  # §4.4.2
    DeliverSmResp: _MESSAGE_ID,  # §4.6.2
    DataSmResp: _MESSAGE_ID,  # §4.7.2
    SubmitMulti: (  # §4.5.1
        _SERVICE_TYPE,
        *_source(ADDR_21),
        ("dest_addresses", DESTS, MAX_DESTS, S.ESME_RINVNUMDESTS),
        *_SM_TAIL,
    ),
    SubmitMultiResp: (*_MESSAGE_ID, ("unsuccess_smes", UNSUCCESS, 255, _CMDLEN)),  # §4.5.2
    DataSm: (  # §4.7.1
        _SERVICE_TYPE,
        *_source(ADDR_65),
        *_dest(ADDR_65),
        ("esm_class", U8, 0, 0),
        ("registered_delivery", U8, 0, 0),
        ("data_coding", U8, 0, 0),
    ),
    QuerySm: (*_MESSAGE_ID, *_source(ADDR_21)),  # §4.8.1
    QuerySmResp: (  # §4.8.2
        *_MESSAGE_ID,
        ("final_date", CSTR, TIME, _CMDLEN),
        ("message_state", U8, 0, 0),
        ("error_code", U8, 0, 0),
    ),
    CancelSm: (_SERVICE_TYPE, *_MESSAGE_ID, *_source(ADDR_21), *_dest(ADDR_21)),  # §4.9.1
    ReplaceSm: (  # §4.10.1
        *_MESSAGE_ID,
        *_source(ADDR_21),
        *_SCHEDULE,
        ("registered_delivery", U8, 0, 0),
        ("sm_default_msg_id", U8, 0, 0),
        ("short_message", SM, MAX_SHORT_MESSAGE, S.ESME_RINVMSGLEN),
    ),
    AlertNotification: (  # §4.12.1
        *_source(ADDR_65),
        ("esme_addr_ton", U8, 0, 0),
        ("esme_addr_npi", U8, 0, 0),
        ("esme_addr", CSTR, ADDR_65, S.ESME_RINVDSTADR),
    ),
}

# Inside a submit_multi dest_address / unsuccess_sme entry (§4.5.1.1, §4.5.2.1).
DEST_FLAG_SME = 1
DEST_FLAG_DL = 2
DL_NAME = 21
