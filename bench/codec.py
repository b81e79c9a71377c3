"""SMPP codec benchmark: submit_sm encode+decode, receipt decode+parse, smpplib for scale.

Prints operations per second and writes bench/results/codec.json, merging the text codec
figures of bench/codec_text.py (`run()`) when that file exists. Figures only: nothing here
asserts a speed. Each figure is the best of several timed batches (time.perf_counter).

    .venv/bin/python bench/codec.py
"""

from __future__ import annotations

import importlib.util
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from smsgate.smpp import (
    NEED_DATA,
    Connection,
    DeliverSm,
    EsmClass,
    Role,
    SubmitSm,
    Tlv,
    TlvTag,
    decode,
    encode,
    parse_receipt,
)

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "codec.json"
TEXT_160 = ("Your order 4711 has shipped; track it at example.com/t?id=4711 (ETA 2 days). " * 3)[
    :160
]

try:
    from smsgate.codec import decode_gsm7, encode_gsm7

    GSM_NOTE = "short_message built with smsgate.codec.encode_gsm7"
except ImportError:  # pragma: no cover - the text codec is written in parallel

    def encode_gsm7(text: str) -> bytes:
        return text.encode("ascii")

    def decode_gsm7(data: bytes) -> str:
        return data.decode("ascii")

    GSM_NOTE = "smsgate.codec.encode_gsm7 missing: ASCII bytes used instead"


def _rate(func: Callable[[], object], min_time: float = 0.1, repeats: int = 11) -> float:
    """Best calls-per-second over `repeats` batches of about `min_time` seconds each.

    Many short batches: on a shared, noisy machine the best one is the least disturbed.
    """
    calls, elapsed = 1, 0.0
    while elapsed < min_time / 4:
        calls *= 4
        start = time.perf_counter()
        for _ in range(calls):
            func()
        elapsed = time.perf_counter() - start
    calls = max(1, int(calls * min_time / elapsed))
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            func()
        best = max(best, calls / (time.perf_counter() - start))
    return best


def _submit_sm(short_message: bytes, seq: int = 7) -> SubmitSm:
    return SubmitSm(
        sequence_number=seq,
        source_addr_ton=5,
        source_addr="MyShop",
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr="4915123456789",
        registered_delivery=1,
        short_message=short_message,
    )


RECEIPT = DeliverSm(
    sequence_number=9,
    source_addr_ton=1,
    source_addr_npi=1,
    source_addr="4915123456789",
    dest_addr_ton=5,
    destination_addr="MyShop",
    esm_class=EsmClass.DELIVERY_RECEIPT,
    short_message=(
        b"id:7F3A2B19 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201"
        b" stat:DELIVRD err:000 text:Your order 4711 has"
    ),
    tlvs=(
        Tlv.cstr(TlvTag.RECEIPTED_MESSAGE_ID, "7F3A2B19"),
        Tlv.int(TlvTag.MESSAGE_STATE, 2),
    ),
)


def smpp_figures() -> dict[str, float]:
    """Our SMPP codec and session."""
    pdu = _submit_sm(encode_gsm7(TEXT_160))
    frame = encode(pdu)
    assert len(frame) == 16 + 1 + 2 + 7 + 2 + 14 + 3 + 2 + 5 + 160  # the PDU we think it is
    receipt_frame = encode(RECEIPT)

    def text_to_text() -> object:
        # str → GSM-7 → SubmitSm(...) → bytes → SubmitSm → GSM-7 → str: includes building
        # the frozen dataclass (its __init__ stores 20 fields) and both text conversions.
        back = decode(encode(_submit_sm(encode_gsm7(TEXT_160))))
        return decode_gsm7(back.short_message)  # type: ignore[union-attr]

    def receipt() -> object:
        return parse_receipt(decode(receipt_frame).short_message)  # type: ignore[union-attr]

    return {
        "submit_sm_160_encode_per_s": _rate(lambda: encode(pdu)),
        "submit_sm_160_decode_per_s": _rate(lambda: decode(frame)),
        "submit_sm_160_encode_decode_per_s": _rate(lambda: decode(encode(pdu))),
        "submit_sm_160_text_build_encode_decode_text_per_s": _rate(text_to_text),
        "deliver_sm_receipt_decode_parse_per_s": _rate(receipt),
        "connection_submit_sm_per_s": _connection_rate(pdu),
    }


def _connection_rate(pdu: SubmitSm, batch: int = 200) -> float:
    """submit_sm through two Connections: ESME send → SMSC receive → resp → ESME receive."""
    esme, smsc = Connection(Role.ESME, window=batch), Connection(Role.SMSC, window=batch)
    bind = esme.send(_bind(esme))
    smsc.receive_data(bind)
    request = smsc.next_event()
    esme.receive_data(smsc.send(request.make_resp()))  # type: ignore[union-attr]
    esme.next_event()
    short_message = pdu.short_message

    def one_batch() -> None:
        out = b"".join(
            esme.send(_submit_sm(short_message, esme.next_sequence())) for _ in range(batch)
        )
        smsc.receive_data(out)
        replies = []
        while (event := smsc.next_event()) is not NEED_DATA:
            replies.append(smsc.send(event.make_resp(message_id="1")))  # type: ignore[union-attr]
        esme.receive_data(b"".join(replies))
        while esme.next_event() is not NEED_DATA:
            pass

    return _rate(one_batch) * batch


def _bind(esme: Connection) -> Any:
    from smsgate.smpp import BindTransceiver

    return BindTransceiver(sequence_number=esme.next_sequence(), system_id="bench", password="x")


def smpplib_figures() -> dict[str, float]:
    """The same submit_sm through smpplib 2.2.4, for scale."""
    try:
        from smpplib import smpp as smpplib_smpp
    except ImportError:  # pragma: no cover
        return {}

    class Client:
        sequence = 0

        def next_sequence(self) -> int:
            return 7

    client = Client()
    fields = {
        "source_addr_ton": 5,
        "source_addr": "MyShop",
        "dest_addr_ton": 1,
        "dest_addr_npi": 1,
        "destination_addr": "4915123456789",
        "registered_delivery": 1,
        "short_message": encode_gsm7(TEXT_160),
    }

    def make_frame() -> bytes:
        frame: bytes = smpplib_smpp.make_pdu("submit_sm", client=client, **fields).generate()
        return frame

    def round_trip() -> Any:
        return smpplib_smpp.parse_pdu(make_frame(), client=client)

    assert make_frame() == encode(_submit_sm(encode_gsm7(TEXT_160)))  # the same bytes

    return {"smpplib_submit_sm_160_encode_decode_per_s": _rate(round_trip)}


def text_figures() -> dict[str, float]:
    """bench/codec_text.py's figures, when that benchmark exists."""
    path = HERE / "codec_text.py"
    if not path.exists():
        return {}
    spec = importlib.util.spec_from_file_location("bench_codec_text", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    figures: dict[str, float] = module.run()
    return figures


def main() -> None:
    figures = {**smpp_figures(), **smpplib_figures(), **text_figures()}
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value:>12,.0f}")
    ours = figures["submit_sm_160_encode_decode_per_s"]
    theirs = figures.get("smpplib_submit_sm_160_encode_decode_per_s")
    if theirs:
        print(f"submit_sm encode+decode: {ours / theirs:.1f}x smpplib")
    print(GSM_NOTE)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "codec",
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "note": GSM_NOTE,
        "figures": figures,
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
