"""Seeded mutation of SMPP frames for the fuzz tests: a corpus of valid PDUs, and a mutator
that flips, cuts, splices and lies about lengths. Hypothesis picks the seeds; each seed
expands into many inputs cheaply (a hypothesis example costs far more than a decode)."""

from __future__ import annotations

import random

from smsgate.smpp import (
    PDU_CLASSES,
    BindTransceiver,
    CancelSm,
    DataSm,
    DeliverSm,
    EnquireLink,
    QuerySm,
    SubmitSm,
    Tlv,
    TlvTag,
    encode,
)
from smsgate.smpp.receipt import Receipt, format_receipt

UDH = bytes([5, 0, 3, 0x2A, 2, 1])
INTERESTING_U32 = (0, 1, 15, 16, 17, 0x7F, 0x80, 0xFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0xFFFFFFFF)


def corpus() -> list[bytes]:
    """Valid frames of the PDUs a server and a client meet, with fields that matter."""
    receipt = format_receipt(
        Receipt(id="1A2B3C", submit_date="2501020304", done_date="2501020305", stat="DELIVRD")
    ).encode()
    pdus = [
        BindTransceiver(sequence_number=1, system_id="fuzz", password="pw"),
        SubmitSm(
            sequence_number=2,
            source_addr="ACME",
            source_addr_ton=5,
            destination_addr="359888123456",
            dest_addr_ton=1,
            dest_addr_npi=1,
            short_message=b"Hello fuzz",
            registered_delivery=1,
        ),
        SubmitSm(
            sequence_number=3,
            destination_addr="359888123457",
            esm_class=0x40,
            data_coding=8,
            short_message=UDH + "Здравей".encode("utf-16-be"),
        ),
        SubmitSm(
            sequence_number=4,
            destination_addr="359888123458",
            tlvs=(
                Tlv(TlvTag.MESSAGE_PAYLOAD, b"payload " * 20),
                Tlv(TlvTag.SAR_MSG_REF_NUM, (7).to_bytes(2, "big")),
                Tlv(TlvTag.SAR_TOTAL_SEGMENTS, b"\x02"),
                Tlv(TlvTag.SAR_SEGMENT_SEQNUM, b"\x01"),
            ),
        ),
        DataSm(sequence_number=5, destination_addr="359888123459"),
        DeliverSm(
            sequence_number=6, source_addr="359888000001", esm_class=4, short_message=receipt
        ),
        QuerySm(sequence_number=7, message_id="1A2B3C"),
        CancelSm(sequence_number=8, message_id="1A2B3C", destination_addr="359888123456"),
        EnquireLink(sequence_number=9),
    ]
    frames = [encode(p) for p in pdus]
    # Every other command with its defaults, so each decoder path is a mutation away.
    for cls in PDU_CLASSES.values():
        try:
            frames.append(encode(cls(sequence_number=10)))
        except Exception:
            continue
    return frames


def _set_u32(frame: bytearray, offset: int, value: int) -> None:
    if offset + 4 <= len(frame):
        frame[offset : offset + 4] = value.to_bytes(4, "big")


def mutate(rng: random.Random, seeds: list[bytes]) -> bytes:
    """One mutant: 1-4 operations on a corpus frame (or random bytes, now and then)."""
    if rng.random() < 0.05:
        return rng.randbytes(rng.randrange(0, 64))
    frame = bytearray(rng.choice(seeds))
    for _ in range(rng.randrange(1, 5)):
        op = rng.randrange(9)
        pos = rng.randrange(len(frame) + 1)
        if op == 0 and frame:  # flip a bit
            i = rng.randrange(len(frame))
            frame[i] ^= 1 << rng.randrange(8)
        elif op == 1 and frame:  # set a byte
            frame[rng.randrange(len(frame))] = rng.choice((0, 0xFF, 0x7F, 0x80, rng.randrange(256)))
        elif op == 2:  # insert bytes
            frame[pos:pos] = rng.randbytes(rng.randrange(1, 9))
        elif op == 3:  # delete a range
            del frame[pos : pos + rng.randrange(1, 9)]
        elif op == 4:  # cut
            del frame[pos:]
        elif op == 5:  # splice the tail of another frame
            other = rng.choice(seeds)
            frame[pos:] = other[rng.randrange(len(other) + 1) :]
        elif op == 6:  # an interesting 32-bit value somewhere (lengths, ids, TLV headers)
            _set_u32(frame, rng.randrange(max(1, len(frame))), rng.choice(INTERESTING_U32))
        elif op == 7:  # another command id
            _set_u32(frame, 4, rng.choice([*PDU_CLASSES, 0x99, 0x80000099, 0x104]))
        else:  # duplicate a range (long C strings, repeated TLVs)
            start = rng.randrange(len(frame) + 1)
            frame[start:start] = frame[start : start + rng.randrange(1, 32)]
    if rng.random() < 0.7:  # mostly keep command_length honest, so the body gets parsed
        _set_u32(frame, 0, len(frame))
    return bytes(frame)
