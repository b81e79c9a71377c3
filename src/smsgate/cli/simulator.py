"""`smsgate simulator smpp` (a simulated SMSC) and `smsgate simulator mo` (an inbound message
injected through a running simulator's control API)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from pathlib import Path

from smsgate.cli.running import run, stop_signal


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sim = sub.add_parser("simulator", help="run a simulated SMSC")
    sim_sub = sim.add_subparsers(dest="kind", required=True)
    smpp = sim_sub.add_parser("smpp", help="an SMPP 3.4 SMSC")
    smpp.add_argument("--host", default="127.0.0.1")
    smpp.add_argument("--port", type=int, default=2775)
    smpp.add_argument("--system-id")
    smpp.add_argument("--password")
    smpp.add_argument("--receipt-delay", type=float, default=1.0)
    smpp.add_argument("--failure-ratio", type=float, default=0.0)
    smpp.add_argument("--throttle-tps", type=float)
    smpp.add_argument("--disconnect-every", type=float)
    smpp.add_argument("--control-port", type=int, help="HTTP control API port (0: free)")
    smpp.add_argument(
        "--state-file", help="keep the receipts it owes here, to send them after a restart"
    )
    smpp.set_defaults(handler=lambda args: run(simulate_smpp(args)))
    mo = sim_sub.add_parser("mo", help="inject an inbound message into a running simulator")
    mo.add_argument("--from", dest="sender", required=True, help="the mobile's number")
    mo.add_argument("--to", required=True, help="the number it writes to")
    mo.add_argument("--text", required=True)
    mo.add_argument("--concat", choices=("udh8", "udh16", "sar", "none"), default="udh8")
    mo.add_argument("--shuffle", action="store_true", help="send the parts in random order")
    mo.add_argument("--duplicate", action="store_true", help="send one part twice")
    mo.add_argument("--encoding", choices=("auto", "gsm7", "ucs2"), default="auto")
    mo.add_argument("--data-dir", help="read the control URL from a demo's demo.json")
    mo.add_argument("--control-url", help="the simulator's control API")
    mo.set_defaults(handler=inject_mo)


async def simulate_smpp(args: argparse.Namespace) -> int:
    from smsgate.simulators.smsc import SmscSimulatorConfig, run_simulator

    cfg = SmscSimulatorConfig(
        host=args.host,
        port=args.port,
        system_id=args.system_id,
        password=args.password,
        receipt_delay=args.receipt_delay,
        failure_ratio=args.failure_ratio,
        throttle_tps=args.throttle_tps,
        disconnect_every=args.disconnect_every,
        state_file=args.state_file,
    )
    stop = stop_signal()
    task = asyncio.create_task(run_simulator(cfg, control_port=args.control_port))
    await stop.wait()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return 0


def inject_mo(args: argparse.Namespace) -> int:
    """Inject an inbound message through a running simulator's control API (POST /mo)."""
    import httpx

    url = args.control_url
    if args.data_dir:
        info = json.loads((Path(args.data_dir) / "demo.json").read_text())
        url = url or info["simulator"]["control_url"]
    if not url:
        print("give --control-url (or --data-dir of a running demo)", file=sys.stderr)
        return 2
    body = {
        "from": args.sender,
        "to": args.to,
        "text": args.text,
        "concat": None if args.concat == "none" else args.concat,
        "shuffle": args.shuffle,
        "duplicate": args.duplicate,
        "data_coding": args.encoding,
    }
    response = httpx.post(url.rstrip("/") + "/mo", json=body, timeout=30)
    print(json.dumps(response.json()))
    return 0 if response.status_code == 200 else 1
