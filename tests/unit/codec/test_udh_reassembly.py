"""User Data Header parsing/building and the pure Reassembler."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgate.codec import (
    CodecError,
    ConcatInfo,
    Incomplete,
    Reassembler,
    UdhError,
    build_concat_udh,
    split,
    split_udh,
)


def test_build_concat_udh() -> None:
    assert build_concat_udh(0x42, 3, 1) == bytes.fromhex("050003420301")
    assert build_concat_udh(0x1234, 3, 3, sixteen_bit=True) == bytes.fromhex("06080412340303")


@pytest.mark.parametrize(
    ("ref", "total", "seq", "sixteen"),
    [(256, 2, 1, False), (-1, 2, 1, False), (65536, 2, 1, True), (1, 0, 1, False),
     (1, 2, 3, False), (1, 2, 0, True), (1, 256, 1, False)],
)  # fmt: skip
def test_build_concat_udh_rejects(ref: int, total: int, seq: int, sixteen: bool) -> None:
    with pytest.raises(UdhError):
        build_concat_udh(ref, total, seq, sixteen_bit=sixteen)


def test_split_udh_concat_and_ports() -> None:
    data = bytes.fromhex("0B0003AA0302050415811581") + b"body"
    udh, rest = split_udh(data)
    assert rest == b"body"
    assert udh.concat == ConcatInfo(0xAA, 3, 2, False)
    assert (udh.dst_port, udh.src_port) == (0x1581, 0x1581)
    assert udh.elements == ((0x00, b"\xaa\x03\x02"), (0x05, bytes.fromhex("15811581")))
    udh, rest = split_udh(bytes.fromhex("0A0804ABCD020104021020") + b"x")
    assert udh.concat == ConcatInfo(0xABCD, 2, 1, True)
    assert (udh.dst_port, udh.src_port, rest) == (0x10, 0x20, b"x")


@pytest.mark.parametrize(
    "header",
    [
        "050003AA0000",  # total 0: element ignored (TS 23.040 §9.2.3.24.1)
        "050003AA0203",  # seq above total
        "050003AA0200",  # seq 0
        "0400020102",  # wrong length
        "022400",  # unknown element
        "00",  # empty header
    ],
)
def test_split_udh_ignores_void_elements(header: str) -> None:
    udh, rest = split_udh(bytes.fromhex(header) + b"z")
    assert udh.concat is None
    assert rest == b"z"


@pytest.mark.parametrize("data", ["", "05000342", "0300", "03000501", "040003010101"])
def test_split_udh_rejects_overruns(data: str) -> None:
    with pytest.raises(UdhError):
        split_udh(bytes.fromhex(data))


@given(st.binary())
def test_split_udh_fuzz(data: bytes) -> None:
    try:
        udh, rest = split_udh(data)
    except UdhError:
        return
    assert rest == data[data[0] + 1 :]
    assert sum(2 + len(value) for _, value in udh.elements) == data[0]


def _feed(
    r: Reassembler, key: object, text: str, order: list[int], now: float = 0.0
) -> list[str | None]:
    parts = split(text, ref=7).parts
    return [r.add(key, 7, len(parts), parts[i].seq, parts[i].text, now) for i in order]


def test_reassembler_any_order_with_duplicates() -> None:
    r = Reassembler(timeout=60)
    text = "a" * 153 + "b" * 153 + "c" * 10
    results = _feed(r, ("+1", "+2"), text, [2, 0, 0, 2, 1])
    assert results == [None, None, None, None, text]
    assert len(r) == 0


def test_reassembler_single_part_returns_at_once() -> None:
    r = Reassembler(timeout=60)
    assert r.add("k", 0, 1, 1, "hi", 0.0) == "hi"
    assert len(r) == 0


def test_reassembler_keeps_senders_and_refs_apart() -> None:
    r = Reassembler(timeout=60)
    assert r.add("alice", 1, 2, 1, "A1", 0.0) is None
    assert r.add("bob", 1, 2, 2, "B2", 0.0) is None
    assert r.add("alice", 2, 2, 2, "X2", 0.0) is None
    assert len(r) == 3
    assert r.add("alice", 1, 2, 2, "A2", 1.0) == "A1A2"
    assert r.add("bob", 1, 2, 1, "B1", 1.0) == "B1B2"
    assert len(r) == 1


@pytest.mark.parametrize(("total", "seq"), [(2, 0), (2, 3), (0, 1), (3, -1)])
def test_reassembler_rejects_bad_sequence(total: int, seq: int) -> None:
    with pytest.raises(CodecError):
        Reassembler(timeout=1).add("k", 0, total, seq, "x", 0.0)


def test_reassembler_expires_incomplete_groups_after_timeout_from_first_part() -> None:
    r = Reassembler(timeout=30)
    r.add("k", 5, 3, 1, "one", 100.0)
    r.add("k", 5, 3, 3, "three", 125.0)  # later parts do not extend the deadline
    r.add("other", 1, 2, 1, "x", 120.0)
    assert r.expire(129.9) == []
    expired = r.expire(130.0)
    assert expired == [Incomplete("k", 5, 3, ((1, "one"), (3, "three")), 100.0)]
    assert expired[0].missing == (2,)
    assert expired[0].partial_text == "onethree"
    assert len(r) == 1
    assert r.expire(130.0) == []
    assert [i.key for i in r.expire(150.0)] == ["other"]
    assert len(r) == 0


def test_reassembler_bounds_pending_groups_and_reports_evictions() -> None:
    r = Reassembler(timeout=1000, max_pending=3)
    for i in range(3):
        r.add(f"k{i}", 0, 2, 1, f"t{i}", float(10 - i))  # k2 is the oldest
    r.add("k3", 0, 2, 1, "t3", 20.0)
    assert len(r) == 3
    evicted = r.expire(21.0)
    assert [(i.key, i.received) for i in evicted] == [("k2", ((1, "t2"),))]
    assert len(r) == 3
    # an existing group takes more parts without evicting anything
    assert r.add("k3", 0, 2, 2, "u3", 22.0) == "t3u3"
    assert r.expire(22.0) == []


def test_reassembler_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="timeout"):
        Reassembler(timeout=0)
    with pytest.raises(ValueError, match="max_pending"):
        Reassembler(timeout=1, max_pending=0)


@given(st.text(min_size=1, max_size=800), st.randoms(use_true_random=False))
def test_reassembler_property(text: str, rnd: object) -> None:
    import random

    assert isinstance(rnd, random.Random)
    parts = list(split(text).parts)
    stream = parts + rnd.sample(parts, k=min(2, len(parts)))  # some duplicates
    rnd.shuffle(stream)
    r = Reassembler(timeout=10)
    done = [r.add("k", p.ref, p.total, p.seq, p.text, 0.0) for p in stream]
    expected = [text] * len(stream) if len(parts) == 1 else [text]
    assert [d for d in done if d is not None] == expected


def test_late_duplicates_of_a_completed_message_are_ignored() -> None:
    r = Reassembler(timeout=10, max_pending=2)
    assert r.add("k", 7, 2, 1, "a", 0.0) is None
    assert r.add("k", 7, 2, 2, "b", 1.0) == "ab"
    assert r.add("k", 7, 2, 1, "a", 2.0) is None
    assert r.add("k", 7, 2, 2, "b", 3.0) is None  # not a second "ab"
    assert r.expire(12.0) == []
    # After the timeout the same reference may be a new message.
    assert r.add("k", 7, 2, 1, "c", 13.0) is None
    assert r.add("k", 7, 2, 2, "d", 14.0) == "cd"
    # The memory of completed messages is bounded too.
    for ref in range(5):
        r.add("m", ref, 2, 1, "x", 15.0)
        r.add("m", ref, 2, 2, "y", 15.0)
    assert len(r._done) <= 2
