"""UCS-2 (UTF-16BE), encoding choice, transliteration, DCS and SMPP payload decoding."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgate.codec import (
    Alphabet,
    CodecError,
    DataCoding,
    DecodeError,
    Encoding,
    EncodingError,
    choose_encoding,
    decode_payload,
    decode_ucs2,
    encode_ucs2,
    make_dcs,
    parse_dcs,
    transliterate,
    ucs2_units,
)


def test_ucs2_vectors() -> None:
    assert encode_ucs2("Привет") == bytes.fromhex("041F04400438043204350442")
    assert encode_ucs2("😀") == bytes.fromhex("D83DDE00")  # surrogate pair
    assert encode_ucs2("a😀б") == bytes.fromhex("0061D83DDE000431")
    assert decode_ucs2(bytes.fromhex("0061D83DDE000431")) == "a😀б"
    assert ucs2_units("a😀б") == 4
    assert ucs2_units("") == 0
    assert ucs2_units("abc") == 3


@pytest.mark.parametrize(
    "data", [b"\x00", b"\xd8\x3d", b"\xde\x00", b"\x00a\xd8\x3d\x00b", b"\xdc\x00\xd8\x00"]
)
def test_ucs2_decode_errors(data: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_ucs2(data)


def test_ucs2_encode_rejects_lone_surrogates() -> None:
    with pytest.raises(EncodingError) as info:
        encode_ucs2("a\ud83d")
    assert info.value.chars == ("\ud83d",)


@given(st.text())
def test_ucs2_round_trip(text: str) -> None:
    data = encode_ucs2(text)
    assert decode_ucs2(data) == text
    assert len(data) == 2 * ucs2_units(text)


@given(st.binary())
def test_ucs2_decode_any_bytes_raises_only_decode_error(data: bytes) -> None:
    try:
        text = decode_ucs2(data)
    except DecodeError:
        return
    assert encode_ucs2(text) == data


def test_choose_encoding() -> None:
    assert choose_encoding("hello €") == (Encoding.GSM7, "hello €")
    assert choose_encoding("hello ç") == (Encoding.UCS2, "hello ç")
    assert choose_encoding("hello", "ucs2") == (Encoding.UCS2, "hello")
    assert choose_encoding("hello", "gsm7") == (Encoding.GSM7, "hello")
    with pytest.raises(EncodingError) as info:
        choose_encoding("ça va", "gsm7")
    assert info.value.chars == ("ç",)
    with pytest.raises(CodecError):
        choose_encoding("x", "latin1")


def test_choose_encoding_with_transliteration() -> None:
    text = "It’s “fine” – really…\u00a0ok\u200b"
    assert choose_encoding(text) == (Encoding.UCS2, text)
    assert choose_encoding(text, transliterate=True) == (
        Encoding.GSM7,
        'It\'s "fine" - really... ok',
    )
    assert choose_encoding(text, "gsm7", transliterate=True)[0] is Encoding.GSM7
    # Text that needs UCS-2 anyway is sent as written.
    assert choose_encoding("“Привет”", transliterate=True) == (Encoding.UCS2, "“Привет”")
    with pytest.raises(EncodingError) as info:
        choose_encoding("“Привет”", "gsm7", transliterate=True)
    assert "П" in info.value.chars
    assert "“" not in info.value.chars
    # Explicit UCS-2 is never transliterated.
    assert choose_encoding("’", "ucs2", transliterate=True) == (Encoding.UCS2, "’")


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("‘’‚‛′`´", "'''''''"),
        ("“”„‟″«»", '"""""""'),
        ("‐‑‒–—―−", "-------"),
        ("…", "..."),
        ("a\u00adb\u200c\u200d\u2060\ufeffc", "abc"),
        ("\u00a0\u2009\u202f\u3000\t", "     "),
        ("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEZHIKMNOPTYX"),
        ("çé ü", "çé ü"),  # letters are not changed
    ],
)
def test_transliterate(source: str, target: str) -> None:
    assert transliterate(source) == target


@pytest.mark.parametrize(
    ("dcs", "coding"),
    [
        (0x00, DataCoding(Alphabet.GSM7, None)),
        (0x04, DataCoding(Alphabet.EIGHT_BIT, None)),
        (0x08, DataCoding(Alphabet.UCS2, None)),
        (0x0C, DataCoding(Alphabet.GSM7, None)),  # reserved alphabet reads as GSM-7
        (0x10, DataCoding(Alphabet.GSM7, 0)),
        (0x19, DataCoding(Alphabet.UCS2, 1)),
        (0x16, DataCoding(Alphabet.EIGHT_BIT, 2)),
        (0x20, DataCoding(Alphabet.GSM7, None, compressed=True)),
        (0x48, DataCoding(Alphabet.UCS2, None)),  # automatic deletion group
        (0x80, DataCoding(Alphabet.GSM7, None)),  # reserved group
        (0xC0, DataCoding(Alphabet.GSM7, None)),
        (0xD8, DataCoding(Alphabet.GSM7, None)),
        (0xE0, DataCoding(Alphabet.UCS2, None)),
        (0xF0, DataCoding(Alphabet.GSM7, 0)),
        (0xF5, DataCoding(Alphabet.EIGHT_BIT, 1)),
        (0xF3, DataCoding(Alphabet.GSM7, 3)),
    ],
)
def test_parse_dcs(dcs: int, coding: DataCoding) -> None:
    assert parse_dcs(dcs) == coding


def test_make_dcs() -> None:
    assert make_dcs(Alphabet.GSM7) == 0x00
    assert make_dcs(Alphabet.UCS2) == 0x08
    assert make_dcs(Alphabet.EIGHT_BIT, 1) == 0x15
    assert make_dcs(Alphabet.GSM7, 0) == 0x10
    for alphabet in Alphabet:
        for klass in (None, 0, 1, 2, 3):
            assert parse_dcs(make_dcs(alphabet, klass)) == DataCoding(alphabet, klass)
    with pytest.raises(ValueError, match="class"):
        make_dcs(Alphabet.GSM7, 4)
    with pytest.raises(ValueError, match="octet"):
        parse_dcs(256)


@pytest.mark.parametrize(
    ("data", "data_coding", "text"),
    [
        (b"\x00\x1be", 0, "@€"),
        (b"Hello", 1, "Hello"),
        (b"caf\xe9", 3, "café"),
        (b"\x00\xff", 4, "\x00ÿ"),
        (b"\x00\xff", 2, "\x00ÿ"),
        (bytes.fromhex("041F0440"), 8, "Пр"),
        (b"\xbf\xe0", 6, "Пр"),  # ISO-8859-5
        (b"\x82\xa0", 5, "あ"),  # Shift-JIS
        (b"\xb0\xa1", 14, "가"),  # KS C 5601
        (b"Hi", 0xF0, "Hi"),  # GSM message class, default alphabet
        (b"\xe9", 0xF4, "é"),  # GSM message class, 8-bit
        (bytes.fromhex("0431"), 0x18, "б"),  # TS 23.038 general coding, UCS-2 class 0
        (b"\x00", 0x10, "@"),
    ],
)
def test_decode_payload(data: bytes, data_coding: int, text: str) -> None:
    assert decode_payload(data, data_coding) == text


@pytest.mark.parametrize(
    ("data", "data_coding"),
    [
        (b"\x80", 0),
        (b"\xe9", 1),
        (b"\x00", 8),
        (b"\xff\xff", 5),
        (b"x", 11),  # reserved in SMPP 3.4
        (b"x", 15),
        (b"x", 0x20),  # compressed
        (b"x", 256),
        (b"x", -1),
    ],
)
def test_decode_payload_errors(data: bytes, data_coding: int) -> None:
    with pytest.raises(DecodeError):
        decode_payload(data, data_coding)


@given(st.binary(), st.integers(0, 255))
def test_decode_payload_raises_only_decode_error(data: bytes, data_coding: int) -> None:
    with contextlib.suppress(DecodeError):
        assert isinstance(decode_payload(data, data_coding), str)
