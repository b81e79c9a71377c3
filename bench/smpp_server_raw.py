"""SMPP server, protocol side alone: one bind, window 100, N submit_sm of 160 GSM characters
against `SmppServer` with `StaticHooks` (no database, so the figure bounds what the wired
gateway can reach over one bind).

The client runs in a child process (the machine has few cores: sharing one event loop with
the server would measure the client too). It pre-encodes one submit_sm, patches the
sequence_number per PDU, keeps `window` requests outstanding and reads responses by their
header only. Prints acknowledged submits per second and writes
bench/results/smpp_server_raw.json. Figures only: nothing is asserted about speed.

    .venv/bin/python bench/smpp_server_raw.py [--n 20000] [--window 100] [--repeat 5] [--uvloop]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import platform
import statistics
import struct
import sys
import time
from pathlib import Path

from smsgate.adapters.smpp_server import BoundAccount, SmppServer, SmppServerConfig, StaticHooks
from smsgate.smpp import BindTransmitter, SubmitSm, encode

RESULTS = Path(__file__).resolve().parent / "results" / "smpp_server_raw.json"
TEXT = ("Your order 4711 has shipped; track it at example.com/t?id=4711 (ETA 2 days). " * 3)[:160]
_HEAD = struct.Struct(">IIII")


async def _client(port: int, n: int, window: int) -> tuple[float, int]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(encode(BindTransmitter(sequence_number=1, system_id="bench", password="pw")))
    head = await reader.readexactly(16)
    length, _, status, _ = _HEAD.unpack(head)
    await reader.readexactly(length - 16)
    if status != 0:
        raise SystemExit(f"bind refused: 0x{status:X}")
    template = bytearray(
        encode(
            SubmitSm(
                sequence_number=1,
                source_addr_ton=5,
                source_addr="Shop",
                dest_addr_ton=1,
                dest_addr_npi=1,
                destination_addr="491701234567",
                registered_delivery=0,
                short_message=TEXT.encode("ascii"),
            )
        )
    )

    def submit(seq: int) -> bytes:
        struct.pack_into(">I", template, 12, seq)
        return bytes(template)

    failed = 0
    sent = answered = 0
    start = time.perf_counter()
    while answered < n:
        if sent < n and sent - answered < window:
            burst = min(n - sent, window - (sent - answered))
            writer.write(b"".join(submit(sent + i + 2) for i in range(burst)))
            sent += burst
        head = await reader.readexactly(16)
        length, _, status, _ = _HEAD.unpack(head)
        if length > 16:
            await reader.readexactly(length - 16)
        failed += status != 0
        answered += 1
    elapsed = time.perf_counter() - start
    writer.close()
    return elapsed, failed


def _client_process(
    port: int, n: int, window: int, repeat: int, out: multiprocessing.Queue[object]
) -> None:
    async def runs() -> list[tuple[float, int]]:
        return [await _client(port, n, window) for _ in range(repeat)]

    out.put(asyncio.run(runs()))


async def _serve(n: int, window: int, repeat: int) -> dict[str, object]:
    account = BoundAccount(account_id="bench", system_id="bench")
    hooks = StaticHooks({"bench": ("pw", account)})
    config = SmppServerConfig(port=0, max_inbound_window=window)
    async with SmppServer(config, hooks) as server:
        ctx = multiprocessing.get_context("spawn")
        out: multiprocessing.Queue[object] = ctx.Queue()
        child = ctx.Process(target=_client_process, args=(server.port, n, window, repeat, out))
        child.start()
        results = await asyncio.to_thread(out.get)
        await asyncio.to_thread(child.join)
    assert isinstance(results, list)
    failed = sum(f for _, f in results)
    if len(hooks.submits) != n * repeat or failed:
        raise SystemExit(f"{len(hooks.submits)} submits reached the hook, {failed} failed")
    rates = sorted(n / elapsed for elapsed, _ in results)
    return {
        "submits": n,
        "window": window,
        "runs": repeat,
        "submits_per_s_runs": rates,
        "submits_per_s": statistics.median(rates),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5, help="runs, one bind each")
    parser.add_argument("--uvloop", action="store_true", help="run the server on uvloop")
    args = parser.parse_args()
    if args.uvloop:
        import uvloop

        figures = uvloop.run(_serve(args.n, args.window, args.repeat))
    else:
        figures = asyncio.run(_serve(args.n, args.window, args.repeat))
    result = {
        "benchmark": "smpp_server_raw",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "loop": "uvloop" if args.uvloop else "asyncio",
        "command": " ".join([".venv/bin/python", *sys.argv]),
        "figures": figures,
    }
    print(
        f"smpp_server_raw ({result['loop']}): {figures['submits']} submit_sm, window "
        f"{figures['window']}: median {figures['submits_per_s']:,.0f} acknowledged submits/s"
        f" over {figures['runs']} runs"
    )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
