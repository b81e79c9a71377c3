"""The `smsgate` command (DESIGN.md §3, CLI)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import os
import secrets
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any

from smsgate import __version__
from smsgate.config import ConnectorSettings, RouteSettings, Settings, load_settings, masked
from smsgate.errors import ConfigError
from smsgate.private_files import private_dir, tighten_files, write_private

log = logging.getLogger("smsgate")

SAMPLE_CONFIG = """\
# smsgate configuration. Every top-level key can also be set as SMSGATE_<KEY> in the environment.
database_url = "sqlite:///{data_dir}/smsgate.db"   # or postgresql://user@host/db
http_host = "127.0.0.1"
http_port = 8080
default_max_parts = 10
# Tenants' webhook and callback URLs reach public addresses only; list the networks (CIDR)
# they may reach besides, e.g. ["127.0.0.0/8", "::1/128"] for receivers on this machine.
webhook_allowed_networks = []

# An SMSC to send through (repeat the block for more; routes pick among them).
[[connectors]]
name = "smsc1"
type = "smpp"
host = "127.0.0.1"
port = 2775
system_id = "smsgate"
password = "secret"
bind = "transceiver"     # or "transmitter+receiver"
window = 10
tps = 50
# A part left unanswered by a lost link is resent first on the next link, at most resend_max
# times; one answered ESME_RTHROTTLED is tried throttle_max_tries times.
resend_max = 3
throttle_max_tries = 10

[[routes]]
prefix = ""              # E.164 digits without '+'; "" matches every destination
connectors = ["smsc1"]
"""


def _run(coro: Coroutine[Any, Any, int]) -> int:
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


def _tune_gc() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


async def _until_signalled(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


# ---- demo ---------------------------------------------------------------------------------


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


async def _demo(args: argparse.Namespace) -> int:
    from smsgate.adapters.url_guard import LOOPBACK_NETWORKS
    from smsgate.bootstrap import Gateway
    from smsgate.simulators.smsc import SmscSimulator, SmscSimulatorConfig

    # Keys, passwords and secrets live here: the owner's only (also after an older version).
    data_dir = private_dir(Path(args.data_dir).resolve())
    tighten_files(data_dir)
    host = "127.0.0.1"
    http_port, smpp_port = args.http_port, args.smpp_port
    if http_port and args.fallback_ports and not _port_free(host, http_port):
        print(f"port {http_port} is taken; using a free one", flush=True)
        http_port = 0
    if smpp_port and args.fallback_ports and not _port_free(host, smpp_port):
        print(f"port {smpp_port} is taken; using a free one", flush=True)
        smpp_port = 0
    sim_cfg = SmscSimulatorConfig(
        host=host,
        port=0,
        system_id="smsgate",
        password="demo",
        receipt_delay=args.receipt_delay,
        # What it owes the gateway outlives it, as with a real SMSC (receipts after a kill -9).
        state_file=str(data_dir / "simulator-state.jsonl"),
    )
    async with SmscSimulator(sim_cfg, control_port=0) as sim:
        settings = load_settings(
            args.config,
            overrides={
                "database_url": f"sqlite:///{data_dir}/smsgate.db",
                "http_host": host,
                "http_port": http_port,
                "smpp_host": host,
                "smpp_port": smpp_port,
            },
        )
        settings = replace(
            settings,
            connectors=(
                ConnectorSettings(
                    name="simulator",
                    host=host,
                    port=sim.port,
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
        gateway = Gateway(settings)
        async with gateway:
            _tune_gc()
            api_key = await _demo_account(gateway, data_dir)
            smpp_login = await _demo_smpp_login(gateway, data_dir)
            number = await _demo_number(gateway)
            info = {
                "http_url": gateway.http_url,
                "docs_url": gateway.http_url + "/docs",
                "api_key": api_key,
                "smpp": {
                    "host": host,
                    "port": gateway.smpp_port,
                    "system_id": smpp_login[0],
                    "password": smpp_login[1],
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
                f"  SMPP:     {host}:{gateway.smpp_port} system_id={smpp_login[0]} "
                f"password={smpp_login[1]}",
                flush=True,
            )
            print(f"  number:   {number} (keyword HOURS answers; STOP, START, HELP)", flush=True)
            print(f"  data:     {data_dir}  (details in {state})", flush=True)
            print(
                f"  try: curl -s -X POST {gateway.http_url}/api/v1/messages "
                f"-H 'Authorization: Bearer {api_key}' -H 'Content-Type: application/json' "
                """-d '{"to": "+359888123456", "from": "smsgate", "text": "Hello"}'""",
                flush=True,
            )
            await _until_signalled(asyncio.Event())
    return 0


async def _demo_account(gateway: Any, data_dir: Path) -> str:
    """The demo account and its key; re-running on the same directory reuses both."""
    secret_file = data_dir / "demo-key.txt"
    now = time.time()
    if secret_file.exists():
        key = secret_file.read_text().strip()
        if await gateway.store.authenticate(key, now=now) is not None:
            return key
    account = await gateway.store.account_by_name("demo")
    if account is None:
        account = await gateway.store.create_account(
            name="demo", role="admin", default_country="BG", help_text=DEMO_HELP, now=now
        )
    _key, secret = await gateway.store.create_api_key(account.id, name="demo", now=now)
    write_private(secret_file, secret + "\n")
    return str(secret)


DEMO_NUMBER = "+35924001234"
DEMO_HELP = "Demo shop: text HOURS for opening hours. STOP to opt out, START to opt in."


async def _demo_number(gateway: Any) -> str:
    """The demo account's long number with a sample auto-reply keyword (kept across runs)."""
    from smsgate.services.two_way_manage import RuleRequest

    account = await gateway.store.account_by_name("demo")
    manager = gateway.two_way_manager
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


async def _demo_smpp_login(gateway: Any, data_dir: Path) -> tuple[str, str]:
    """SMPP credentials of the demo account (system_id "demo"), kept across runs."""
    from smsgate.services.credentials import hash_password
    from smsgate.services.records import SmppCredentials

    secret_file = data_dir / "demo-smpp.txt"
    now = time.time()
    account = await gateway.store.account_by_name("demo")
    existing = await gateway.store.smpp_credentials("demo", now=now)
    if secret_file.exists() and existing is not None:
        return "demo", secret_file.read_text().strip()
    password = secrets.token_hex(4)  # SMPP 3.4 passwords have at most 8 characters
    await gateway.store.set_smpp_credentials(
        SmppCredentials(
            system_id="demo",
            account_id=account.id,
            password_hash=hash_password(password),
            max_binds=10,
            allowed_ips="",
            submit_rate_per_s=None,
            created_at=now,
        )
    )
    write_private(secret_file, password + "\n")
    return "demo", password


# ---- run, migrate, check-config -----------------------------------------------------------


async def _serve(args: argparse.Namespace) -> int:
    from smsgate.bootstrap import Gateway

    settings = load_settings(args.config, overrides={"role": args.role} if args.role else None)
    _setup_logging(settings.log_level)
    async with Gateway(settings) as gateway:
        _tune_gc()
        print(f"smsgate {__version__} roles: {','.join(sorted(gateway.roles))}", flush=True)
        if gateway.http_port:
            print(f"smsgate {__version__} listening on {gateway.http_url}", flush=True)
        if gateway.smpp_port:
            print(f"SMPP server on {settings.smpp_host}:{gateway.smpp_port}", flush=True)
        await _until_signalled(asyncio.Event())
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from smsgate.adapters.store.database import run_migrate

    settings = load_settings(args.config)
    run_migrate(settings.database_url)
    print("database is up to date")
    return 0


def _check_config(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    print(json.dumps(masked(settings), indent=2, default=str))
    return 0


def _init(args: argparse.Namespace) -> int:
    path = Path(args.config)
    if path.exists() and not args.force:
        print(f"{path} exists; use --force to overwrite", file=sys.stderr)
        return 1
    data_dir = private_dir(Path(args.data_dir).resolve(), tighten=False)
    path.write_text(SAMPLE_CONFIG.format(data_dir=data_dir))
    print(f"wrote {path}; edit the [[connectors]] block, then:")
    print(f"  smsgate migrate --config {path}")
    print(f"  smsgate accounts create myapp --admin --config {path}")
    print(f"  smsgate run --config {path}")
    return 0


# ---- accounts and keys (straight on the database) -----------------------------------------


async def _with_store(settings: Settings, work: Callable[[Any], Awaitable[int]]) -> int:
    from smsgate.adapters.store.database import make_engine, migrate
    from smsgate.adapters.store.store import Store

    engine = make_engine(settings.database_url)
    store = Store(engine, url=settings.database_url)
    try:
        await migrate(engine)
        await store.start()
        return await work(store)
    finally:
        await store.stop()
        await engine.dispose()


def _accounts(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)

    async def work(store: Any) -> int:
        now = time.time()
        if args.action == "list":
            for a in await store.list_accounts():
                print(f"{a.id}  {a.name}  role={a.role}  country={a.default_country or '-'}")
            return 0
        if await store.account_by_name(args.name) is not None:
            print(f"an account named {args.name!r} exists", file=sys.stderr)
            return 1
        account = await store.create_account(
            name=args.name,
            role="admin" if args.admin else "user",
            default_country=(args.country or "").upper(),
            max_parts=args.max_parts,
            now=now,
        )
        _key, secret = await store.create_api_key(account.id, name="initial", now=now)
        print(f"account {account.id} ({account.name}) created")
        # The key stays the last line (scripts take its last word).
        print(f"callback secret (signs callback_url calls): {account.signing_secret}")
        print(f"API key (shown once): {secret}")
        return 0

    return _run(_with_store(settings, work))


def _keys(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)

    async def work(store: Any) -> int:
        now = time.time()
        account = await store.account_by_name(args.account) or await store.get_account(args.account)
        if account is None:
            print(f"no account {args.account!r}", file=sys.stderr)
            return 1
        if args.action == "create":
            key, secret = await store.create_api_key(account.id, name=args.name or "", now=now)
            print(f"key {key.id} created; API key (shown once): {secret}")
        elif args.action == "list":
            for k in await store.list_api_keys(account.id):
                state = "revoked" if k.revoked_at else "active"
                print(f"{k.id}  {k.prefix}…  {k.name or '-'}  {state}")
        else:
            if not await store.revoke_api_key(account.id, args.key_id, now=now):
                print(f"no active key {args.key_id!r}", file=sys.stderr)
                return 1
            print(f"key {args.key_id} revoked")
        return 0

    return _run(_with_store(settings, work))


# ---- send (over the REST API) -------------------------------------------------------------


def _send(args: argparse.Namespace) -> int:
    import httpx

    url, key = args.url, args.key
    if args.data_dir:
        info = json.loads((Path(args.data_dir) / "demo.json").read_text())
        url, key = url or info["http_url"], key or info["api_key"]
    if not url or not key:
        print("give --url and --key (or --data-dir of a running demo)", file=sys.stderr)
        return 2
    body: dict[str, Any] = {"to": args.to, "text": args.text}
    if args.sender:
        body["from"] = args.sender
    response = httpx.post(
        url.rstrip("/") + "/api/v1/messages",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    print(json.dumps(response.json(), indent=2))
    if response.status_code >= 400:
        return 1
    if args.wait:
        message_id = response.json()["id"]
        deadline = time.monotonic() + args.wait
        status = response.json()["status"]
        while time.monotonic() < deadline and status not in (
            "delivered",
            "undelivered",
            "expired",
            "failed",
            "rejected",
            "canceled",
        ):
            time.sleep(0.2)
            got = httpx.get(
                f"{url.rstrip('/')}/api/v1/messages/{message_id}",
                headers={"Authorization": f"Bearer {key}"},
            ).json()
            if got["status"] != status:
                status = got["status"]
                print(f"status: {status}")
    return 0


# ---- simulator ----------------------------------------------------------------------------


async def _simulator_smpp(args: argparse.Namespace) -> int:
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
    task = asyncio.create_task(run_simulator(cfg, control_port=args.control_port))
    await _until_signalled(asyncio.Event())
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return 0


def _simulator_mo(args: argparse.Namespace) -> int:
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


# ---- parser -------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smsgate", description="Self-hosted SMS gateway")
    parser.add_argument("--version", action="version", version=f"smsgate {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_config(p: argparse.ArgumentParser, required: bool = False) -> None:
        p.add_argument("--config", required=required, help="TOML settings file")

    demo = sub.add_parser("demo", help="everything on SQLite with a simulated SMSC")
    demo.add_argument("--data-dir", default=".smsgate-demo")
    demo.add_argument("--http-port", type=int, default=8080, help="0 picks a free port")
    demo.add_argument("--smpp-port", type=int, default=2775, help="0 picks a free port")
    demo.add_argument("--no-open", action="store_true", help="do not open a browser")
    demo.add_argument("--fallback-ports", action="store_true", help="free ports if taken")
    demo.add_argument("--receipt-delay", type=float, default=1.0)
    with_config(demo)

    run = sub.add_parser("run", help="run the gateway")
    with_config(run, required=True)
    run.add_argument(
        "--role",
        help="what this process runs: all (default), or api, smpp, worker comma-separated; "
        "processes on one database share the work, exactly one runs worker",
    )

    init = sub.add_parser("init", help="write a sample configuration")
    init.add_argument("--config", default="smsgate.toml")
    init.add_argument("--data-dir", default="./smsgate-data")
    init.add_argument("--force", action="store_true")

    mig = sub.add_parser("migrate", help="create or upgrade the database schema")
    with_config(mig)
    check = sub.add_parser("check-config", help="print the settings, secrets masked")
    with_config(check)

    accounts = sub.add_parser("accounts", help="list or create accounts")
    acc_sub = accounts.add_subparsers(dest="action", required=True)
    acc_list = acc_sub.add_parser("list")
    with_config(acc_list)
    acc_create = acc_sub.add_parser("create")
    acc_create.add_argument("name")
    acc_create.add_argument("--admin", action="store_true")
    acc_create.add_argument("--country", help="default country for national numbers (ISO)")
    acc_create.add_argument("--max-parts", type=int, default=10)
    with_config(acc_create)

    keys = sub.add_parser("keys", help="API keys of an account")
    keys_sub = keys.add_subparsers(dest="action", required=True)
    for action in ("create", "list", "revoke"):
        p = keys_sub.add_parser(action)
        p.add_argument("account", help="account name or id")
        if action == "create":
            p.add_argument("--name")
        if action == "revoke":
            p.add_argument("key_id")
        with_config(p)

    send = sub.add_parser("send", help="send one message through a running gateway")
    send.add_argument("--to", required=True)
    send.add_argument("--from", dest="sender")
    send.add_argument("--text", required=True)
    send.add_argument("--url")
    send.add_argument("--key")
    send.add_argument("--data-dir", help="read url and key from a demo's demo.json")
    send.add_argument("--wait", type=float, default=0, help="follow the status this long")

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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command not in ("run",):
        _setup_logging(os.environ.get("SMSGATE_LOG_LEVEL", "WARNING"))
    try:
        if args.command == "demo":
            return _run(_demo(args))
        if args.command == "run":
            return _run(_serve(args))
        if args.command == "simulator" and args.kind == "mo":
            return _simulator_mo(args)
        if args.command == "simulator":
            return _run(_simulator_smpp(args))
        handlers: dict[str, Callable[[argparse.Namespace], int]] = {
            "init": _init,
            "migrate": _migrate,
            "check-config": _check_config,
            "accounts": _accounts,
            "keys": _keys,
            "send": _send,
        }
        return handlers[args.command](args)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
