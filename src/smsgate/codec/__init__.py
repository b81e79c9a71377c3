"""smsgate.codec: pure SMS text and TPDU coding (no I/O, no clock).

GSM 03.38 and UCS-2 text coding, the choice between them, splitting into parts with UDH or
SAR concatenation, reassembly, and 3GPP TS 23.040 TPDUs for modems.
"""

from smsgate.codec.dcs import Alphabet, DataCoding, make_dcs, parse_dcs
from smsgate.codec.encoding import Encoding, choose_encoding, decode_payload, select_encoding
from smsgate.codec.errors import (
    CodecError,
    DecodeError,
    EncodingError,
    TooManyParts,
    TpduError,
    UdhError,
)
from smsgate.codec.gsm7 import (
    GSM7_CHARS,
    decode_gsm7,
    encode_gsm7,
    gsm7_units,
    non_gsm7_chars,
    pack_septets,
    unpack_septets,
)
from smsgate.codec.reassembly import Incomplete, Reassembler
from smsgate.codec.segment import (
    Concat,
    Part,
    Preview,
    SplitMessage,
    check_part_count,
    count_parts,
    per_part,
    preview,
    reassemble,
    split,
)
from smsgate.codec.tpdu import (
    SmsDeliver,
    SmsStatusReport,
    SmsSubmit,
    StatusCategory,
    Tpdu,
    decode_tpdu,
    decode_with_smsc,
    encode_with_smsc,
)
from smsgate.codec.tpdu_fields import (
    Address,
    Ton,
    vp_relative_from_seconds,
    vp_relative_seconds,
)
from smsgate.codec.transliterate import transliterate
from smsgate.codec.ucs2 import decode_ucs2, encode_ucs2, ucs2_units
from smsgate.codec.udh import ConcatInfo, Udh, build_concat_udh, split_udh

__all__ = [
    "GSM7_CHARS",
    "Address",
    "Alphabet",
    "CodecError",
    "Concat",
    "ConcatInfo",
    "DataCoding",
    "DecodeError",
    "Encoding",
    "EncodingError",
    "Incomplete",
    "Part",
    "Preview",
    "Reassembler",
    "SmsDeliver",
    "SmsStatusReport",
    "SmsSubmit",
    "SplitMessage",
    "StatusCategory",
    "Ton",
    "TooManyParts",
    "Tpdu",
    "TpduError",
    "Udh",
    "UdhError",
    "build_concat_udh",
    "check_part_count",
    "choose_encoding",
    "count_parts",
    "decode_gsm7",
    "decode_payload",
    "decode_tpdu",
    "decode_ucs2",
    "decode_with_smsc",
    "encode_gsm7",
    "encode_ucs2",
    "encode_with_smsc",
    "gsm7_units",
    "make_dcs",
    "non_gsm7_chars",
    "pack_septets",
    "parse_dcs",
    "per_part",
    "preview",
    "reassemble",
    "select_encoding",
    "split",
    "split_udh",
    "transliterate",
    "ucs2_units",
    "unpack_septets",
    "vp_relative_from_seconds",
    "vp_relative_seconds",
]
