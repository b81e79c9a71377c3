"""What the benchmarks that run the gateway as processes share: child processes and their
figures (CPU, peak RSS), readiness polling, the SMSC simulator process and its /stats
watch, account creation through the CLI, percentiles, and the machine and revision a
result was measured on. Imported as `_harness` by the scripts in bench/ (each adds bench/
to sys.path); no script imports another script.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import platform
import re
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from _loadgen import get_json

T = TypeVar("T")
HOST = "127.0.0.1"
BIN = Path(sys.executable).parent


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
        return proc_status_kb(self.proc.pid, "VmHWM")

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


def proc_status_kb(pid: int, key: str) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


async def poll(check: Callable[[], Awaitable[T | None]], seconds: float, what: str) -> T:
    """Poll `check` every 50 ms until it returns a value (bounded readiness for a benchmark)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, TimeoutError):
            value = await check()
            if value is not None:
                return value
        await asyncio.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")


async def create_account(config: Path, name: str = "bench") -> tuple[str, str]:
    """`smsgate accounts create NAME --admin`: (account id, admin API key)."""
    proc = await asyncio.create_subprocess_exec(
        str(BIN / "smsgate"),
        *("accounts", "create", name, "--admin", "--config", str(config)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    async with asyncio.timeout(60):
        out, _ = await proc.communicate()
    text = out.decode()
    account = re.search(r"account (\S+) \(", text)
    key = re.search(r"API key \(shown once\): (\S+)", text)
    if proc.returncode != 0 or account is None or key is None:
        raise RuntimeError(f"smsgate accounts create failed: {text}")
    return account.group(1), key.group(1)


def percentile(values: list[float], q: float) -> float:
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


def simulator_argv(receipt_delay: float, window: int) -> list[str]:
    config = {
        "host": HOST,
        "port": 0,
        "system_id": "bench",
        "password": "bench",
        "receipt_delay": receipt_delay,
        "window": window,
    }
    return [sys.executable, "-c", SIMULATOR, json.dumps(config)]


async def start_simulator(
    tmp: Path, *, receipt_delay: float, window: int, loop: str
) -> tuple[Child, int, int]:
    """The SMSC simulator as a child process: (child, SMPP port, control API port)."""
    sim = await Child.spawn(
        "simulator", simulator_argv(receipt_delay, window), tmp / "simulator.log", loop
    )
    smpp = await sim.wait_for_line(r"listening on [\d.]+:(\d+)", 30)
    control = await sim.wait_for_line(r"control API on http://[\d.]+:(\d+)", 30)
    sim.drain()
    return sim, int(smpp.group(1)), int(control.group(1))


def revision() -> str:
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


def machine() -> dict[str, Any]:
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
