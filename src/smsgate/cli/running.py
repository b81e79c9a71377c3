"""What the sub-commands share: the event loop, the garbage collector's tuning, signals."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
from collections.abc import Coroutine


def run(coro: Coroutine[object, None, int]) -> int:
    """Run on uvloop (faster sockets) unless SMSGATE_LOOP=asyncio asks for the standard loop."""
    if os.environ.get("SMSGATE_LOOP", "uvloop") == "asyncio":
        return asyncio.run(coro)
    import uvloop

    return uvloop.run(coro)


# The cyclic garbage collector's first generation is collected every 700 new container
# objects by default; a gateway allocates several per message (records, dicts, futures),
# and a profile of the worker found 19 % of its event loop in gc_collect_main. Our objects
# rarely form cycles, so the collector can run far less often; start-up objects (modules,
# table metadata, numbering plans) are frozen out of its view altogether.
GC_THRESHOLDS = (50_000, 20, 20)


def tune_gc() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def stop_signal() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM from now on. Install it before starting anything:
    a signal that comes while the command starts (a script that stops it as soon as it has
    read the first lines) then stops it once it is up, instead of killing it half-way."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop
