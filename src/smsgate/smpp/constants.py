"""SMPP 3.4 numeric constants: command ids, statuses, address and message flags, TLV tags.

Values and names follow the SMPP v3.4 specification (issue 1.2): §5.1.2 (command_id),
§5.1.3 (command_status), §5.2 (mandatory parameter values) and §5.3.2 (TLV tags).
"""

from __future__ import annotations

from enum import IntEnum, IntFlag

RESPONSE_BIT = 0x80000000
"""Set in the command_id of every response PDU (SMPP 3.4 §5.1.2.1)."""


class CommandId(IntEnum):
    """SMPP 3.4 command_id values (§5.1.2.1)."""

    GENERIC_NACK = 0x80000000
    BIND_RECEIVER = 0x00000001
    BIND_RECEIVER_RESP = 0x80000001
    BIND_TRANSMITTER = 0x00000002
    BIND_TRANSMITTER_RESP = 0x80000002
    QUERY_SM = 0x00000003
    QUERY_SM_RESP = 0x80000003
    SUBMIT_SM = 0x00000004
    SUBMIT_SM_RESP = 0x80000004
    DELIVER_SM = 0x00000005
    DELIVER_SM_RESP = 0x80000005
    UNBIND = 0x00000006
    UNBIND_RESP = 0x80000006
    REPLACE_SM = 0x00000007
    REPLACE_SM_RESP = 0x80000007
    CANCEL_SM = 0x00000008
    CANCEL_SM_RESP = 0x80000008
    BIND_TRANSCEIVER = 0x00000009
    BIND_TRANSCEIVER_RESP = 0x80000009
    OUTBIND = 0x0000000B
    ENQUIRE_LINK = 0x00000015
    ENQUIRE_LINK_RESP = 0x80000015
    SUBMIT_MULTI = 0x00000021
    SUBMIT_MULTI_RESP = 0x80000021
    ALERT_NOTIFICATION = 0x00000102
    DATA_SM = 0x00000103
    DATA_SM_RESP = 0x80000103

    @property
    def is_response(self) -> bool:
        """True for *_resp and generic_nack (the response bit is set)."""
        return bool(self.value & RESPONSE_BIT)


# (name, value, meaning) as listed in SMPP 3.4 §5.1.3, Table 5-2.
_STATUSES: tuple[tuple[str, int, str], ...] = (
    ("ESME_ROK", 0x00, "No error"),
    ("ESME_RINVMSGLEN", 0x01, "Message length is invalid"),
    ("ESME_RINVCMDLEN", 0x02, "Command length is invalid"),
    ("ESME_RINVCMDID", 0x03, "Invalid command ID"),
    ("ESME_RINVBNDSTS", 0x04, "Incorrect bind status for given command"),
    ("ESME_RALYBND", 0x05, "ESME already in bound state"),
    ("ESME_RINVPRTFLG", 0x06, "Invalid priority flag"),
    ("ESME_RINVREGDLVFLG", 0x07, "Invalid registered delivery flag"),
    ("ESME_RSYSERR", 0x08, "System error"),
    ("ESME_RINVSRCADR", 0x0A, "Invalid source address"),
    ("ESME_RINVDSTADR", 0x0B, "Invalid destination address"),
    ("ESME_RINVMSGID", 0x0C, "Message ID is invalid"),
    ("ESME_RBINDFAIL", 0x0D, "Bind failed"),
    ("ESME_RINVPASWD", 0x0E, "Invalid password"),
    ("ESME_RINVSYSID", 0x0F, "Invalid system ID"),
    ("ESME_RCANCELFAIL", 0x11, "cancel_sm failed"),
    ("ESME_RREPLACEFAIL", 0x13, "replace_sm failed"),
    ("ESME_RMSGQFUL", 0x14, "Message queue full"),
    ("ESME_RINVSERTYP", 0x15, "Invalid service type"),
    ("ESME_RINVNUMDESTS", 0x33, "Invalid number of destinations"),
    ("ESME_RINVDLNAME", 0x34, "Invalid distribution list name"),
    ("ESME_RINVDESTFLAG", 0x40, "Destination flag is invalid (submit_multi)"),
    ("ESME_RINVSUBREP", 0x42, "Invalid 'submit with replace' request"),
    ("ESME_RINVESMCLASS", 0x43, "Invalid esm_class field data"),
    ("ESME_RCNTSUBDL", 0x44, "Cannot submit to distribution list"),
    ("ESME_RSUBMITFAIL", 0x45, "submit_sm or submit_multi failed"),
    ("ESME_RINVSRCTON", 0x48, "Invalid source address TON"),
    ("ESME_RINVSRCNPI", 0x49, "Invalid source address NPI"),
    ("ESME_RINVDSTTON", 0x50, "Invalid destination address TON"),
    ("ESME_RINVDSTNPI", 0x51, "Invalid destination address NPI"),
    ("ESME_RINVSYSTYP", 0x53, "Invalid system_type field"),
    ("ESME_RINVREPFLAG", 0x54, "Invalid replace_if_present flag"),
    ("ESME_RINVNUMMSGS", 0x55, "Invalid number of messages"),
    ("ESME_RTHROTTLED", 0x58, "Throttling error (ESME has exceeded allowed message limits)"),
    ("ESME_RINVSCHED", 0x61, "Invalid scheduled delivery time"),
    ("ESME_RINVEXPIRY", 0x62, "Invalid message validity period (expiry time)"),
    ("ESME_RINVDFTMSGID", 0x63, "Predefined message invalid or not found"),
    ("ESME_RX_T_APPN", 0x64, "ESME receiver temporary application error"),
    ("ESME_RX_P_APPN", 0x65, "ESME receiver permanent application error"),
    ("ESME_RX_R_APPN", 0x66, "ESME receiver reject message error"),
    ("ESME_RQUERYFAIL", 0x67, "query_sm request failed"),
    ("ESME_RINVOPTPARSTREAM", 0xC0, "Error in the optional part of the PDU body"),
    ("ESME_ROPTPARNOTALLWD", 0xC1, "Optional parameter not allowed"),
    ("ESME_RINVPARLEN", 0xC2, "Invalid parameter length"),
    ("ESME_RMISSINGOPTPARAM", 0xC3, "Expected optional parameter missing"),
    ("ESME_RINVOPTPARAMVAL", 0xC4, "Invalid optional parameter value"),
    ("ESME_RDELIVERYFAILURE", 0xFE, "Delivery failure (data_sm_resp)"),
    ("ESME_RUNKNOWNERR", 0xFF, "Unknown error"),
)
_MEANINGS = {value: meaning for _, value, meaning in _STATUSES}
# SMPP 3.4 §5.1.3: 0x400-0x4FF are reserved for SMSC vendor specific errors.
VENDOR_STATUS_RANGE = range(0x400, 0x500)


class CommandStatus(IntEnum):
    """SMPP 3.4 command_status values (§5.1.3).

    PDUs store command_status as a plain int so a vendor status decodes; use
    `CommandStatus.describe(status)` to render any value.
    """

    ESME_ROK = 0x00
    ESME_RINVMSGLEN = 0x01
    ESME_RINVCMDLEN = 0x02
    ESME_RINVCMDID = 0x03
    ESME_RINVBNDSTS = 0x04
    ESME_RALYBND = 0x05
    ESME_RINVPRTFLG = 0x06
    ESME_RINVREGDLVFLG = 0x07
    ESME_RSYSERR = 0x08
    ESME_RINVSRCADR = 0x0A
    ESME_RINVDSTADR = 0x0B
    ESME_RINVMSGID = 0x0C
    ESME_RBINDFAIL = 0x0D
    ESME_RINVPASWD = 0x0E
    ESME_RINVSYSID = 0x0F
    ESME_RCANCELFAIL = 0x11
    ESME_RREPLACEFAIL = 0x13
    ESME_RMSGQFUL = 0x14
    ESME_RINVSERTYP = 0x15
    ESME_RINVNUMDESTS = 0x33
    ESME_RINVDLNAME = 0x34
    ESME_RINVDESTFLAG = 0x40
    ESME_RINVSUBREP = 0x42
    ESME_RINVESMCLASS = 0x43
    ESME_RCNTSUBDL = 0x44
    ESME_RSUBMITFAIL = 0x45
    ESME_RINVSRCTON = 0x48
    ESME_RINVSRCNPI = 0x49
    ESME_RINVDSTTON = 0x50
    ESME_RINVDSTNPI = 0x51
    ESME_RINVSYSTYP = 0x53
    ESME_RINVREPFLAG = 0x54
    ESME_RINVNUMMSGS = 0x55
    ESME_RTHROTTLED = 0x58
    ESME_RINVSCHED = 0x61
    ESME_RINVEXPIRY = 0x62
    ESME_RINVDFTMSGID = 0x63
    ESME_RX_T_APPN = 0x64
    ESME_RX_P_APPN = 0x65
    ESME_RX_R_APPN = 0x66
    ESME_RQUERYFAIL = 0x67
    ESME_RINVOPTPARSTREAM = 0xC0
    ESME_ROPTPARNOTALLWD = 0xC1
    ESME_RINVPARLEN = 0xC2
    ESME_RMISSINGOPTPARAM = 0xC3
    ESME_RINVOPTPARAMVAL = 0xC4
    ESME_RDELIVERYFAILURE = 0xFE
    ESME_RUNKNOWNERR = 0xFF

    @property
    def description(self) -> str:
        """The meaning given in SMPP 3.4 Table 5-2."""
        return _MEANINGS[self.value]

    @staticmethod
    def describe(status: int) -> str:
        """Render any status, standard, vendor-specific or unknown, for logs and errors."""
        try:
            known = CommandStatus(status)
        except ValueError:
            kind = "vendor-specific error" if status in VENDOR_STATUS_RANGE else "unknown status"
            return f"0x{status:08X}: {kind}"
        return f"{known.name} (0x{status:08X}): {known.description}"


class Ton(IntEnum):
    """Type of number (SMPP 3.4 §5.2.5)."""

    UNKNOWN = 0
    INTERNATIONAL = 1
    NATIONAL = 2
    NETWORK_SPECIFIC = 3
    SUBSCRIBER_NUMBER = 4
    ALPHANUMERIC = 5
    ABBREVIATED = 6


class Npi(IntEnum):
    """Numbering plan indicator (SMPP 3.4 §5.2.6)."""

    UNKNOWN = 0
    ISDN = 1  # E.163 / E.164
    DATA = 3  # X.121
    TELEX = 4  # F.69
    LAND_MOBILE = 6  # E.212
    NATIONAL = 8
    PRIVATE = 9
    ERMES = 10
    INTERNET = 14  # IP
    WAP = 18  # WAP client id


class DataCoding(IntEnum):
    """data_coding values defined by SMPP 3.4 §5.2.19."""

    DEFAULT = 0  # SMSC default alphabet (GSM 03.38 for most SMSCs)
    IA5 = 1  # IA5 (CCITT T.50) / ASCII
    BINARY_8BIT = 2  # octet unspecified (8-bit binary)
    LATIN1 = 3  # ISO-8859-1
    BINARY = 4  # octet unspecified (8-bit binary)
    JIS = 5  # X 0208-1990
    CYRILLIC = 6  # ISO-8859-5
    LATIN_HEBREW = 7  # ISO-8859-8
    UCS2 = 8  # ISO/IEC-10646
    PICTOGRAM = 9
    ISO_2022_JP = 10  # music codes
    EXTENDED_KANJI = 13  # JIS X 0212-1990
    KS_C_5601 = 14


class EsmClass(IntFlag):
    """esm_class bits (SMPP 3.4 §5.2.12): messaging mode, message type and GSM features."""

    # bits 1-0: messaging mode (submit_sm, submit_multi, data_sm)
    DEFAULT_MODE = 0x00
    DATAGRAM_MODE = 0x01
    FORWARD_MODE = 0x02
    STORE_AND_FORWARD_MODE = 0x03
    MODE_MASK = 0x03
    # bits 5-2: message type
    DELIVERY_RECEIPT = 0x04  # SMSC delivery receipt (deliver_sm)
    DELIVERY_ACK = 0x08  # SME delivery acknowledgement
    MANUAL_USER_ACK = 0x10  # SME manual/user acknowledgement
    CONVERSATION_ABORT = 0x18  # Korean CDMA
    INTERMEDIATE_DELIVERY_NOTIFICATION = 0x20
    TYPE_MASK = 0x3C
    # bits 7-6: GSM network specific features
    UDHI = 0x40  # short_message starts with a user data header
    REPLY_PATH = 0x80


class RegisteredDelivery(IntFlag):
    """registered_delivery bits (SMPP 3.4 §5.2.17)."""

    NO_RECEIPT = 0x00
    RECEIPT_ALWAYS = 0x01  # on success or failure
    RECEIPT_ON_FAILURE = 0x02
    RECEIPT_MASK = 0x03
    SME_ACK_DELIVERY = 0x04
    SME_ACK_MANUAL = 0x08
    SME_ACK_BOTH = 0x0C
    INTERMEDIATE_NOTIFICATION = 0x10


class MessageState(IntEnum):
    """message_state values (SMPP 3.4 §5.2.28)."""

    ENROUTE = 1
    DELIVERED = 2
    EXPIRED = 3
    DELETED = 4
    UNDELIVERABLE = 5
    ACCEPTED = 6
    UNKNOWN = 7
    REJECTED = 8


class TlvTag(IntEnum):
    """Standard optional parameter tags (SMPP 3.4 §5.3.2, Table 5-12)."""

    DEST_ADDR_SUBUNIT = 0x0005
    DEST_NETWORK_TYPE = 0x0006
    DEST_BEARER_TYPE = 0x0007
    DEST_TELEMATICS_ID = 0x0008
    SOURCE_ADDR_SUBUNIT = 0x000D
    SOURCE_NETWORK_TYPE = 0x000E
    SOURCE_BEARER_TYPE = 0x000F
    SOURCE_TELEMATICS_ID = 0x0010
    QOS_TIME_TO_LIVE = 0x0017
    PAYLOAD_TYPE = 0x0019
    ADDITIONAL_STATUS_INFO_TEXT = 0x001D
    RECEIPTED_MESSAGE_ID = 0x001E
    MS_MSG_WAIT_FACILITIES = 0x0030
    PRIVACY_INDICATOR = 0x0201
    SOURCE_SUBADDRESS = 0x0202
    DEST_SUBADDRESS = 0x0203
    USER_MESSAGE_REFERENCE = 0x0204
    USER_RESPONSE_CODE = 0x0205
    SOURCE_PORT = 0x020A
    DESTINATION_PORT = 0x020B
    SAR_MSG_REF_NUM = 0x020C
    LANGUAGE_INDICATOR = 0x020D
    SAR_TOTAL_SEGMENTS = 0x020E
    SAR_SEGMENT_SEQNUM = 0x020F
    SC_INTERFACE_VERSION = 0x0210
    CALLBACK_NUM_PRES_IND = 0x0302
    CALLBACK_NUM_ATAG = 0x0303
    NUMBER_OF_MESSAGES = 0x0304
    CALLBACK_NUM = 0x0381
    DPF_RESULT = 0x0420
    SET_DPF = 0x0421
    MS_AVAILABILITY_STATUS = 0x0422
    NETWORK_ERROR_CODE = 0x0423
    MESSAGE_PAYLOAD = 0x0424
    DELIVERY_FAILURE_REASON = 0x0425
    MORE_MESSAGES_TO_SEND = 0x0426
    MESSAGE_STATE = 0x0427
    USSD_SERVICE_OP = 0x0501
    DISPLAY_TIME = 0x1201
    SMS_SIGNAL = 0x1203
    MS_VALIDITY = 0x1204
    ALERT_ON_MESSAGE_DELIVERY = 0x130C
    ITS_REPLY_TYPE = 0x1380
    ITS_SESSION_INFO = 0x1383


INTERFACE_VERSION = 0x34
"""interface_version for SMPP 3.4 binds (§5.2.4)."""
