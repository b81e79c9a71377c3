"""The `smsgate` command (DESIGN.md §3, CLI): one module per sub-command group, each with a
`register(subparsers)` that adds its parsers and the handler they run."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from smsgate import __version__
from smsgate.cli import admin, demo, send, serve, simulator
from smsgate.cli.running import run as _run  # kept until bench/_harness.py (bench/e2e.py)
from smsgate.cli.running import setup_logging
from smsgate.errors import ConfigError

__all__ = ["_run", "build_parser", "main"]

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smsgate", description="Self-hosted SMS gateway")
    parser.add_argument("--version", action="version", version=f"smsgate {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in (demo, serve, admin, send, simulator):
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command != "run":  # `run` logs at the level of its settings
        setup_logging(os.environ.get("SMSGATE_LOG_LEVEL", "WARNING"))
    handler: Handler = args.handler
    try:
        return handler(args)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
