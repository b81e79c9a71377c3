"""The exception tree of the codec layer.

Everything the codec raises on bad input derives from :class:`CodecError`, so callers
(the REST API, the SMPP server, the modem connector) catch one class and translate it at
their boundary. The codec never lets ``IndexError``, ``struct.error`` or
``UnicodeDecodeError`` escape.

::

    CodecError
    ├── EncodingError   text not representable in the requested encoding (.chars)
    ├── TooManyParts    the message needs more parts than allowed (.parts, .max_parts)
    ├── UdhError        malformed User Data Header
    ├── TpduError       malformed or unsupported 3GPP TS 23.040 TPDU
    └── DecodeError     bytes that are not valid in the announced encoding
"""

from __future__ import annotations

__all__ = [
    "CodecError",
    "DecodeError",
    "EncodingError",
    "TooManyParts",
    "TpduError",
    "UdhError",
]


class CodecError(Exception):
    """Base class of every error raised by :mod:`smsgate.codec`."""


class EncodingError(CodecError):
    """The text holds characters the requested encoding cannot represent.

    ``chars`` lists the distinct offending characters in order of appearance.
    """

    def __init__(self, message: str, chars: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.chars = chars


class TooManyParts(CodecError):
    """The message needs ``parts`` segments but at most ``max_parts`` are allowed.

    Raised instead of truncating: a long message is never silently cut (DESIGN.md §5).
    """

    def __init__(self, parts: int, max_parts: int) -> None:
        super().__init__(f"message needs {parts} parts, at most {max_parts} allowed")
        self.parts = parts
        self.max_parts = max_parts


class UdhError(CodecError):
    """A User Data Header is malformed (3GPP TS 23.040 §9.2.3.24)."""


class TpduError(CodecError):
    """A TPDU is truncated, malformed or of an unsupported type (3GPP TS 23.040 §9.2)."""


class DecodeError(CodecError):
    """Bytes are not valid in the encoding they claim to be in."""
