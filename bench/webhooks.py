"""Webhook delivery under a backlog (issue 10 §1): gateway CPU per accepted message and how fast
the callbacks drain, with receivers that are fast, slow or down, and on a database with a
history, each case against an empty database with a fast receiver.

Cases (each on a fresh gateway and database, the processes and workload of bench/e2e.py: the
SMSC simulator, `smsgate run` on SQLite, N messages over `-c` keep-alive clients, each with a
`callback_url` to a sink in this process that records the `sent` and `delivered` callbacks):

  empty    the baseline: empty database, the sink answers at once
  slow     the sink answers each callback after --slow-ms (200 ms)
  down     the sink is down (connections refused) for --down-s (60 s) from the first request,
           then up
  backlog  --messages (1,000,000) final messages with their parts, events, delivered
           callbacks and attempts, and --pending (100,000) pending deliveries (retries due in
           the next hours) preloaded with SQL; then the run; then the pending deliveries are
           made due, and their drain to the sink is timed

Figures only (nothing asserted); printed, and written to bench/results/webhooks.json.

    .venv/bin/python bench/webhooks.py                  # every case, full sizes
    .venv/bin/python bench/webhooks.py --quick          # a few minutes: smaller sizes
    .venv/bin/python bench/webhooks.py --cases empty,backlog --messages 200000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _loadgen import Sink, run_clients
from e2e import (
    BIN,
    CONFIG,
    HOST,
    Child,
    _create_account,
    _machine,
    _poll,
    _requests,
    _revision,
    _start_gateway,
    _start_simulator,
    get_json,
)

RESULTS = Path(__file__).resolve().parent / "results" / "webhooks.json"
CASES = ("empty", "slow", "down", "backlog")
CLAIM_SQL = (
    "SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ? "
    "ORDER BY next_attempt_at LIMIT 64"
)


@dataclass(slots=True)
class SlowSink(Sink):
    """The bench sink, answering each request after `delay_s`, on a port chosen beforehand
    (so that it can come up after the gateway has been calling it)."""

    delay_s: float = 0.0
    backlog_target: int = 0  # `backlog_done` once this many preloaded deliveries came
    backlog_done: asyncio.Event = field(default_factory=asyncio.Event)

    def _record(self, body: bytes, now: float) -> None:
        Sink._record(self, body, now)
        if self.backlog_target and self.other.get("backlog", 0) >= self.backlog_target:
            self.backlog_done.set()

    async def start_on(self, port: int) -> None:
        self._server = await asyncio.start_server(
            self._serve, HOST, port, backlog=1024, reuse_address=True
        )
        self.port = port

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.delay_s:
            return await Sink._serve(self, reader, writer)
        from _loadgen import _OK, read_message

        self._writers.add(writer)
        try:
            while True:
                try:
                    _head, body = await read_message(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                await asyncio.sleep(self.delay_s)
                writer.write(_OK)
                self._record(body, time.perf_counter())
        finally:
            self._writers.discard(writer)
            writer.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _write_config(path: Path, tmp: Path, smpp_port: int, args: argparse.Namespace) -> None:
    """The e2e config; loopback allowed for the sink where the gateway knows the setting."""
    extra = "\n".join(args.setting)
    allow = 'webhook_allowed_networks = ["127.0.0.0/8", "::1/128"]'
    for lines in (f"{allow}\n{extra}", extra):
        path.write_text(
            CONFIG.format(data=tmp, host=HOST, smpp_port=smpp_port, window=args.window, extra=lines)
        )
        check = subprocess.run(
            [str(BIN / "smsgate"), "check-config", "--config", str(path)], capture_output=True
        )
        if check.returncode == 0:
            return
    raise RuntimeError(f"smsgate check-config refused {path}: {check.stderr.decode()[-500:]}")


def _preload(db: Path, messages: int, pending: int, sink_port: int) -> dict[str, Any]:
    """Bulk history straight in SQLite (recursive CTEs: the rows are made in C): final
    messages with a part, an event, a delivered callback and its attempt each, and pending
    deliveries to the sink with retries due 10 minutes to 24 hours ahead."""
    started = time.perf_counter()
    now = time.time()
    conn = sqlite3.connect(db)
    try:
        (account,) = conn.execute("SELECT id FROM accounts LIMIT 1").fetchone()
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        seq = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?)"
        t0 = now - 2 * 86400
        conn.execute(
            f"{seq} INSERT INTO messages (id, account_id, direction, to_addr, from_addr, from_ton,"
            " from_npi, text, status, category, encoding, parts, connector, source,"
            " receipt_requested, created_at, sent_at, delivered_at, updated_at)"
            " SELECT printf('msg_pre%09d', x), ?, 'outbound', printf('+35988%07d', x),"
            " 'smsgate', 5, 0, 'A message of the history', 'delivered', 'transactional',"
            " 'gsm7', 1, 'sim', 'api', 0, ? + x * 0.1, ? + x * 0.1 + 0.5, ? + x * 0.1 + 1.5,"
            " ? + x * 0.1 + 1.5 FROM c",
            (messages, account, t0, t0, t0, t0),
        )
        conn.execute(
            f"{seq} INSERT INTO parts (message_id, seq, total, status, short_message, esm_class,"
            " data_coding, receipt_requested, connector, smsc_id, attempts, submitted_at,"
            " done_at) SELECT printf('msg_pre%09d', x), 1, 1, 'delivered', x'41', 0, 0, 1,"
            " 'sim', printf('pre%09d', x), 1, ? + x * 0.1 + 0.5, ? + x * 0.1 + 1.5 FROM c",
            (messages, t0, t0),
        )
        conn.execute(
            f"{seq} INSERT INTO status_events (message_id, seq, status, created_at)"
            " SELECT printf('msg_pre%09d', x), NULL, 'delivered', ? + x * 0.1 + 1.5 FROM c",
            (messages, t0),
        )
        callback = f"http://{HOST}:{sink_port}/callback"
        deliveries = (
            "INSERT INTO webhook_deliveries (id, event_id, event, account_id, webhook_id,"
            " message_id, url, payload, status, attempts, next_attempt_at, created_at,"
            " delivered_at, last_status_code)"
        )
        conn.execute(
            f"{seq} {deliveries} SELECT printf('dlv_pre%09d', x), printf('evt_pre%09d', x),"
            " 'message.status', ?, NULL, printf('msg_pre%09d', x), ?, ?, 'delivered', 1, NULL,"
            " ? + x * 0.1 + 1.5, ? + x * 0.1 + 1.6, 200 FROM c",
            (messages, account, callback, _payload("msg_pre", "delivered"), t0, t0),
        )
        conn.execute(
            f"{seq} INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code,"
            " duration_ms) SELECT printf('dlv_pre%09d', x), ? + x * 0.1 + 1.6, 200, 1.0 FROM c",
            (messages, t0),
        )
        # Pending: retries of callbacks whose receiver failed, spread over the next 24 hours.
        conn.execute(
            f"{seq} {deliveries} SELECT printf('dlv_pen%09d', x), printf('evt_pen%09d', x),"
            " 'message.status', ?, NULL, NULL, ?, ?, 'pending', 3, ? + 600 + x * ?, ?, NULL,"
            " 503 FROM c",
            (pending, account, callback, _payload("pending", "backlog"), now, 86000 / pending, now),
        )
        conn.commit()
        conn.execute("ANALYZE")
        conn.commit()
    finally:
        conn.close()
    return {
        "messages": messages,
        "pending_deliveries": pending,
        "seconds": round(time.perf_counter() - started, 1),
        "db_mb": round(db.stat().st_size / 1e6, 1),
    }


def _payload(message_id: str, status: str) -> str:
    return json.dumps(
        {"id": "evt", "event": "message.status", "data": {"id": message_id, "status": status}}
    )


def _db_figures(db: Path) -> dict[str, Any]:
    """After the run: recorded attempts by outcome, deliveries by status, the claim's plan."""
    conn = sqlite3.connect(db)
    try:
        attempts = dict(
            conn.execute(
                "SELECT coalesce(error, 'ok'), count(*) FROM webhook_attempts"
                " WHERE delivery_id NOT LIKE 'dlv_pre%' GROUP BY 1"
            ).fetchall()
        )
        statuses = dict(
            conn.execute("SELECT status, count(*) FROM webhook_deliveries GROUP BY 1").fetchall()
        )
        plan = " | ".join(
            r[-1] for r in conn.execute("EXPLAIN QUERY PLAN " + CLAIM_SQL, (time.time(),))
        )
    finally:
        conn.close()
    return {"attempts": attempts, "deliveries": statuses, "claim_plan": plan}


async def _run_case(
    case: str, args: argparse.Namespace, tmp: Path, children: list[Child]
) -> dict[str, Any]:
    sim, smpp_port, control_port = await _start_simulator(tmp, args)
    children.append(sim)
    config = tmp / "smsgate.toml"
    _write_config(config, tmp, smpp_port, args)
    key = await _create_account(config)
    sink = SlowSink(expected=args.n, delay_s=args.slow_ms / 1000 if case == "slow" else 0.0)
    sink_port = _free_port()
    preload = None
    if case == "backlog":
        print(
            f"  preloading {args.messages:,} messages and {args.pending:,} pending deliveries",
            flush=True,
        )
        preload = _preload(tmp / "smsgate.db", args.messages, args.pending, sink_port)
        print(f"  preloaded in {preload['seconds']} s ({preload['db_mb']} MB)", flush=True)
    gateway, http_port = await _start_gateway(config, tmp, None, args.loop)
    children.append(gateway)

    async def bound() -> dict[str, Any] | None:
        _status, stats = await get_json(HOST, control_port, "/stats")
        return stats if stats and stats["bound"] >= 1 else None

    await _poll(bound, 30, "the gateway to bind to the simulator")
    requests = _requests(args.n, http_port, key, f"http://{HOST}:{sink_port}/callback")
    up_at: float | None = None

    async def come_up() -> None:
        nonlocal up_at
        await asyncio.sleep(args.down_s)
        await sink.start_on(sink_port)
        up_at = time.perf_counter()

    cpu_before = gateway.cpu_s() or 0.0
    starter = None
    if case == "down":
        starter = asyncio.create_task(come_up())
    else:
        await sink.start_on(sink_port)
    try:
        load = await run_clients(HOST, http_port, requests, args.concurrency, args.timeout)
        cpu_accepted = (gateway.cpu_s() or 0.0) - cpu_before
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(args.timeout):
                await sink.done.wait()
        ended = time.perf_counter()
        cpu = (gateway.cpu_s() or 0.0) - cpu_before
        drain = None
        if case == "backlog":
            drain = await _drain_backlog(tmp / "smsgate.db", sink, gateway, args)
    finally:
        if starter is not None:
            starter.cancel()
        await sink.stop()
    await gateway.stop()
    delivered = len(set(load.ids) & sink.delivered_at.keys())
    last = max((sink.delivered_at[i] for i in sink.delivered_at), default=ended)
    figures: dict[str, Any] = {
        "accepted": len(load.ids),
        "delivered": delivered,
        "accepts_per_s": round(args.n / (load.finished - load.started), 1),
        "full_cycle_per_s": round(args.n / (last - load.started), 1)
        if delivered == args.n
        else None,
        "seconds": {
            "accept_all": round(load.finished - load.started, 2),
            "last_delivered_callback": round(last - load.started, 2),
            # The callbacks still owed once the last message was accepted, and how long
            # they took after it (after the sink came up, for `down`).
            "drain_after_accepts": round(last - load.finished, 2),
            "drain_after_sink_up": round(last - up_at, 2) if up_at else None,
        },
        "callbacks": {"requests": sink.requests, "duplicates": sink.duplicates},
        "gateway_cpu_s": round(cpu, 2),
        "gateway_cpu_ms_per_message": round(cpu * 1000 / args.n, 3),
        "gateway_cpu_ms_per_message_accepting": round(cpu_accepted * 1000 / args.n, 3),
        **_db_figures(tmp / "smsgate.db"),
    }
    if preload is not None:
        figures["preload"] = preload
    if drain is not None:
        figures["backlog_drain"] = drain
    return figures


async def _drain_backlog(
    db: Path, sink: SlowSink, gateway: Child, args: argparse.Namespace
) -> dict[str, Any]:
    """Make the preloaded pending deliveries due now (another writer on the same SQLite file)
    and time their drain to the sink."""
    sink.backlog_target = sink.other.get("backlog", 0) + args.pending
    conn = sqlite3.connect(db, timeout=30)
    try:
        conn.execute(
            "UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id LIKE 'dlv_pen%'"
            " AND status = 'pending'",
            (time.time(),),
        )
        conn.commit()
    finally:
        conn.close()
    cpu0 = gateway.cpu_s() or 0.0
    t0 = time.perf_counter()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(args.timeout):
            await sink.backlog_done.wait()
    seconds = time.perf_counter() - t0
    done = sink.other.get("backlog", 0) - (sink.backlog_target - args.pending)
    cpu = (gateway.cpu_s() or 0.0) - cpu0
    return {
        "delivered": done,
        "seconds": round(seconds, 2),
        "per_s": round(done / seconds, 1) if seconds else None,
        "gateway_cpu_ms_per_delivery": round(cpu * 1000 / done, 3) if done else None,
    }


def _print(case: str, f: dict[str, Any], base: dict[str, Any] | None) -> None:
    cpu, s = f["gateway_cpu_ms_per_message"], f["seconds"]
    ratio = f" ({cpu / base['gateway_cpu_ms_per_message']:.2f}× empty)" if base else ""
    up = s["drain_after_sink_up"]
    rows = [
        ("accepted/delivered", f"{f['accepted']} / {f['delivered']}"),
        ("duplicate callbacks", f["callbacks"]["duplicates"]),
        ("accepts/s", f["accepts_per_s"]),
        ("full cycle msg/s", f["full_cycle_per_s"]),
        ("gateway CPU", f"{cpu} ms/msg{ratio}"),
        ("drain after accepts", f"{s['drain_after_accepts']} s"),
        ("drain after sink up", f"{up} s" if up is not None else "-"),
        ("attempts", json.dumps(f["attempts"])),
        ("claim plan", f["claim_plan"]),
    ]
    if "backlog_drain" in f:
        d = f["backlog_drain"]
        rows.append(
            (
                "backlog drain",
                f"{d['delivered']} in {d['seconds']} s = {d['per_s']}/s, "
                f"{d['gateway_cpu_ms_per_delivery']} ms CPU each",
            )
        )
    print(f"== {case}")
    for name, value in rows:
        print(f"  {name:<20} {value}")
    sys.stdout.flush()


async def _main(args: argparse.Namespace) -> int:
    started = time.time()
    machine, revision = _machine(), _revision()
    results: dict[str, Any] = {}
    for case in args.cases:
        tmp = Path(tempfile.mkdtemp(prefix=f"smsgate-webhooks-{case}-"))
        children: list[Child] = []
        try:
            results[case] = await _run_case(case, args, tmp, children)
        finally:
            for child in reversed(children):
                await child.stop()
            if args.keep:
                print(f"kept {tmp}")
            else:
                shutil.rmtree(tmp, ignore_errors=True)
        _print(case, results[case], results.get("empty"))
    base = results.get("empty")
    if base:
        for f in results.values():
            f["cpu_vs_empty"] = round(
                f["gateway_cpu_ms_per_message"] / base["gateway_cpu_ms_per_message"], 3
            )
    out = {
        "benchmark": "webhooks",
        "timestamp": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        "revision": revision,
        "n": args.n,
        "concurrency": args.concurrency,
        "slow_ms": args.slow_ms,
        "down_s": args.down_s,
        "connector_window": args.window,
        "extra_settings": args.setting,
        "cases": results,
        "loadavg_at_end": list(os.getloadavg()),
        "machine": machine,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {RESULTS}")
    return 0 if all(f["delivered"] == args.n for f in results.values()) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("-n", type=int, default=5000, help="messages per case (default 5000)")
    parser.add_argument("-c", "--concurrency", type=int, default=50, help="HTTP clients")
    parser.add_argument(
        "--cases", type=lambda s: s.split(","), default=list(CASES), help=",".join(CASES)
    )
    parser.add_argument("--slow-ms", type=float, default=200.0, help="`slow`: the sink's delay")
    parser.add_argument(
        "--down-s", type=float, default=60.0, help="`down`: seconds the sink is down"
    )
    parser.add_argument(
        "--messages", type=int, default=1_000_000, help="`backlog`: stored messages"
    )
    parser.add_argument(
        "--pending", type=int, default=100_000, help="`backlog`: pending deliveries"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="-n 2000, --down-s 15, --messages 100000, --pending 10000",
    )
    parser.add_argument("--window", type=int, default=100, help="the connector's SMPP window")
    parser.add_argument("--receipt-delay", type=float, default=1.0, help="seconds")
    parser.add_argument(
        "--smsc-window", type=int, default=100, help="the simulator's deliver_sm window"
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="per phase, seconds")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--setting", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directories")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.down_s, args.messages, args.pending = 2000, 15.0, 100_000, 10_000
    unknown = set(args.cases) - set(CASES)
    if unknown:
        parser.error(f"unknown cases: {', '.join(sorted(unknown))}")
    try:
        import uvloop
    except ImportError:
        return asyncio.run(_main(args))
    return uvloop.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
