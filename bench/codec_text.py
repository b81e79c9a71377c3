"""Text codec benchmark: split and count 1,000-character texts, GSM-7 encode+decode.

Prints operations per second and writes bench/results/codec_text.json. Figures only: it
asserts nothing about speed. ``run()`` is imported by bench/codec.py.

    .venv/bin/python bench/codec_text.py
"""

from __future__ import annotations

import json
import platform
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from smsgate.codec import count_parts, decode_gsm7, encode_gsm7, split

RESULTS = Path(__file__).resolve().parent / "results" / "codec_text.json"

_GSM_WORDS = "Your order 4711 has shipped; track it at example.com/t?id=4711 (ETA 2 days). "
_UCS2_WORDS = "Ваш заказ 4711 отправлен, отслеживайте его на сайте — срок доставки 2 дня. "
GSM_TEXT = (_GSM_WORDS * 14)[:1000]
GSM_ESC_TEXT = ((_GSM_WORDS + "Total: €12 [VAT] ") * 12)[:1000]  # escape pairs on the path
UCS2_TEXT = (_UCS2_WORDS * 14)[:1000]
EMOJI_TEXT = ((_UCS2_WORDS + "😀🎉 ") * 12)[:1000]  # surrogate pairs on the path
SMS_160 = GSM_TEXT[:160]


def _rate(func: Callable[[], object], min_time: float = 0.2, repeats: int = 5) -> float:
    """Best calls-per-second over ``repeats`` timed batches of at least ``min_time`` s."""
    calls = 1
    while True:  # size one batch so that it lasts about min_time
        start = time.perf_counter()
        for _ in range(calls):
            func()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time / 4:
            break
        calls *= 4
    calls = max(1, int(calls * min_time / elapsed))
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            func()
        best = max(best, calls / (time.perf_counter() - start))
    return best


def _split_and_count(text: str) -> None:
    split(text)
    count_parts(text)


def _encode_decode_160() -> None:
    decode_gsm7(encode_gsm7(SMS_160))


def run() -> dict[str, float]:
    """Measure and return operations per second, keyed by what was measured."""
    figures: dict[str, float] = {}
    for name, text in (
        ("gsm7", GSM_TEXT),
        ("gsm7_escapes", GSM_ESC_TEXT),
        ("ucs2", UCS2_TEXT),
        ("ucs2_emoji", EMOJI_TEXT),
    ):
        figures[f"{name}_1000ch_split_per_s"] = _rate(partial(split, text))
        figures[f"{name}_1000ch_count_per_s"] = _rate(partial(count_parts, text))
        figures[f"{name}_1000ch_split_and_count_per_s"] = _rate(partial(_split_and_count, text))
    figures["gsm7_160ch_encode_decode_per_s"] = _rate(_encode_decode_160)
    return figures


def main() -> None:
    figures = run()
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value:>12,.0f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "codec_text",
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "figures": figures,
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
