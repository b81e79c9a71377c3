"""Property tests: for any text, parts respect their limits and join back to the text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from smsgate.codec import (
    GSM7_CHARS,
    Concat,
    Encoding,
    count_parts,
    decode_gsm7,
    decode_ucs2,
    gsm7_units,
    per_part,
    preview,
    reassemble,
    split,
    split_udh,
)

# Mostly short texts, with long runs of single characters mixed in so that escape and
# surrogate pairs regularly land on part boundaries.
_chars = st.characters(exclude_categories=["Cs"])
_long = st.lists(
    st.tuples(st.sampled_from(["a", "€", "я", "😀", "[", "é", "ç"]), st.integers(1, 200)),
    max_size=5,
).map(lambda runs: "".join(c * n for c, n in runs))
texts = st.one_of(st.text(_chars), st.text(_chars, min_size=150, max_size=500), _long)
gsm_texts = st.text(alphabet=sorted(GSM7_CHARS), max_size=700)


def _check(text: str, encoding: str, concat: Concat) -> None:
    message = split(text, encoding=encoding, concat=concat)
    assert message.text == text
    total = len(message.parts)
    limit = per_part(message.encoding, total, concat)
    decode = decode_gsm7 if message.encoding is Encoding.GSM7 else decode_ucs2
    for seq, part in enumerate(message.parts, 1):
        assert (part.seq, part.total) == (seq, total)
        assert part.units <= limit
        assert len(part.short_message) <= 140 or message.encoding is Encoding.GSM7
        assert decode(part.payload) == part.text
        if total > 1 and concat is not Concat.SAR:
            udh, payload = split_udh(part.short_message)
            assert udh.concat is not None
            assert (udh.concat.seq, udh.concat.total) == (seq, total)
            assert payload == part.payload
            # the whole part fits in 140 octets once GSM-7 is packed after the UDH
            if message.encoding is Encoding.GSM7:
                assert (len(part.udh) * 8 + 6) // 7 + part.units <= 160
    assert reassemble(reversed(message.parts)) == text
    assert count_parts(text, encoding, concat=concat) == total
    p = preview(text, encoding, concat=concat)
    assert (p.encoding, p.parts, p.chars) == (message.encoding, total, len(text))
    assert p.units == sum(part.units for part in message.parts)
    assert p.per_part == limit


@settings(max_examples=300)
@given(texts, st.sampled_from(list(Concat)))
def test_auto_split_round_trips(text: str, concat: Concat) -> None:
    _check(text, "auto", concat)
    if gsm7_units(text) is not None:
        _check(text, "gsm7", concat)
    _check(text, "ucs2", concat)


@given(gsm_texts, st.sampled_from(list(Concat)))
def test_gsm_split_round_trips(text: str, concat: Concat) -> None:
    assert split(text).encoding is Encoding.GSM7
    _check(text, "gsm7", concat)


@given(texts)
def test_transliterated_split_is_consistent(text: str) -> None:
    message = split(text, transliterate=True)
    assert reassemble(message.parts) == message.text
    assert count_parts(text, transliterate=True) == len(message.parts)
