"""Fuzzing: random and mutated frames fed to decode and to Connection never raise anything
but SmppError subclasses. Each test tries a hundredth of the fuzz budget (tests/fuzz/budget.py):
1000 examples by default, 10,000 under `make fuzz`."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsgate.smpp import (
    CLOSED,
    NEED_DATA,
    PDU_CLASSES,
    BindTransceiver,
    BindTransceiverResp,
    Connection,
    Role,
    SessionState,
    SmppError,
    decode,
    encode,
    parse_receipt,
)
from tests.fuzz.budget import TOTAL
from tests.unit.smpp.strategies import any_pdu

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
EXAMPLES = max(1000, TOTAL // 100)
FUZZ = settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.too_slow], deadline=None)

_command_ids = st.sampled_from([*sorted(PDU_CLASSES), 0x99, 0x80000099, 0x00000104])


@st.composite
def random_frames(draw: st.DrawFn) -> bytes:
    """A header with a consistent length (mostly) and a random body."""
    body = draw(st.binary(max_size=300))
    command_id = draw(_command_ids)
    length = 16 + len(body) if draw(st.integers(0, 9)) else draw(st.integers(0, 0xFFFFFFFF))
    header = b"".join(
        v.to_bytes(4, "big") for v in (length, command_id, draw(st.integers(0, 0xFF)), 1)
    )
    return header + body


@st.composite
def mutated_frames(draw: st.DrawFn) -> bytes:
    """A valid frame with octets flipped, cut, inserted or deleted; the length fixed up."""
    frame = bytearray(encode(draw(any_pdu)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        pos = draw(st.integers(16, max(16, len(frame))))
        if op == "flip" and pos < len(frame):
            frame[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "cut":
            del frame[pos:]
        elif op == "insert":
            frame[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif pos < len(frame):
            del frame[pos]
    if draw(st.booleans()):
        frame[:4] = len(frame).to_bytes(4, "big")
    return bytes(frame)


frames = st.one_of(random_frames(), mutated_frames(), st.binary(max_size=64))


@FUZZ
@given(frames)
def test_decode_raises_only_smpp_errors(frame: bytes) -> None:
    with contextlib.suppress(SmppError):
        decode(frame)


@FUZZ
@given(st.lists(frames, max_size=6), st.sampled_from(list(Role)), st.booleans(), st.integers(1, 64))
def test_connection_raises_only_smpp_errors(
    chunks: list[bytes], role: Role, bound: bool, step: int
) -> None:
    conn = Connection(role, max_frame_size=1024)
    if bound:  # bind_transceiver first, so that most commands are allowed
        if role is Role.ESME:
            conn.send(BindTransceiver(sequence_number=1))
            conn.receive_data(encode(BindTransceiverResp(sequence_number=1)))
        else:
            conn.receive_data(encode(BindTransceiver(sequence_number=1)))
        event = conn.next_event()
        if role is Role.SMSC:
            conn.send(BindTransceiverResp(sequence_number=1))
        assert event is not NEED_DATA
        assert conn.state is SessionState.BOUND_TRX
    data = b"".join(chunks)
    for i in range(0, len(data), step):
        conn.receive_data(data[i : i + step])
        for _ in range(100):  # bounded: each call consumes a frame or stops
            try:
                event = conn.next_event()
            except SmppError:
                continue
            if event is NEED_DATA or event is CLOSED:
                break
    conn.receive_data(b"")
    for _ in range(100):
        try:
            if conn.next_event() is CLOSED:
                break
        except SmppError:
            continue
    assert conn.next_event() is CLOSED


@FUZZ
@given(st.one_of(st.text(max_size=200), st.binary(max_size=200)))
def test_parse_receipt_never_raises(text: str | bytes) -> None:
    parse_receipt(text)
