"""smsgate.codec: pure text and TPDU coding for SMS."""
from smsgate.codec.encoding import Encoding, choose_encoding, decode_payload
from smsgate.codec.errors import *  # noqa
from smsgate.codec.gsm7 import *  # noqa
from smsgate.codec.segment import *  # noqa
from smsgate.codec.ucs2 import *  # noqa
from smsgate.codec.udh import *  # noqa
from smsgate.codec.reassembly import *  # noqa
from smsgate.codec.transliterate import transliterate
