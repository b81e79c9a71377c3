"""Splitting into parts: the boundary cases of research/libs.md §2, UDH/SAR, limits."""

from __future__ import annotations

import pytest

from smsgate.codec import (
    CodecError,
    Concat,
    Encoding,
    EncodingError,
    Part,
    TooManyParts,
    count_parts,
    decode_gsm7,
    decode_ucs2,
    per_part,
    preview,
    reassemble,
    split,
    split_udh,
)

BOUNDARY_CASES = [
    ("a" * 160, Encoding.GSM7, [160]),
    ("a" * 161, Encoding.GSM7, [153, 8]),
    ("a" * 306, Encoding.GSM7, [153, 153]),
    ("a" * 307, Encoding.GSM7, [153, 153, 1]),
    ("€" * 80, Encoding.GSM7, [160]),
    ("€" * 81, Encoding.GSM7, [152, 10]),  # 153 would split an escape pair
    ("a" * 159 + "[", Encoding.GSM7, [153, 8]),
    ("a" * 152 + "€" * 77, Encoding.GSM7, [152, 152, 2]),  # no escape pair split: 3 parts
    ("я" * 70, Encoding.UCS2, [70]),
    ("я" * 71, Encoding.UCS2, [67, 4]),
    ("я" * 134, Encoding.UCS2, [67, 67]),
    ("я" * 135, Encoding.UCS2, [67, 67, 1]),
    ("😀" * 35, Encoding.UCS2, [70]),
    ("😀" * 36, Encoding.UCS2, [66, 6]),
    ("я" * 66 + "😀" * 34, Encoding.UCS2, [66, 66, 2]),  # no surrogate split: 3 parts
    ("ç", Encoding.UCS2, [1]),
    ("", Encoding.GSM7, [0]),
]


@pytest.mark.parametrize(("text", "encoding", "units"), BOUNDARY_CASES)
def test_boundary_cases(text: str, encoding: Encoding, units: list[int]) -> None:
    message = split(text)
    assert message.encoding is encoding
    assert [p.units for p in message.parts] == units
    assert count_parts(text) == len(units)
    assert "".join(p.text for p in message.parts) == text
    assert reassemble(message.parts) == text
    decode = decode_gsm7 if encoding is Encoding.GSM7 else decode_ucs2
    for part in message.parts:
        assert decode(part.payload) == part.text  # every part decodes on its own


def test_single_part_has_no_udh_and_ref_zero() -> None:
    (part,) = split("hello", ref=99).parts
    assert part == Part(1, 1, 0, b"", b"hello", "hello", 5)
    assert part.short_message == b"hello"


def test_empty_text_is_one_empty_part() -> None:
    message = split("")
    assert message.parts == (Part(1, 1, 0, b"", b"", "", 0),)


def test_udh8_parts() -> None:
    message = split("a" * 200, ref=0x42)
    assert [p.udh.hex() for p in message.parts] == ["0500034202" + "01", "0500034202" + "02"]
    first = message.parts[0]
    assert first.short_message == first.udh + first.payload
    udh, rest = split_udh(first.short_message)
    assert udh.concat is not None
    assert (udh.concat.ref, udh.concat.total, udh.concat.seq) == (0x42, 2, 1)
    assert rest == first.payload
    # 6-octet UDH + 153 septets = 7 + 153 = 160 septets: exactly 140 octets on the air.
    assert (len(first.udh) * 8 + 1) // 7 + first.units == 160


def test_udh16_parts_use_smaller_segments() -> None:
    message = split("a" * 305, concat=Concat.UDH16, ref=0x1234)
    assert [p.units for p in message.parts] == [152, 152, 1]
    assert message.parts[2].udh.hex() == "0608041234" + "0303"
    ucs = split("я" * 133, concat=Concat.UDH16)
    assert [p.units for p in ucs.parts] == [66, 66, 1]
    assert len(ucs.parts[0].short_message) == 7 + 132 <= 140


def test_sar_parts_carry_no_udh() -> None:
    message = split("a" * 400, concat=Concat.SAR, ref=0xBEEF)
    assert [p.units for p in message.parts] == [153, 153, 94]
    assert all(p.udh == b"" and p.ref == 0xBEEF for p in message.parts)
    assert [(p.seq, p.total) for p in message.parts] == [(1, 3), (2, 3), (3, 3)]
    assert message.concat is Concat.SAR
    assert message.parts[0].short_message == b"a" * 153


def test_concat_accepts_strings() -> None:
    assert split("a" * 200, concat="udh16").concat is Concat.UDH16  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("concat", "ref"), [(Concat.UDH8, 256), (Concat.UDH16, 65536), (Concat.SAR, -1)]
)
def test_reference_out_of_range(concat: Concat, ref: int) -> None:
    with pytest.raises(CodecError):
        split("hi", concat=concat, ref=ref)


def test_too_many_parts_is_refused_not_truncated() -> None:
    text = "a" * (153 * 5 + 1)
    assert len(split(text, max_parts=6).parts) == 6
    with pytest.raises(TooManyParts) as info:
        split(text, max_parts=5)
    assert (info.value.parts, info.value.max_parts) == (6, 5)
    with pytest.raises(TooManyParts) as info:
        split("a" * (153 * 255 + 1), max_parts=1000)
    assert (info.value.parts, info.value.max_parts) == (256, 255)
    with pytest.raises(CodecError):
        split("a", max_parts=0)


def test_explicit_encodings() -> None:
    message = split("hello", encoding="ucs2")
    assert message.encoding is Encoding.UCS2
    assert message.parts[0].payload == "hello".encode("utf-16-be")
    with pytest.raises(EncodingError):
        split("привет", encoding="gsm7")
    with pytest.raises(CodecError):
        split("x", encoding="utf8")


def test_transliteration_keeps_gsm7() -> None:
    message = split("“quoted” – text", transliterate=True)
    assert message.encoding is Encoding.GSM7
    assert message.text == '"quoted" - text'
    assert split("“quoted”").encoding is Encoding.UCS2


def test_count_parts_with_other_concat_modes() -> None:
    assert count_parts("a" * 306, concat=Concat.UDH16) == 3
    assert count_parts("a" * 306, concat=Concat.SAR) == 2
    assert count_parts("é" * 70, "ucs2") == 1
    assert count_parts("€" * 81, transliterate=True) == 2


def test_preview() -> None:
    p = preview("Hello ç world 😀")
    assert p.encoding is Encoding.UCS2
    assert (p.parts, p.chars, p.units, p.per_part) == (1, 15, 16, 70)
    assert p.non_gsm_chars == ("ç", "😀")
    p = preview("a" * 161)
    assert (p.encoding, p.parts, p.chars, p.units, p.per_part) == (Encoding.GSM7, 2, 161, 161, 153)
    assert p.non_gsm_chars == ()
    p = preview("€" * 10)
    assert (p.chars, p.units) == (10, 20)
    assert preview("abc", "ucs2").non_gsm_chars == ()
    assert preview("a" * 200, concat=Concat.UDH16).per_part == 152
    assert preview("‘hi’", transliterate=True).encoding is Encoding.GSM7


def test_per_part() -> None:
    assert per_part(Encoding.GSM7, 1) == 160
    assert per_part(Encoding.UCS2, 1) == 70
    assert per_part(Encoding.GSM7, 2) == 153
    assert per_part(Encoding.UCS2, 3, Concat.UDH16) == 66


def test_reassemble_any_order_and_duplicates() -> None:
    parts = split("x" * 500).parts
    shuffled = [parts[3], parts[0], parts[2], parts[0], parts[1]]
    assert reassemble(shuffled) == "x" * 500


def test_reassemble_errors() -> None:
    parts = split("x" * 500).parts
    with pytest.raises(CodecError, match="missing"):
        reassemble(parts[:-1])
    with pytest.raises(CodecError, match="no parts"):
        reassemble([])
    with pytest.raises(CodecError, match="total"):
        reassemble([*parts, split("y" * 200).parts[0]])
    stray = Part(9, 4, 0, b"", b"", "", 0)
    with pytest.raises(CodecError):
        reassemble([*parts, stray])
