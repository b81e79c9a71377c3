"""GSM 7-bit default alphabet: golden vectors from 3GPP TS 23.038 §6.2.1, packing, oracle."""

from __future__ import annotations

import codecs

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec used as an oracle)
import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgate.codec import (
    GSM7_CHARS,
    DecodeError,
    EncodingError,
    decode_gsm7,
    encode_gsm7,
    gsm7_units,
    non_gsm7_chars,
    pack_septets,
    unpack_septets,
)

# TS 23.038 §6.2.1, written out column by column from the specification's table.
SPEC_BASIC = {
    0x00: "@", 0x01: "£", 0x02: "$", 0x03: "¥", 0x04: "è", 0x05: "é", 0x06: "ù", 0x07: "ì",
    0x08: "ò", 0x09: "Ç", 0x0A: "\n", 0x0B: "Ø", 0x0C: "ø", 0x0D: "\r", 0x0E: "Å", 0x0F: "å",
    0x10: "Δ", 0x11: "_", 0x12: "Φ", 0x13: "Γ", 0x14: "Λ", 0x15: "Ω", 0x16: "Π", 0x17: "Ψ",
    0x18: "Σ", 0x19: "Θ", 0x1A: "Ξ", 0x1C: "Æ", 0x1D: "æ", 0x1E: "ß", 0x1F: "É",
    0x20: " ", 0x21: "!", 0x22: '"', 0x23: "#", 0x24: "¤", 0x25: "%", 0x26: "&", 0x27: "'",
    0x28: "(", 0x29: ")", 0x2A: "*", 0x2B: "+", 0x2C: ",", 0x2D: "-", 0x2E: ".", 0x2F: "/",
    0x30: "0", 0x31: "1", 0x32: "2", 0x33: "3", 0x34: "4", 0x35: "5", 0x36: "6", 0x37: "7",
    0x38: "8", 0x39: "9", 0x3A: ":", 0x3B: ";", 0x3C: "<", 0x3D: "=", 0x3E: ">", 0x3F: "?",
    0x40: "¡", 0x41: "A", 0x42: "B", 0x43: "C", 0x44: "D", 0x45: "E", 0x46: "F", 0x47: "G",
    0x48: "H", 0x49: "I", 0x4A: "J", 0x4B: "K", 0x4C: "L", 0x4D: "M", 0x4E: "N", 0x4F: "O",
    0x50: "P", 0x51: "Q", 0x52: "R", 0x53: "S", 0x54: "T", 0x55: "U", 0x56: "V", 0x57: "W",
    0x58: "X", 0x59: "Y", 0x5A: "Z", 0x5B: "Ä", 0x5C: "Ö", 0x5D: "Ñ", 0x5E: "Ü", 0x5F: "§",
    0x60: "¿", 0x61: "a", 0x62: "b", 0x63: "c", 0x64: "d", 0x65: "e", 0x66: "f", 0x67: "g",
    0x68: "h", 0x69: "i", 0x6A: "j", 0x6B: "k", 0x6C: "l", 0x6D: "m", 0x6E: "n", 0x6F: "o",
    0x70: "p", 0x71: "q", 0x72: "r", 0x73: "s", 0x74: "t", 0x75: "u", 0x76: "v", 0x77: "w",
    0x78: "x", 0x79: "y", 0x7A: "z", 0x7B: "ä", 0x7C: "ö", 0x7D: "ñ", 0x7E: "ü", 0x7F: "à",
}  # fmt: skip
# TS 23.038 §6.2.1.1, the default extension table (sent as ESC 0x1B + code).
SPEC_EXTENSION = {
    "\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F,
    "[": 0x3C, "~": 0x3D, "]": 0x3E, "|": 0x40, "€": 0x65,
}  # fmt: skip


def test_spec_tables_are_complete() -> None:
    assert len(SPEC_BASIC) == 127  # every code but the escape
    assert len(SPEC_EXTENSION) == 10
    assert set(SPEC_BASIC.values()) | set(SPEC_EXTENSION) == GSM7_CHARS


@pytest.mark.parametrize(("code", "char"), sorted(SPEC_BASIC.items()))
def test_basic_table_position(code: int, char: str) -> None:
    assert encode_gsm7(char) == bytes((code,))
    assert decode_gsm7(bytes((code,))) == char
    assert gsm7_units(char) == 1


@pytest.mark.parametrize(("char", "code"), sorted(SPEC_EXTENSION.items()))
def test_extension_table(char: str, code: int) -> None:
    assert encode_gsm7(char) == bytes((0x1B, code))
    assert decode_gsm7(bytes((0x1B, code))) == char
    assert gsm7_units(char) == 2


def test_extension_chars_count_two_septets() -> None:
    assert encode_gsm7("€[{") == b"\x1be\x1b<\x1b("
    assert gsm7_units("€[{") == 6


@pytest.mark.parametrize(
    "text", ["ç", "`", "\x1b", "\t", "\x00", "\x7f", "я", "😀", "\udfff", "ab\u00a0c", "É ê"]
)
def test_non_gsm_characters_raise(text: str) -> None:
    with pytest.raises(EncodingError) as info:
        encode_gsm7(text)
    assert info.value.chars
    assert gsm7_units(text) is None


def test_encoding_error_lists_distinct_offenders_in_order() -> None:
    with pytest.raises(EncodingError) as info:
        encode_gsm7("çaüçя`")
    assert info.value.chars == ("ç", "я", "`")
    assert non_gsm7_chars("çaüçя`") == ("ç", "я", "`")


def test_capital_c_cedilla_is_gsm_but_small_is_not() -> None:
    assert encode_gsm7("Ç") == b"\x09"
    assert gsm7_units("ç") is None


def test_decode_rejects_octets_above_7f() -> None:
    with pytest.raises(DecodeError):
        decode_gsm7(b"abc\x80")
    with pytest.raises(DecodeError):
        decode_gsm7(b"\x1b\xe5")


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"\x1bA", "A"),  # undefined extension code: the basic-table character (§6.2.1.1 note)
        (b"x\x1b\x00y", "x@y"),
        (b"\x1b\x1b", " "),  # ESC ESC is reserved for another table: shown as a space
        (b"ab\x1b", "ab "),  # a lone trailing ESC
        (b"\x1be\x1b", "€ "),
        (b"", ""),
    ],
)
def test_decode_is_tolerant_of_unknown_escapes(data: bytes, text: str) -> None:
    assert decode_gsm7(data) == text


@pytest.mark.parametrize(
    ("text", "packed"),
    [
        ("hellohello", "E8329BFD4697D9EC37"),
        ("How are you?", "C8F71D14969741F977FD07"),
        ("", ""),
        ("A", "41"),
        ("1234567", "31D98C56B3DD00"),  # 7 septets leave one empty bit at the end
        ("12345678", "31D98C56B3DD70"),  # 8 septets fill 7 octets exactly
    ],
)
def test_pack_vectors(text: str, packed: str) -> None:
    septets = encode_gsm7(text)
    assert pack_septets(septets).hex().upper() == packed
    assert unpack_septets(bytes.fromhex(packed), len(septets)) == septets


def test_pack_with_fill_bits_after_a_udh() -> None:
    # After a 6-octet UDH one fill bit aligns the first septet (TS 23.040 §9.2.3.24).
    assert pack_septets(b"\x41", 1) == b"\x82"
    assert pack_septets(b"\x7f\x7f", 6) == bytes.fromhex("C0FF0F")
    assert unpack_septets(bytes.fromhex("C0FF0F"), 2, 6) == b"\x7f\x7f"


def test_pack_rejects_bad_input() -> None:
    with pytest.raises(EncodingError):
        pack_septets(b"\x80")
    with pytest.raises(ValueError, match="fill_bits"):
        pack_septets(b"a", 7)
    with pytest.raises(ValueError, match="fill_bits"):
        unpack_septets(b"a", 1, -1)
    with pytest.raises(DecodeError):
        unpack_septets(b"\x00", 2)
    with pytest.raises(DecodeError):
        unpack_septets(b"\x00" * 7, 8, 1)
    with pytest.raises(DecodeError):
        unpack_septets(b"", -1)


@given(st.binary().map(lambda b: bytes(x & 0x7F for x in b)), st.integers(0, 6))
def test_pack_unpack_round_trip(septets: bytes, fill: int) -> None:
    packed = pack_septets(septets, fill)
    assert len(packed) == (len(septets) * 7 + fill + 7) // 8
    assert unpack_septets(packed, len(septets), fill) == septets


def _reference_pack(septets: bytes, fill: int) -> bytes:
    """A naive bit-by-bit packer, as the specification describes it."""
    bits = [0] * fill
    for septet in septets:
        bits.extend((septet >> i) & 1 for i in range(7))
    bits.extend([0] * (-len(bits) % 8))
    return bytes(sum(bits[i + j] << j for j in range(8)) for i in range(0, len(bits), 8))


@given(st.binary(max_size=300).map(lambda b: bytes(x & 0x7F for x in b)), st.integers(0, 6))
def test_pack_matches_bitwise_reference(septets: bytes, fill: int) -> None:
    assert pack_septets(septets, fill) == _reference_pack(septets, fill)


gsm_text = st.text(alphabet=sorted(GSM7_CHARS))


@given(gsm_text)
def test_gsm0338_oracle_agrees(text: str) -> None:
    oracle = codecs.encode(text, "gsm03.38")
    assert encode_gsm7(text) == oracle
    assert decode_gsm7(oracle) == codecs.decode(oracle, "gsm03.38") == text
    assert gsm7_units(text) == len(oracle)


@given(st.text())
def test_any_text_either_encodes_or_raises_encoding_error(text: str) -> None:
    units = gsm7_units(text)
    if units is None:
        with pytest.raises(EncodingError):
            encode_gsm7(text)
    else:
        assert decode_gsm7(encode_gsm7(text)) == text
        assert len(encode_gsm7(text)) == units


@given(st.binary())
def test_decode_any_bytes_only_raises_decode_error(data: bytes) -> None:
    try:
        decode_gsm7(data)
    except DecodeError:
        assert not data.isascii()


def _reference_decode(data: bytes) -> str:
    """Septet by septet, as TS 23.038 §6.2.1.1 describes a receiver."""
    basic = {code: char for code, char in SPEC_BASIC.items()}
    extension = {code: char for char, code in SPEC_EXTENSION.items()}
    out, i = [], 0
    while i < len(data):
        if data[i] != 0x1B:
            out.append(basic[data[i]])
            i += 1
        elif i + 1 == len(data) or data[i + 1] == 0x1B:
            out.append(" ")
            i += 2
        else:
            out.append(extension.get(data[i + 1], basic[data[i + 1]]))
            i += 2
    return "".join(out)


@given(st.lists(st.sampled_from([*range(128), 0x1B, 0x1B, 0x65, 0x3C])).map(bytes))
def test_decode_matches_septet_by_septet_reference(data: bytes) -> None:
    assert decode_gsm7(data) == _reference_decode(data)
