"""Number normalization benchmark: µs per new number, `phonenumbers` alone and our fast path.

20,000 distinct '+' numbers of a few countries (each a region's example mobile number with
its last digits drawn at random), every one new to the cache, as on the SMPP ingest path.
Prints µs per number and writes bench/results/phone_numbers.json. Figures only: it asserts
nothing about speed, but stops if the two paths disagree on any number. (Not "numbers.py": a
script there would shadow the standard library's `numbers` for every script in bench/.)

    .venv/bin/python bench/phone_numbers.py
"""

from __future__ import annotations

import json
import platform
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from smsgate.domain import numbers
from smsgate.domain.errors import InvalidNumber

RESULTS = Path(__file__).resolve().parent / "results" / "phone_numbers.json"
REGIONS = ("BG", "GB", "DE", "US", "IN")
COUNT = 20_000
RANDOM_DIGITS = 6  # of the example number's national number, at its end


def make_numbers(count: int = COUNT, seed: int = 1) -> list[str]:
    """`count` distinct E.164 strings, the same ones on every run."""
    rng = random.Random(seed)
    stems = []
    for region in REGIONS:
        example = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
        stems.append(phonenumbers.format_number(example, PhoneNumberFormat.E164)[:-RANDOM_DIGITS])
    found: dict[str, None] = {}
    while len(found) < count:
        stem = stems[len(found) % len(stems)]
        found.setdefault(stem + f"{rng.randrange(10**RANDOM_DIGITS):0{RANDOM_DIGITS}d}")
    return list(found)


def old_path(raw: str) -> numbers.PhoneNumber | str:
    """What `normalize` did before the fast path: phonenumbers parse, check, format."""
    return numbers._normalize_slow(raw, None)


def new_path(raw: str) -> numbers.PhoneNumber | str:
    """The public `normalize`; the caller empties its cache first, so every number is new."""
    try:
        return numbers.normalize(raw)
    except InvalidNumber as exc:
        return exc.message


def _us_per_number(
    path: Callable[[str], object], items: list[str], repeats: int
) -> tuple[float, float]:
    """Best wall-clock and best CPU µs per number of `repeats` passes over `items`, with an
    empty cache before each (CPU time moves less on a shared machine)."""
    wall = cpu = float("inf")
    for _ in range(repeats):
        numbers._normalize_cached.cache_clear()
        start, start_cpu = time.perf_counter(), time.process_time()
        for raw in items:
            path(raw)
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return wall / len(items) * 1e6, cpu / len(items) * 1e6


def run() -> dict[str, float]:
    """Measure and return the figures, keyed by what was measured."""
    items = make_numbers()
    numbers._normalize_cached.cache_clear()
    start = time.perf_counter()  # the first pass compiles the plans of these calling codes
    new_results = [new_path(raw) for raw in items]
    first_pass = (time.perf_counter() - start) / len(items) * 1e6
    old_results = [old_path(raw) for raw in items]
    differ = [raw for raw, a, b in zip(items, old_results, new_results, strict=True) if a != b]
    if differ:
        sys.exit(f"the paths disagree on {len(differ)} numbers, e.g. {differ[:3]}")
    old, old_cpu = _us_per_number(old_path, items, repeats=3)
    new, new_cpu = _us_per_number(new_path, items, repeats=5)
    valid = sum(isinstance(result, numbers.PhoneNumber) for result in new_results)
    return {
        "old_phonenumbers_us_per_new_number": old,
        "new_normalize_us_per_new_number": new,
        "old_phonenumbers_cpu_us_per_new_number": old_cpu,
        "new_normalize_cpu_us_per_new_number": new_cpu,
        "new_first_pass_us_per_number_with_plan_compilation": first_pass,
        "speedup": old / new,
        "valid_fraction": valid / len(items),
    }


def main() -> None:
    figures = run()
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value:>10,.2f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "phone_numbers",
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "note": f"{COUNT:,} distinct '+' numbers of {', '.join(REGIONS)}; each new to the cache",
        "figures": figures,
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
