"""SMPP ingress benchmark (issue 4): one ESME bind, window 100, N submit_sm into the gateway.

Starts the SMSC simulator and the gateway (`smsgate run`, SQLite in a temporary directory,
its customer SMPP server on a free port) as separate processes, like bench/e2e.py, with an
account and its SMPP login made beforehand (`smsgate accounts create --admin`, then the admin
API). This process is the ESME: a raw asyncio protocol around smsgate's sans-I/O
`smsgate.smpp.Connection`, bound as a transceiver, keeping `--window` submit_sm outstanding.

Phase 1: N submit_sm of 160 GSM characters without registered_delivery. Acknowledged
submits/s = N ÷ seconds from the first submit_sm written to the last submit_sm_resp read;
every ESME_ROK is durable (the gateway commits the message before answering). The phase ends
when the simulator has received the N messages and sent their receipts to the gateway, so
that phase 2 starts on an idle gateway.

Phase 2: the same N with registered_delivery=1, each deliver_sm receipt answered with
deliver_sm_resp. Full cycle messages/s = N ÷ seconds from the first submit_sm to the last
receipt; every receipt's receipted_message_id must be one of the ids the gateway returned.

Also reports p50/p99 submit→resp latency, gateway CPU per message and peak RSS, and writes
bench/results/smpp_ingress.json. Figures only: it asserts nothing about speed, but exits 1
when a submit was not answered ESME_ROK or a receipt did not come back within --timeout.

    .venv/bin/python bench/smpp_ingress.py [-n 20000] [--window 100] [--receipt-delay 1.0]
    .venv/bin/python bench/smpp_ingress.py --profile /tmp/gw.prof   # gateway under cProfile
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

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
from _loadgen import get_json
from smsgate.smpp import (
    CommandStatus,
    DeliverSm,
    EsmClass,
    Pdu,
    SubmitSm,
    SubmitSmResp,
    TlvTag,
    tlv_value,
)
from smsgate.testing.esme import EsmeProtocol, connect

RESULTS = Path(__file__).resolve().parent / "results" / "smpp_ingress.json"
TARGET = 3000  # durable submits/s (issue 4)
GOAL = 10_000
SYSTEM_ID = "bench"
PASSWORD = "benchpw"
TEXT = ("Your order 4711 has shipped; track it at example.com/t?id=4711 (ETA 2 days). " * 3)[:160]
CONFIG = """\
database_url = "sqlite:///{data}/smsgate.db"
http_host = "{host}"
http_port = 0
smpp_enabled = true
smpp_host = "{host}"
smpp_port = 0
log_level = "WARNING"
{extra}

[[connectors]]
name = "sim"
type = "smpp"
host = "{host}"
port = {sim_port}
system_id = "bench"
password = "bench"
window = {connector_window}

[[routes]]
prefix = ""
connectors = ["sim"]
"""


@dataclass(slots=True)
class Phase:
    """One run of N submit_sm over the bind, and what came back."""

    n: int
    registered_delivery: int
    sent: int = 0
    started: float = 0.0
    last_resp: float = 0.0
    last_receipt: float = 0.0
    sent_at: dict[int, float] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    ids: set[str] = field(default_factory=set)
    receipts: set[str] = field(default_factory=set)
    duplicate_receipts: int = 0
    foreign_receipts: int = 0  # receipted_message_id not among this phase's ids (yet)
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    receipted: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def responses(self) -> int:
        return len(self.latencies)

    def submit(self, seq: int) -> SubmitSm:
        i = self.sent
        return SubmitSm(
            sequence_number=seq,
            source_addr_ton=5,
            source_addr="Shop",
            dest_addr_ton=1,
            dest_addr_npi=1,
            # Unique numbers whose last four digits stay below 9000: the simulator treats
            # …9990-…9995 as failure cases (no receipt, dropped connection, …).
            destination_addr=f"4917{i // 9000:04d}{i % 9000:04d}",
            registered_delivery=self.registered_delivery,
            data_coding=0,
            short_message=TEXT.encode("ascii"),
        )


class Esme(EsmeProtocol):
    """The benchmark's ESME (smsgate.testing's): window-full pipelining of the running
    phase's submit_sm, its responses and receipts counted."""

    def __init__(self, window: int) -> None:
        super().__init__(window=window)
        self.phase: Phase | None = None
        self.other_pdus: dict[str, int] = {}

    # -- events ------------------------------------------------------------------------

    def handle(self, pdu: Pdu, out: list[bytes]) -> None:
        phase = self.phase
        if isinstance(pdu, SubmitSmResp) and phase is not None:
            now = time.perf_counter()
            phase.latencies.append(now - phase.sent_at.pop(pdu.sequence_number))
            status = int(pdu.command_status)
            phase.statuses[status] = phase.statuses.get(status, 0) + 1
            if status == CommandStatus.ESME_ROK:
                phase.ids.add(pdu.message_id)
            if phase.responses == phase.n:
                phase.last_resp = now
                phase.answered.set()
        else:
            super().handle(pdu, out)

    def on_deliver_sm(self, pdu: DeliverSm) -> None:
        if pdu.esm_class & EsmClass.DELIVERY_RECEIPT and self.phase is not None:
            self._receipt(self.phase, pdu)
        else:
            self.other_pdus["deliver_sm"] = self.other_pdus.get("deliver_sm", 0) + 1

    def on_unexpected(self, pdu: Pdu) -> None:
        name = type(pdu).__name__
        self.other_pdus[name] = self.other_pdus.get(name, 0) + 1

    def _receipt(self, phase: Phase, pdu: DeliverSm) -> None:
        rid = tlv_value(pdu.tlvs, TlvTag.RECEIPTED_MESSAGE_ID)
        if not isinstance(rid, str) or rid not in phase.ids:
            phase.foreign_receipts += 1
        elif rid in phase.receipts:
            phase.duplicate_receipts += 1
        else:
            phase.receipts.add(rid)
            if len(phase.receipts) == phase.n:
                phase.last_receipt = time.perf_counter()
                phase.receipted.set()

    def after_events(self, out: list[bytes]) -> None:
        """Fill the window with submit_sm of the running phase."""
        phase = self.phase
        if phase is None:
            return
        conn = self.conn
        now = time.perf_counter()
        while phase.sent < phase.n and conn.window_available > 0:
            seq = conn.next_sequence()
            out.append(conn.send(phase.submit(seq)))
            phase.sent_at[seq] = now
            phase.sent += 1

    async def run(self, phase: Phase, seconds: float) -> None:
        """Send the phase's N submit_sm; return when all are answered (and receipted)."""
        self.phase = phase
        phase.started = time.perf_counter()
        out: list[bytes] = []
        self.after_events(out)
        self.write(out)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await phase.answered.wait()
                if phase.registered_delivery:
                    await phase.receipted.wait()


@dataclass(slots=True)
class Gateway:
    """The gateway's processes: one (`--roles all`), or an SMPP node and a worker (`split`)."""

    processes: list[Child]

    def cpu_s(self) -> float:
        return sum(p.cpu_s() or 0.0 for p in self.processes)

    def peak_rss_mb(self) -> dict[str, float | None]:
        return {p.name: p.peak_rss_mb() for p in self.processes}


async def _start_gateway(
    config: Path, tmp: Path, args: argparse.Namespace, children: list[Child]
) -> tuple[Gateway, int, int]:
    def argv(name: str) -> list[str]:
        if args.profile:
            out = args.profile if name == "gateway" else f"{args.profile}.{name}"
            return [sys.executable, "-m", "cProfile", "-o", out, "-m", "smsgate.cli"]
        return [str(BIN / "smsgate")]

    roles = {"gateway": "all"} if args.roles == "all" else {"worker": "api,worker", "smpp": "smpp"}
    gateway = Gateway([])
    http_port = smpp_port = 0
    for name, role in roles.items():
        child = await Child.spawn(
            name,
            [*argv(name), "run", "--config", str(config), "--role", role],
            tmp / f"{name}.log",
            args.loop,
        )
        children.append(child)
        gateway.processes.append(child)
        if "api" in role or role == "all":
            http_port = int((await child.wait_for_line(r"listening on http://[\d.]+:(\d+)", 60))[1])
        if "smpp" in role or role == "all":
            smpp_port = int((await child.wait_for_line(r"SMPP server on [\d.]+:(\d+)", 60))[1])
        child.drain()
        print(f"{name} ({role}) pid {child.proc.pid}", flush=True)  # for py-spy and top
    return gateway, http_port, smpp_port


async def _smpp_login(http_port: int, account: str, key: str) -> None:
    """The account's SMPP login through the admin API: no rate limit, window from the bind."""
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{http_port}", timeout=10) as client:
        resp = await client.post(
            f"/api/v1/admin/accounts/{account}/smpp",
            json={"system_id": SYSTEM_ID, "password": PASSWORD, "max_binds": 2},
            headers={"Authorization": f"Bearer {key}"},
        )
    if resp.status_code != 201:
        raise RuntimeError(f"SMPP login not created: {resp.status_code} {resp.text}")


def _phase_figures(
    phase: Phase, cpu_s: float, quiet_at: float | None, smsc_at: float | None
) -> dict[str, Any]:
    t0 = phase.started
    ok = phase.statuses.get(0, 0)
    end = phase.last_receipt if phase.registered_delivery else quiet_at
    lat = phase.latencies
    figures: dict[str, Any] = {
        "registered_delivery": phase.registered_delivery,
        "submit_sm_sent": phase.sent,
        "submit_sm_resp": phase.responses,
        "esme_rok": ok,
        "non_ok_statuses": {f"0x{s:08X}": c for s, c in sorted(phase.statuses.items()) if s},
        "acked_submits_per_s": (
            round(phase.n / (phase.last_resp - t0), 1) if phase.answered.is_set() else None
        ),
        "submit_resp_latency_ms": {
            "p50": round(percentile(lat, 0.50) * 1000, 2),
            "p99": round(percentile(lat, 0.99) * 1000, 2),
            "max": round(max(lat, default=float("nan")) * 1000, 2),
        },
        "forwarded_to_smsc_per_s": round(phase.n / (smsc_at - t0), 1) if smsc_at else None,
        "seconds": {
            "acked_all": round(phase.last_resp - t0, 3) if phase.answered.is_set() else None,
            "smsc_received_all": round(smsc_at - t0, 3) if smsc_at else None,
            "phase": round(end - t0, 3) if end else None,
        },
        "gateway_cpu_s": round(cpu_s, 2),
        "gateway_cpu_ms_per_message": round(cpu_s * 1000 / phase.n, 3),
        "gateway_cpu_share": round(cpu_s / (end - t0), 2) if end else None,
    }
    if phase.registered_delivery:
        figures |= {
            "full_cycle_per_s": (
                round(phase.n / (phase.last_receipt - t0), 1) if phase.receipted.is_set() else None
            ),
            "receipts": len(phase.receipts),
            "receipts_missing": phase.n - len(phase.receipts),
            "duplicate_receipts": phase.duplicate_receipts,
            "foreign_receipts": phase.foreign_receipts,
        }
    return figures


async def _phase(
    esme: Esme,
    gateway: Gateway,
    control_port: int,
    registered_delivery: int,
    args: argparse.Namespace,
) -> dict[str, Any]:
    _status, base = await _get_stats(control_port)
    watch = SmscWatch(control_port, base, args.n)
    watcher = asyncio.create_task(watch.run())
    phase = Phase(args.n, registered_delivery)
    cpu_before = gateway.cpu_s()
    try:
        await esme.run(phase, args.timeout)
        # Phase 1 ends when the gateway is idle again: every message at the SMSC and every
        # receipt sent back to the gateway (phase 2 ends at its last receipt anyway).
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0 if args.ingress_only else args.timeout):
                await watch.receipts_done.wait()
    finally:
        watcher.cancel()
    quiet_at = time.perf_counter() if watch.receipts_done.is_set() else None
    if registered_delivery:
        quiet_at = phase.last_receipt or None
    elif args.ingress_only:
        quiet_at = phase.last_resp or None
    cpu = gateway.cpu_s() - cpu_before
    return _phase_figures(phase, cpu, quiet_at, watch.submitted_at)


async def _get_stats(control_port: int) -> tuple[int, Any]:
    return await get_json(HOST, control_port, "/stats")


async def _measure(args: argparse.Namespace, tmp: Path, children: list[Child]) -> dict[str, Any]:
    sim, sim_port, control_port = await start_simulator(
        tmp, receipt_delay=args.receipt_delay, window=args.smsc_window, loop=args.loop
    )
    children.append(sim)
    config = tmp / "smsgate.toml"
    config.write_text(
        CONFIG.format(
            data=tmp,
            host=HOST,
            # --ingress-only: a port nothing listens on, so nothing leaves the gateway.
            sim_port=_closed_port() if args.ingress_only else sim_port,
            connector_window=args.connector_window,
            extra="\n".join(args.setting),
        )
    )
    account, key = await create_account(config)
    gateway, http_port, smpp_port = await _start_gateway(config, tmp, args, children)
    await _smpp_login(http_port, account, key)

    async def bound() -> bool | None:
        _status, stats = await _get_stats(control_port)
        return True if stats and stats["bound"] >= 1 else None

    if not args.ingress_only:
        await poll(bound, 30, f"the gateway to bind to the simulator (see {tmp}/*.log)")
    esme = await connect(lambda: Esme(args.window), HOST, smpp_port)
    await esme.bind(SYSTEM_ID, PASSWORD, seconds=10)
    try:
        submit = await _phase(esme, gateway, control_port, 0, args)
        receipts = None if args.ingress_only else await _phase(esme, gateway, control_port, 1, args)
    finally:
        await esme.unbind()
    return {
        "submit": submit,
        "registered_delivery": receipts,
        "unexpected_pdus": esme.other_pdus,
        "peak_rss_mb": {**gateway.peak_rss_mb(), "simulator": sim.peak_rss_mb()},
    }


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _lost(result: dict[str, Any], n: int) -> int:
    one, two = result["submit"], result["registered_delivery"]
    if two is None:
        return int(n - one["esme_rok"])
    return int((n - one["esme_rok"]) + (n - two["esme_rok"]) + two["receipts_missing"])


def _print(result: dict[str, Any]) -> None:
    one, two = result["submit"], result["registered_delivery"]
    rows = [
        ("submit_sm", f"{result['n']} × {len(TEXT)} GSM chars, window {result['window']}"),
        ("acked submits/s", f"{one['acked_submits_per_s']}  (need ≥ {TARGET}, goal {GOAL})"),
        ("  latency ms", _lat(one)),
        ("  forwarded to SMSC/s", one["forwarded_to_smsc_per_s"]),
        ("  gateway CPU", _cpu(one)),
        ("  non-OK", one["non_ok_statuses"] or 0),
    ]
    if two is not None:
        rows += _receipt_rows(result)
    rows += [
        ("peak RSS MB", json.dumps(result["peak_rss_mb"])),
        ("lost", result["lost"]),
    ]
    for name, value in rows:
        print(f"  {name:<22} {value}")


def _receipt_rows(result: dict[str, Any]) -> list[tuple[str, Any]]:
    two = result["registered_delivery"]
    delay, duplicates = result["receipt_delay_s"], two["duplicate_receipts"]
    return [
        ("with receipts", "registered_delivery=1"),
        ("  acked submits/s", two["acked_submits_per_s"]),
        ("  latency ms", _lat(two)),
        ("  full cycle msg/s", f"{two['full_cycle_per_s']}  (receipts after {delay} s)"),
        ("  gateway CPU", _cpu(two)),
        ("  receipts missing", f"{two['receipts_missing']}, duplicates {duplicates}"),
    ]


def _lat(phase: dict[str, Any]) -> str:
    lat = phase["submit_resp_latency_ms"]
    return f"p50 {lat['p50']}  p99 {lat['p99']}  max {lat['max']}"


def _cpu(phase: dict[str, Any]) -> str:
    return f"{phase['gateway_cpu_ms_per_message']} ms/msg, {phase['gateway_cpu_share']} of a core"


async def _main(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="smsgate-smpp-ingress-"))
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
    result: dict[str, Any] = {
        "benchmark": "smpp_ingress",
        "timestamp": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        "revision": measured,
        "command": " ".join([".venv/bin/python", "bench/smpp_ingress.py", *sys.argv[1:]]),
        "n": args.n,
        "window": args.window,
        "text_chars": len(TEXT),
        "receipt_delay_s": args.receipt_delay,
        "connector_window": args.connector_window,
        "smsc_deliver_window": args.smsc_window,
        "event_loop": args.loop,
        "extra_settings": args.setting,
        "durable": "each ESME_ROK is sent after the message's commit (SQLite WAL)",
        "profiled": bool(args.profile),
        "ingress_only": args.ingress_only,
        "gateway_roles": args.roles,
        **figures,
        "bench_process_cpu_s": round(resource.getrusage(resource.RUSAGE_SELF).ru_utime, 2),
        "loadavg_at_end": list(os.getloadavg()),
        "exit_codes": codes,
        "target_acked_submits_per_s": TARGET,
        "goal_acked_submits_per_s": GOAL,
        "machine": machine_info,
    }
    result["lost"] = _lost(result, args.n)
    _print(result)
    if not (args.profile or args.ingress_only):
        out = RESULTS if args.roles == "all" else RESULTS.with_name("smpp_ingress_split.json")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {out}")
    return 0 if result["lost"] == 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("-n", type=int, default=20_000, help="submit_sm per phase")
    parser.add_argument("--window", type=int, default=100, help="the ESME's outstanding submits")
    parser.add_argument("--receipt-delay", type=float, default=1.0, help="simulator, seconds")
    parser.add_argument("--connector-window", type=int, default=100, help="gateway → SMSC")
    parser.add_argument("--smsc-window", type=int, default=100, help="simulator deliver_sm")
    parser.add_argument("--timeout", type=float, default=180.0, help="per phase, seconds")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument(
        "--setting", action="append", default=[], metavar="KEY=VALUE", help="gateway TOML line"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--roles",
        choices=("all", "split"),
        default="all",
        help="all: one gateway process; split: an SMPP node (--role smpp) and a worker "
        "(--role api,worker) on the same database",
    )
    parser.add_argument("--profile", metavar="FILE", help="run the gateway under cProfile")
    parser.add_argument(
        "--ingress-only",
        action="store_true",
        help="diagnosis: the connector points at a closed port, so the gateway only accepts "
        "and queues (phase 1 alone; results not written)",
    )
    args = parser.parse_args(argv)
    try:
        import uvloop
    except ImportError:
        return asyncio.run(_main(args))
    return uvloop.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
