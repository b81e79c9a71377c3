"""What `smsgate demo` keeps in its data directory: the owner's only (issue 10, 2.12), and
the simulator's owed receipts across a `kill -9` (2.14)."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.test_cli import SMSGATE, _stop, _wait_line


def _demo(data_dir: Path, *args: str, umask: int = 0) -> subprocess.Popen[str]:
    """`smsgate demo` on free ports, started with `umask` (0: everything would be world-
    readable and writable unless the gateway sets modes itself); no browser."""
    ports = ["--http-port", "0", "--smpp-port", "0", "--no-open"]
    return subprocess.Popen(
        [*SMSGATE, "demo", "--data-dir", str(data_dir), *ports, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        umask=umask,
    )


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_demo_data_dir_is_private_whatever_the_umask(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    proc = _demo(data_dir)
    try:
        _wait_line(proc, "API key:")
        names = {p.name for p in data_dir.iterdir()}
        assert {"smsgate.db", "smsgate.db-wal", "smsgate.db-shm", "demo.json"} <= names
        assert {"demo-key.txt", "demo-smpp.txt", "simulator-state.jsonl"} <= names
        assert _mode(data_dir) == 0o700
        assert {p.name: oct(_mode(p)) for p in data_dir.iterdir()} == dict.fromkeys(
            names, oct(0o600)
        )
    finally:
        assert _stop(proc) == 0


def test_demo_tightens_an_existing_data_dir(tmp_path: Path) -> None:
    """A directory an older version left readable is made private at the next start."""
    data_dir = tmp_path / "demo"
    data_dir.mkdir(mode=0o755)
    os.chmod(data_dir, 0o755)
    old = data_dir / "demo-key.txt"
    old.write_text("sk_stale\n")
    os.chmod(old, 0o644)
    proc = _demo(data_dir, umask=0o022)
    try:
        _wait_line(proc, "API key:")
        assert _mode(data_dir) == 0o700
        assert {oct(_mode(p)) for p in data_dir.iterdir()} == {oct(0o600)}
    finally:
        assert _stop(proc) == 0


def _status_becomes(client: httpx.Client, message_id: str, wanted: str) -> dict[str, Any]:
    got: dict[str, Any] = {}
    for _ in range(600):  # bounded poll of the message's status (60 s)
        got = client.get(f"/api/v1/messages/{message_id}").json()
        if got["status"] == wanted:
            return got
        time.sleep(0.1)
    raise AssertionError(f"never {wanted}: {got}")


def test_receipts_owed_at_a_kill_9_arrive_after_the_restart(tmp_path: Path) -> None:
    """The in-process simulator's pending receipts outlive a `kill -9` of the demo: after
    the restart on the same directory the message reaches `delivered`, not `sent` for 48 h."""
    data_dir = tmp_path / "demo"
    proc = _demo(data_dir, "--receipt-delay", "5")
    try:
        _wait_line(proc, "API key:")
        info = json.loads((data_dir / "demo.json").read_text())
        headers = {"Authorization": f"Bearer {info['api_key']}"}
        with httpx.Client(base_url=info["http_url"], headers=headers, timeout=30) as client:
            sent = client.post("/api/v1/messages", json={"to": "+359888123456", "text": "hi"})
            assert sent.status_code == 202
            message_id = sent.json()["id"]
            _status_becomes(client, message_id, "sent")
        proc.send_signal(signal.SIGKILL)  # its receipt is due seconds from now
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
    again = _demo(data_dir)
    try:
        _wait_line(again, "API key:")
        info = json.loads((data_dir / "demo.json").read_text())
        headers = {"Authorization": f"Bearer {info['api_key']}"}
        with httpx.Client(base_url=info["http_url"], headers=headers, timeout=30) as client:
            _status_becomes(client, message_id, "delivered")
        assert stat.S_IMODE((data_dir / "simulator-state.jsonl").stat().st_mode) == 0o600
    finally:
        assert _stop(again) == 0
