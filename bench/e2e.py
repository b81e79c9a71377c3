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
import importlib.util
import json
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _loadgen import LoadResult, Sink, get_json, post_request, run_clients

T = TypeVar("T")
HOST = "127.0.0.1"
RESULTS = Path(__file__).resolve().parent / "results" / "e2e.json"
BIN = Path(sys.executable).parent
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


@dataclass(slots=True)
class Child:
    """A child process in its own process group, its output going to a log file."""

    name: str
    proc: asyncio.subprocess.Process
    log: Path
    lines: list[str] = field(default_factory=list)
    _drain: asyncio.Task[None] | None = None

    @classmethod
    async def spawn(cls, name: str, argv: list[str], log: Path, loop: str) -> Child:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            env={**os.environ, "SMSGATE_LOOP": loop},
            stdout=asyncio.subprocess.PIPE,
            stderr=log.open("wb"),
            start_new_session=True,  # its own group: stop() reaches grandchildren too
        )
        return cls(name, proc, log)

    async def wait_for_line(self, pattern: str, seconds: float) -> re.Match[str]:
        """The first stdout line matching `pattern` (bounded: this is a benchmark)."""
        assert self.proc.stdout is not None
        async with asyncio.timeout(seconds):
            while True:
                raw = await self.proc.stdout.readline()
                if not raw:
                    raise RuntimeError(f"{self.name} exited; see {self.log}")
                line = raw.decode(errors="replace").rstrip()
                self.lines.append(line)
                if match := re.search(pattern, line):
                    return match

    def drain(self) -> None:
        """Keep reading stdout so that the child never blocks on a full pipe."""

        async def run() -> None:
            assert self.proc.stdout is not None
            while line := await self.proc.stdout.readline():
                self.lines.append(line.decode(errors="replace").rstrip())

        self._drain = asyncio.create_task(run())

    def peak_rss_mb(self) -> float | None:
        return _proc_status_kb(self.proc.pid, "VmHWM")

    def cpu_s(self) -> float | None:
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def stop(self, grace: float = 30.0) -> int | None:
        """SIGINT (graceful: lets cProfile write its file), then SIGKILL the whole group."""
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGINT)
            try:
                async with asyncio.timeout(grace):
                    await self.proc.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                await self.proc.wait()
        if self._drain is not None:
            self._drain.cancel()
        return self.proc.returncode


def _proc_status_kb(pid: int, key: str) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


async def _poll(check: Callable[[], Awaitable[T | None]], seconds: float, what: str) -> T:
    """Poll `check` every 50 ms until it returns a value (bounded readiness for a benchmark)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, TimeoutError):
            value = await check()
            if value is not None:
                return value
        await asyncio.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")


async def _create_account(config: Path) -> str:
    proc = await asyncio.create_subprocess_exec(
        str(BIN / "smsgate"),
        "accounts",
        "create",
        "bench",
        "--admin",
        "--config",
        str(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    async with asyncio.timeout(60):
        out, _ = await proc.communicate()
    match = re.search(r"API key \(shown once\): (\S+)", out.decode())
    if proc.returncode != 0 or match is None:
        raise RuntimeError(f"smsgate accounts create failed: {out.decode()}")
    return match.group(1)


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


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass(slots=True)
class SmscWatch:
    """Polls the simulator's /stats (every 20 ms) to time when the last submit_sm arrived and
    when the last delivery receipt was written."""

    port: int
    base: dict[str, Any]
    target: int
    submitted_at: float | None = None
    receipts_at: float | None = None
    last: dict[str, Any] = field(default_factory=dict)
    receipts_done: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        while self.receipts_at is None:
            with contextlib.suppress(OSError, TimeoutError):
                _status, self.last = await get_json(HOST, self.port, "/stats")
                now = time.perf_counter()
                if self.submitted_at is None and self._done("submitted"):
                    self.submitted_at = now
                if self._done("receipts_sent"):
                    self.receipts_at = now
                    self.receipts_done.set()
            await asyncio.sleep(0.02)

    def _done(self, key: str) -> bool:
        return bool(self.last[key] - self.base[key] >= self.target)


# The simulator of `smsgate simulator smpp`, run through its Python API because the command has
# no option for the simulator's deliver_sm window (10 per session). With 10, receipts queue
# behind the gateway's commit latency and arrive seconds late instead of `receipt_delay` after
# their submit, which is not the workload of issue 3; --smsc-window 10 shows that effect.
SIMULATOR = """
import asyncio, json, signal, sys
from smsgate.cli import _run
from smsgate.simulators.smsc import SmscSimulatorConfig, run_simulator

async def main():
    task = asyncio.create_task(run_simulator(SmscSimulatorConfig(**json.loads(sys.argv[1])), 0))
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    task.cancel()
    return 0

sys.exit(_run(main()))
"""


def _simulator_argv(receipt_delay: float, window: int) -> list[str]:
    config = {
        "host": HOST,
        "port": 0,
        "system_id": "bench",
        "password": "bench",
        "receipt_delay": receipt_delay,
        "window": window,
    }
    return [sys.executable, "-c", SIMULATOR, json.dumps(config)]


async def _start_simulator(tmp: Path, args: argparse.Namespace) -> tuple[Child, int, int]:
    sim = await Child.spawn(
        "simulator",
        _simulator_argv(args.receipt_delay, args.smsc_window),
        tmp / "simulator.log",
        args.loop,
    )
    smpp = await sim.wait_for_line(r"listening on [\d.]+:(\d+)", 30)
    control = await sim.wait_for_line(r"control API on http://[\d.]+:(\d+)", 30)
    sim.drain()
    return sim, int(smpp.group(1)), int(control.group(1))


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

    await _poll(ready, 30, "the gateway's /readyz")
    return gateway, port


async def _measure(args: argparse.Namespace, tmp: Path, children: list[Child]) -> dict[str, Any]:
    sim, smpp_port, control_port = await _start_simulator(tmp, args)
    children.append(sim)
    config = tmp / "smsgate.toml"
    extra = "\n".join(args.setting)
    config.write_text(
        CONFIG.format(data=tmp, host=HOST, smpp_port=smpp_port, window=args.window, extra=extra)
    )
    key = await _create_account(config)
    gateway, http_port = await _start_gateway(config, tmp, args.profile, args.loop)
    children.append(gateway)

    async def bound() -> dict[str, Any] | None:
        _status, stats = await get_json(HOST, control_port, "/stats")
        return stats if stats and stats["bound"] >= 1 else None

    before = await _poll(
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
            "p50": round(_percentile(load.latencies, 0.50) * 1000, 2),
            "p99": round(_percentile(load.latencies, 0.99) * 1000, 2),
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


def _revision() -> str:
    """The commit measured, with "+dirty" when src/ has uncommitted changes."""
    root = Path(__file__).resolve().parent.parent
    spec = importlib.util.find_spec("smsgate")
    origin = Path(spec.origin).resolve().parent if spec and spec.origin else None
    if origin is not None and not origin.is_relative_to(root / "src"):
        return f"smsgate from {origin} (PYTHONPATH), not this checkout"
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, check=True
        ).stdout.decode()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "src"], cwd=root, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.strip() + ("+dirty" if dirty.strip() else "")


def _machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "loadavg_at_start": list(os.getloadavg()),
        "python": platform.python_version(),
        "platform": platform.platform(),
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
        machine, revision = _machine(), _revision()
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
        "revision": revision,
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
        "machine": machine,
    }
    _print(result)
    if not (args.profile or args.no_callbacks):
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {RESULTS}")
    return 0 if result["not_delivered"] == 0 and result["accepted"] == args.n else 1


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
