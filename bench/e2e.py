"""End-to-end benchmark (issue 3): REST accept → SMPP submit → delivery receipt → webhook.

Starts a fake SMSC (smsgate's SMSC simulator, each receipt sent `--receipt-delay` seconds after
its submit, deliver_sm window `--smsc-window`) and the gateway (`smsgate run`, SQLite in a
temporary directory) as separate processes, posts N single messages over HTTP from `-c`
concurrent keep-alive clients, each with a `callback_url` to a sink in this process, and waits
for every `delivered` callback.

Reports accepts/s, submits/s, full cycle messages/s (N ÷ seconds from the first request to the
last `delivered` callback), p50/p99 accept latency and peak RSS, and writes
bench/results/e2e.json. Figures only: it asserts nothing about speed, but exits 1 when a message
was lost (not delivered within --timeout) or a request was not answered 202.

Durability: the gateway answers 202 only after the message's transaction has committed
(`MessageService.send` awaits the store's group commit; SQLite WAL, synchronous=NORMAL).

    .venv/bin/python bench/e2e.py [-n 5000] [-c 50] [--receipt-delay 1.0] [--keep]
    .venv/bin/python bench/e2e.py --profile /tmp/gw.prof   # the gateway under cProfile
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import (
    BIN,
    HOST,
    Child,
    SmscWatch,
    create_account,
    machine,
    percentile,
    poll,
    revision,
    start_simulator,
)
from _loadgen import LoadResult, Sink, get_json, post_request, run_clients

RESULTS = Path(__file__).resolve().parent / "results" / "e2e.json"
# Same workload, same kind of machine (issue 3).
REFERENCE = {
    "kannel-1.4.5": {"accepts_per_s": 3388, "full_cycle_per_s": 1482},
    "jasmin-0.11": {"accepts_per_s": 809, "full_cycle_per_s": 54},
}
TARGET_FULL_CYCLE = 740
CONFIG = """\
database_url = "sqlite:///{data}/smsgate.db"
http_host = "{host}"
http_port = 0
smpp_enabled = false
log_level = "WARNING"
webhook_allowed_networks = ["127.0.0.0/8", "::1/128"]
{extra}

[[connectors]]
name = "sim"
type = "smpp"
host = "{host}"
port = {smpp_port}
system_id = "bench"
password = "bench"
window = {window}

[[routes]]
prefix = ""
connectors = ["sim"]
"""


def _requests(n: int, port: int, key: str, callback_url: str | None) -> list[bytes]:
    requests = []
    for i in range(n):
        message = {
            "to": f"+35988{i:07d}",
            "from": "smsgate",
            "text": f"Benchmark message {i}: your code is {i * 7919 % 1000000:06d}",
        }
        if callback_url is not None:
            message["callback_url"] = callback_url
        body = json.dumps(message).encode()
        requests.append(post_request(HOST, port, "/api/v1/messages", key, body))
    return requests


async def _start_gateway(
    config: Path, tmp: Path, profile: str | None, loop: str
) -> tuple[Child, int]:
    if profile:
        argv = [sys.executable, "-m", "cProfile", "-o", profile, "-m", "smsgate.cli"]
    else:
        argv = [str(BIN / "smsgate")]
    gateway = await Child.spawn(
        "gateway", [*argv, "run", "--config", str(config)], tmp / "gateway.log", loop
    )
    match = await gateway.wait_for_line(r"listening on http://[\d.]+:(\d+)", 60)
    gateway.drain()
    port = int(match.group(1))
    print(f"gateway pid {gateway.proc.pid} on port {port}", flush=True)  # for py-spy and top

    async def ready() -> bool | None:
        status, _ = await get_json(HOST, port, "/readyz", seconds=2)
        return True if status == 200 else None

    await poll(ready, 30, "the gateway's /readyz")
    return gateway, port


async def _measure(args: argparse.Namespace, tmp: Path, children: list[Child]) -> dict[str, Any]:
    sim, smpp_port, control_port = await start_simulator(
        tmp, receipt_delay=args.receipt_delay, window=args.smsc_window, loop=args.loop
    )
    children.append(sim)
    config = tmp / "smsgate.toml"
    extra = "\n".join(args.setting)
    config.write_text(
        CONFIG.format(data=tmp, host=HOST, smpp_port=smpp_port, window=args.window, extra=extra)
    )
    _account, key = await create_account(config)
    gateway, http_port = await _start_gateway(config, tmp, args.profile, args.loop)
    children.append(gateway)

    async def bound() -> dict[str, Any] | None:
        _status, stats = await get_json(HOST, control_port, "/stats")
        return stats if stats and stats["bound"] >= 1 else None

    before = await poll(
        bound, 30, f"the gateway to bind to the simulator (see {tmp}/*.log; try --loop asyncio)"
    )
    sink = Sink(expected=args.n)
    await sink.start(HOST)
    callback = None if args.no_callbacks else f"http://{HOST}:{sink.port}/callback"
    requests = _requests(args.n, http_port, key, callback)
    watch = SmscWatch(control_port, before, args.n)
    cpu_before = gateway.cpu_s() or 0.0
    watcher = asyncio.create_task(watch.run())
    try:
        load = await run_clients(HOST, http_port, requests, args.concurrency, args.timeout)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(args.timeout):
                await (watch.receipts_done if args.no_callbacks else sink.done).wait()
        ended = time.perf_counter()
        with contextlib.suppress(TimeoutError):  # the last poll of /stats may still be due
            async with asyncio.timeout(2):
                await watch.receipts_done.wait()
    finally:
        watcher.cancel()
        await sink.stop()
    cpu = (gateway.cpu_s() or 0.0) - cpu_before
    rss = {"gateway": gateway.peak_rss_mb(), "simulator": sim.peak_rss_mb()}
    return _figures(args, load, sink, watch, ended, cpu, rss)


def _figures(
    args: argparse.Namespace,
    load: LoadResult,
    sink: Sink,
    watch: SmscWatch,
    ended: float,
    gateway_cpu_s: float,
    rss: dict[str, float | None],
) -> dict[str, Any]:
    n, t0 = args.n, load.started
    accepted = set(load.ids)
    sent_times = sorted(sink.sent_at[i] for i in accepted & sink.sent_at.keys())
    if args.no_callbacks:  # diagnosis only: the cycle ends at the simulator's last receipt
        delivered_count = n if watch.receipts_at is not None else 0
        last_delivered = watch.receipts_at or ended
    else:
        delivered = accepted & sink.delivered_at.keys()
        delivered_count = len(delivered)
        last_delivered = max((sink.delivered_at[i] for i in delivered), default=ended)
    complete = delivered_count == n
    return {
        "accepts_per_s": round(n / (load.finished - t0), 1),
        "submits_per_s": round(n / (watch.submitted_at - t0), 1) if watch.submitted_at else None,
        "sent_callbacks_per_s": (
            round(len(sent_times) / (sent_times[-1] - sent_times[0]), 1)
            if len(sent_times) > 1
            else None
        ),
        "full_cycle_per_s": round(n / (last_delivered - t0), 1) if complete else None,
        "full_cycle_ends_at": (
            "the simulator's last receipt" if args.no_callbacks else "the last delivered callback"
        ),
        "accept_latency_ms": {
            "p50": round(percentile(load.latencies, 0.50) * 1000, 2),
            "p99": round(percentile(load.latencies, 0.99) * 1000, 2),
            "max": round(max(load.latencies, default=float("nan")) * 1000, 2),
        },
        "seconds": {
            "accept_all": round(load.finished - t0, 3),
            "submit_all": round(watch.submitted_at - t0, 3) if watch.submitted_at else None,
            # The simulator wrote its N-th receipt (deliver_sm) this long after the start.
            "receipts_all": round(watch.receipts_at - t0, 3) if watch.receipts_at else None,
            "full_cycle": round(last_delivered - t0, 3),
        },
        "peak_rss_mb": rss,
        "gateway_cpu_s": round(gateway_cpu_s, 2),
        "gateway_cpu_ms_per_message": round(gateway_cpu_s * 1000 / n, 3),
        # Below ~0.9 of a core the gateway was starved by other processes on the machine.
        "gateway_cpu_share": round(gateway_cpu_s / (last_delivered - t0), 2),
        "http_statuses": {str(k): v for k, v in sorted(load.statuses.items())},
        "http_errors": load.errors,
        "accepted": len(accepted),
        "delivered": delivered_count,
        "not_delivered": n - delivered_count,
        "duplicate_callbacks": sink.duplicates,
        "other_callbacks": sink.other,
        "simulator_stats": watch.last,
    }


def _print(result: dict[str, Any]) -> None:
    lat = result["accept_latency_ms"]
    rows = [
        ("messages", f"{result['n']} over {result['concurrency']} keep-alive clients"),
        ("accepts/s", result["accepts_per_s"]),
        ("submits/s", result["submits_per_s"]),
        ("full cycle msg/s", f"{result['full_cycle_per_s']}  (target ≥ {TARGET_FULL_CYCLE})"),
        ("accept latency ms", f"p50 {lat['p50']}  p99 {lat['p99']}  max {lat['max']}"),
        ("peak RSS MB", json.dumps(result["peak_rss_mb"])),
        (
            "gateway CPU",
            f"{result['gateway_cpu_ms_per_message']} ms/msg, "
            f"{result['gateway_cpu_share']} of a core (load {result['loadavg_at_end'][0]:.1f})",
        ),
        ("not delivered", result["not_delivered"]),
        ("duplicate callbacks", result["duplicate_callbacks"]),
        ("Kannel 1.4.5 ref", "3,388 accepts/s, 1,482 msg/s full cycle"),
        ("Jasmin 0.11 ref", "809 accepts/s, 54 msg/s full cycle"),
    ]
    for name, value in rows:
        print(f"  {name:<20} {value}")


async def _main(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="smsgate-e2e-"))
    children: list[Child] = []
    started = time.time()
    try:
        machine_info, measured = machine(), revision()
        figures = await _measure(args, tmp, children)
    finally:
        codes = {c.name: await c.stop() for c in reversed(children)}
        if args.keep:
            print(f"kept {tmp} (config, database, logs)")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    result = {
        "benchmark": "e2e",
        "timestamp": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        "revision": measured,
        "n": args.n,
        "concurrency": args.concurrency,
        "receipt_delay_s": args.receipt_delay,
        "connector_window": args.window,
        "smsc_deliver_window": args.smsc_window,
        "event_loop": args.loop,
        "extra_settings": args.setting,
        "durable": "each 202 is sent after the message's commit (SQLite WAL)",
        "profiled": bool(args.profile),
        **figures,
        "bench_process_cpu_s": round(resource.getrusage(resource.RUSAGE_SELF).ru_utime, 2),
        "loadavg_at_end": list(os.getloadavg()),
        "exit_codes": codes,
        "target_full_cycle_per_s": TARGET_FULL_CYCLE,
        "reference": REFERENCE,
        "machine": machine_info,
    }
    _print(result)
    if not (args.profile or args.no_callbacks):
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {RESULTS}")
    return 0 if result["not_delivered"] == 0 and result["accepted"] == args.n else 1


# Kept until bench/webhooks.py imports bench/_harness.py: it imports these names from here.
_machine, _poll, _revision = machine, poll, revision


async def _create_account(config: Path) -> str:
    return (await create_account(config))[1]


async def _start_simulator(tmp: Path, args: argparse.Namespace) -> tuple[Child, int, int]:
    return await start_simulator(
        tmp, receipt_delay=args.receipt_delay, window=args.smsc_window, loop=args.loop
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("-n", type=int, default=5000, help="messages (default 5000)")
    parser.add_argument("-c", "--concurrency", type=int, default=50, help="HTTP clients")
    parser.add_argument("--receipt-delay", type=float, default=1.0, help="seconds")
    parser.add_argument("--window", type=int, default=100, help="the connector's SMPP window")
    parser.add_argument(
        "--smsc-window",
        type=int,
        default=100,
        help="the simulator's deliver_sm window (default 100; the stock simulator has 10)",
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="per phase, seconds")
    parser.add_argument(
        "--loop",
        choices=("uvloop", "asyncio"),
        default="uvloop",
        help="event loop of the gateway and the simulator (SMSGATE_LOOP; default uvloop)",
    )
    parser.add_argument(
        "--no-callbacks",
        action="store_true",
        help="diagnosis: no callback_url; the cycle ends at the simulator's last receipt",
    )
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra top-level TOML line for the gateway, e.g. webhook_concurrency=8",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--profile", metavar="FILE", help="run the gateway under cProfile")
    args = parser.parse_args(argv)
    try:
        import uvloop
    except ImportError:
        return asyncio.run(_main(args))
    return uvloop.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
