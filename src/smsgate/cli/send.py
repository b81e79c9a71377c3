"""`smsgate send`: one message through a running gateway's REST API."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from smsgate.domain.states import FINAL

POLL_S = 0.2  # how often --wait asks for the status


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    send = sub.add_parser("send", help="send one message through a running gateway")
    send.add_argument("--to", required=True)
    send.add_argument("--from", dest="sender")
    send.add_argument("--text", required=True)
    send.add_argument("--url")
    send.add_argument("--key")
    send.add_argument("--data-dir", help="read url and key from a demo's demo.json")
    send.add_argument("--wait", type=float, default=0, help="follow the status this long")
    send.set_defaults(handler=send_message)


def send_message(args: argparse.Namespace) -> int:
    import httpx

    url, key = args.url, args.key
    if args.data_dir:
        info = json.loads((Path(args.data_dir) / "demo.json").read_text())
        url, key = url or info["http_url"], key or info["api_key"]
    if not url or not key:
        print("give --url and --key (or --data-dir of a running demo)", file=sys.stderr)
        return 2
    body: dict[str, str] = {"to": args.to, "text": args.text}
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
        _follow(url.rstrip("/"), key, response.json(), args.wait)
    return 0


def _follow(url: str, key: str, message: dict[str, str], wait_s: float) -> None:
    """Print each new status of the message until it is final or `wait_s` ran out."""
    import httpx

    deadline = time.monotonic() + wait_s
    status = message["status"]
    while time.monotonic() < deadline and status not in FINAL:
        time.sleep(POLL_S)
        got = httpx.get(
            f"{url}/api/v1/messages/{message['id']}",
            headers={"Authorization": f"Bearer {key}"},
        ).json()
        if got["status"] != status:
            status = got["status"]
            print(f"status: {status}")
