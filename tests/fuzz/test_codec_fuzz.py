"""Protocol fuzzing of the pure codecs, in bulk: mutated and random SMPP frames into
`smpp.decode` and a bound `Connection` (both roles), and the bytes of each mutant into the
SMS codec's decoders. Only the documented exception trees may come out (SmppError,
CodecError); every input is bounded in time (the whole run is bounded by pytest-timeout) and
memory does not grow with the number of inputs.

Hypothesis draws a seed per example; each example expands into BATCH mutants. The number of
inputs is SMSGATE_FUZZ_EXAMPLES (default 100,000 for the fuzz suite, split between this
module and the socket fuzzing); `make fuzz` asks for 1,000,000.
"""

from __future__ import annotations

import contextlib
import gc
import json
import random
import tracemalloc
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsgate import codec
from smsgate.codec import CodecError
from smsgate.smpp import (
    CLOSED,
    NEED_DATA,
    BindTransceiver,
    BindTransceiverResp,
    Connection,
    Role,
    SmppError,
    decode,
    encode,
    parse_receipt,
)
from tests.fuzz.budget import CODEC_INPUTS
from tests.fuzz.mutate import corpus, mutate

BATCH = 500
EXAMPLES = max(1, CODEC_INPUTS // BATCH)
SEEDS = corpus()
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
TRIED: dict[str, int] = {"decode": 0, "connection": 0, "codec": 0}


def _bound(role: Role) -> Connection:
    conn = Connection(role, max_frame_size=4096)
    if role is Role.ESME:
        conn.send(BindTransceiver(sequence_number=1))
        conn.receive_data(encode(BindTransceiverResp(sequence_number=1)))
        conn.next_event()
    else:
        conn.receive_data(encode(BindTransceiver(sequence_number=1)))
        conn.next_event()
        conn.send(BindTransceiverResp(sequence_number=1))
    return conn


def _drain(conn: Connection) -> bool:
    """Take every event out; False once the connection is closed. Bounded: each step
    consumes a frame, reports an error, or stops."""
    for _ in range(10_000):
        try:
            event = conn.next_event()
        except SmppError:
            continue
        if event is NEED_DATA:
            return True
        if event is CLOSED:
            return False
    raise AssertionError("next_event() neither consumed input nor stopped")


def _codec_decoders(data: bytes) -> None:
    """Every decoder of smsgate.codec that takes bytes from the network or a modem."""
    for call in (
        lambda: codec.split_udh(data),
        lambda: codec.decode_tpdu(data, direction="mo"),
        lambda: codec.decode_tpdu(data, direction="mt"),
        lambda: codec.decode_with_smsc(data, "mo"),
        lambda: codec.decode_gsm7(data),
        lambda: codec.unpack_septets(data, len(data) * 8 // 7, data[0] % 7 if data else 0),
        lambda: codec.decode_ucs2(data),
        lambda: codec.decode_payload(data, data[0] if data else 0),
        lambda: codec.parse_dcs(data[-1] if data else 0),
    ):
        with contextlib.suppress(CodecError):
            call()
    parse_receipt(data)  # lenient: never raises


def _one_batch(seed: int) -> None:
    rng = random.Random(seed)
    mutants = [mutate(rng, SEEDS) for _ in range(BATCH)]
    for frame in mutants:
        with contextlib.suppress(SmppError):
            decode(frame)
    TRIED["decode"] += len(mutants)
    # The same mutants as one stream, in random chunk sizes, into a bound session.
    for role in (Role.SMSC, Role.ESME):
        conn = _bound(role)
        stream = b"".join(mutants[: BATCH // 2] if role is Role.SMSC else mutants[BATCH // 2 :])
        i = 0
        while i < len(stream):
            step = rng.choice((1, 7, 64, 1024, len(stream)))
            conn.receive_data(stream[i : i + step])
            i += step
            if not _drain(conn):
                break
        conn.receive_data(b"")
        _drain(conn)
        assert conn.next_event() is CLOSED
    TRIED["connection"] += len(mutants)
    for frame in mutants[:: max(1, BATCH // 100)]:
        # The body of a mutant is as good a garbage short_message / TPDU as any.
        _codec_decoders(frame[16:])
        TRIED["codec"] += 1


@pytest.mark.slow
@FUZZ
@given(st.integers(0, 2**63))
def test_fuzz_codec_bulk(seed: int) -> None:
    _one_batch(seed)


@pytest.mark.slow
def test_fuzz_codec_memory_is_bounded(record_property: Any) -> None:
    """The same work again under tracemalloc: what stays allocated afterwards does not grow
    with the number of inputs (nothing is kept per input)."""
    _one_batch(0)  # warm caches (interned strings, enum lookups)
    gc.collect()
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        for seed in range(1, 41):
            _one_batch(seed)
        gc.collect()
        end, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert end - start < 2_000_000, (start, end)
    assert peak - start < 50_000_000, (start, peak)
    counts = {"fuzz_codec_inputs": TRIED["decode"], "fed_to": dict(TRIED)}
    record_property("fuzz_codec", json.dumps(counts))
