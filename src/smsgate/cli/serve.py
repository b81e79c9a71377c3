"""`smsgate run`, `migrate`, `init` and `check-config`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from smsgate import __version__
from smsgate.cli.running import run, setup_logging, stop_signal, tune_gc
from smsgate.config import load_settings, masked
from smsgate.private_files import private_dir

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


def with_config(p: argparse.ArgumentParser, required: bool = False) -> None:
    p.add_argument("--config", required=required, help="TOML settings file")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("run", help="run the gateway")
    with_config(serve, required=True)
    serve.add_argument(
        "--role",
        help="what this process runs: all (default), or api, smpp, worker comma-separated; "
        "processes on one database share the work, exactly one runs worker",
    )
    serve.set_defaults(handler=lambda args: run(_serve(args)))

    init = sub.add_parser("init", help="write a sample configuration")
    init.add_argument("--config", default="smsgate.toml")
    init.add_argument("--data-dir", default="./smsgate-data")
    init.add_argument("--force", action="store_true")
    init.set_defaults(handler=_init)

    mig = sub.add_parser("migrate", help="create or upgrade the database schema")
    with_config(mig)
    mig.set_defaults(handler=_migrate)
    check = sub.add_parser("check-config", help="print the settings, secrets masked")
    with_config(check)
    check.set_defaults(handler=_check_config)


async def _serve(args: argparse.Namespace) -> int:
    from smsgate.bootstrap import Gateway

    settings = load_settings(args.config, overrides={"role": args.role} if args.role else None)
    setup_logging(settings.log_level)
    stop = stop_signal()
    async with Gateway(settings) as gateway:
        tune_gc()
        print(f"smsgate {__version__} roles: {','.join(sorted(gateway.roles))}", flush=True)
        if gateway.http_port:
            print(f"smsgate {__version__} listening on {gateway.http_url}", flush=True)
        if gateway.smpp_port:
            print(f"SMPP server on {settings.smpp_host}:{gateway.smpp_port}", flush=True)
        await stop.wait()
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
