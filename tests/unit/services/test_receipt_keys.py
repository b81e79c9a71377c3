"""Receipt ids: the literal reading tried first is the first of all the readings."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from smsgate.services.delivery import first_candidate, receipt_candidates

_ID_LIKE = st.one_of(
    st.text(max_size=12),
    st.from_regex(r"\A\s?(0[xX])?0*[0-9a-fA-F]{0,20}\s?\Z"),
    st.integers(min_value=0, max_value=2**64).map(str),
    st.integers(min_value=0, max_value=2**64).map(lambda n: f"{n:X}"),
)


@given(_ID_LIKE, st.sampled_from(["auto", "hex", "dec", "as_is"]))
def test_first_candidate_is_the_first_reading(smsc_id: str, id_format: str) -> None:
    assert first_candidate(smsc_id, id_format) == receipt_candidates(smsc_id, id_format)[0]


def test_readings_of_a_hex_id() -> None:
    assert receipt_candidates("0x00FF") == ("ff", "255")
    assert first_candidate("0x00FF") == "ff"
    assert first_candidate(" 0042 ", "dec") == "42"
