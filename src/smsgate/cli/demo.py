"""`smsgate demo`: the gateway on SQLite with a simulated SMSC, a demo account, an SMPP login
and a long number with an auto-reply, all kept in one data directory across runs."""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import socket
import webbrowser
from dataclasses import replace
from pathlib import Path

from smsgate.cli.running import run, stop_signal, tune_gc
from smsgate.config import ConnectorSettings, RouteSettings, Settings, load_settings
from smsgate.private_files import private_dir, tighten_files, write_private
from smsgate.services.admin import AdminService, NewAccount, SmppLogin
from smsgate.services.two_way_manage import RuleRequest, TwoWayManager

DEMO_NUMBER = "+35924001234"
DEMO_HELP = "Demo shop: text HOURS for opening hours. STOP to opt out, START to opt in."
HOST = "127.0.0.1"
# What the demo opens in a browser: the API docs, until the web panel exists.
OPEN_PATH = "/docs"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser("demo", help="everything on SQLite with a simulated SMSC")
    demo.add_argument("--data-dir", default=".smsgate-demo")
    demo.add_argument("--http-port", type=int, default=8080, help="0 picks a free port")
    demo.add_argument("--smpp-port", type=int, default=2775, help="0 picks a free port")
    demo.add_argument("--no-open", action="store_true", help="do not open a browser")
    demo.add_argument("--fallback-ports", action="store_true", help="free ports if taken")
    demo.add_argument("--receipt-delay", type=float, default=1.0)
    demo.add_argument("--config", help="TOML settings file")
    demo.set_defaults(handler=lambda args: run(run_demo(args)))


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _port(port: int, fallback: bool) -> int:
    """`port`, or 0 (a free one) when it is taken and `fallback` allows that."""
    if port and fallback and not _port_free(HOST, port):
        print(f"port {port} is taken; using a free one", flush=True)
        return 0
    return port


def demo_settings(
    args: argparse.Namespace, data_dir: Path, *, http_port: int, smpp_port: int, smsc_port: int
) -> Settings:
    """The settings file (if any) with the demo's database, ports and simulator."""
    from smsgate.adapters.url_guard import LOOPBACK_NETWORKS

    settings = load_settings(
        args.config,
        overrides={
            "database_url": f"sqlite:///{data_dir}/smsgate.db",
            "http_host": HOST,
            "http_port": http_port,
            "smpp_host": HOST,
            "smpp_port": smpp_port,
        },
    )
    return replace(
        settings,
        connectors=(
            ConnectorSettings(
                name="simulator",
                host=HOST,
                port=smsc_port,
                system_id="smsgate",
                password="demo",
                window=50,
            ),
        ),
        routes=(RouteSettings(connectors=("simulator",)),),
        # The demo's webhooks and callbacks may go to this machine (DESIGN.md §3).
        webhook_allowed_networks=tuple(
            dict.fromkeys((*settings.webhook_allowed_networks, *LOOPBACK_NETWORKS))
        ),
    )


async def run_demo(args: argparse.Namespace) -> int:
    from smsgate.bootstrap import Gateway
    from smsgate.simulators.smsc import SmscSimulator, SmscSimulatorConfig

    stop = stop_signal()
    # Keys, passwords and secrets live here: the owner's only (also after an older version).
    data_dir = private_dir(Path(args.data_dir).resolve())
    tighten_files(data_dir)
    # Ports first (the messages about taken ones come before anything starts).
    http_port = _port(args.http_port, args.fallback_ports)
    smpp_port = _port(args.smpp_port, args.fallback_ports)
    sim_cfg = SmscSimulatorConfig(
        host=HOST,
        port=0,
        system_id="smsgate",
        password="demo",
        receipt_delay=args.receipt_delay,
        # What it owes the gateway outlives it, as with a real SMSC (receipts after a kill -9).
        state_file=str(data_dir / "simulator-state.jsonl"),
    )
    async with SmscSimulator(sim_cfg, control_port=0) as sim:
        settings = demo_settings(
            args, data_dir, http_port=http_port, smpp_port=smpp_port, smsc_port=sim.port
        )
        gateway = Gateway(settings)
        async with gateway:
            tune_gc()
            api_key = await demo_account(gateway.admin, data_dir)
            system_id, password = await demo_smpp_login(gateway.admin, data_dir)
            number = await demo_number(gateway.admin, gateway.two_way_manager)
            info = {
                "http_url": gateway.http_url,
                "docs_url": gateway.http_url + "/docs",
                "api_key": api_key,
                "smpp": {
                    "host": HOST,
                    "port": gateway.smpp_port,
                    "system_id": system_id,
                    "password": password,
                },
                "simulator": {"smpp_port": sim.port, "control_url": sim.control_url},
                "number": number,
            }
            state = data_dir / "demo.json"
            write_private(state, json.dumps(info, indent=2))
            print("smsgate demo is running (Ctrl-C stops it)", flush=True)
            print(f"  API:      {gateway.http_url}/api/v1", flush=True)
            print(f"  API docs: {gateway.http_url}/docs", flush=True)
            print(f"  API key:  {api_key}", flush=True)
            print(
                f"  SMPP:     {HOST}:{gateway.smpp_port} system_id={system_id} password={password}",
                flush=True,
            )
            print(f"  number:   {number} (keyword HOURS answers; STOP, START, HELP)", flush=True)
            print(f"  data:     {data_dir}  (details in {state})", flush=True)
            if not args.no_open:
                # For the person who started it (`make run`); scripts and tests pass --no-open.
                await _open(gateway.http_url + OPEN_PATH)
            print(
                f"  try: curl -s -X POST {gateway.http_url}/api/v1/messages "
                f"-H 'Authorization: Bearer {api_key}' -H 'Content-Type: application/json' "
                """-d '{"to": "+359888123456", "from": "smsgate", "text": "Hello"}'""",
                flush=True,
            )
            await stop.wait()
    return 0


async def _open(url: str) -> None:
    """Open `url` in the user's browser ($BROWSER, else the desktop's), if there is one."""
    if await asyncio.to_thread(webbrowser.open, url):
        print(f"  opened {url} in a browser", flush=True)


async def _demo_account_id(admin: AdminService) -> str:
    account = await admin.account_named("demo")
    if account is None:
        account = await admin.create_account(
            NewAccount(name="demo", role="admin", default_country="BG", help_text=DEMO_HELP)
        )
    return account.id


async def demo_account(admin: AdminService, data_dir: Path) -> str:
    """The demo account's API key; re-running on the same directory reuses both."""
    secret_file = data_dir / "demo-key.txt"
    if secret_file.exists():
        key = secret_file.read_text().strip()
        if await admin.key_account(key) is not None:
            return key
    created = await admin.create_key(await _demo_account_id(admin), name="demo")
    write_private(secret_file, created.secret + "\n")
    return created.secret


async def demo_smpp_login(admin: AdminService, data_dir: Path) -> tuple[str, str]:
    """SMPP credentials of the demo account (system_id "demo"), kept across runs."""
    secret_file = data_dir / "demo-smpp.txt"
    if secret_file.exists() and await admin.smpp_login("demo") is not None:
        return "demo", secret_file.read_text().strip()
    password = secrets.token_hex(4)  # SMPP 3.4 passwords have at most 8 characters
    login = SmppLogin(system_id="demo", password=password, max_binds=10)
    await admin.set_smpp_login(await _demo_account_id(admin), login)
    write_private(secret_file, password + "\n")
    return "demo", password


async def demo_number(admin: AdminService, manager: TwoWayManager) -> str:
    """The demo account's long number with a sample auto-reply keyword (kept across runs)."""
    account = await admin.find_account("demo")
    if any(n.number == DEMO_NUMBER for n in await manager.numbers(account)):
        return DEMO_NUMBER
    await manager.assign_number(DEMO_NUMBER, account_id=account.id, description="demo")
    await manager.add_rule(
        account,
        RuleRequest(
            number=DEMO_NUMBER,
            keyword="HOURS",
            action="reply",
            reply_text="We are open Mon-Fri 9:00-18:00. You wrote: {text}",
        ),
    )
    return DEMO_NUMBER
