"""What `smsgate demo` leaves in its data directory: the owner's only (issue 10, 2.12)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from tests.e2e.test_cli import SMSGATE, _stop, _wait_line


def _demo(data_dir: Path, *, umask: int = 0) -> subprocess.Popen[str]:
    """`smsgate demo` on free ports, started with `umask` (0: everything would be world-
    readable and writable unless the gateway sets modes itself)."""
    return subprocess.Popen(
        [*SMSGATE, "demo", "--data-dir", str(data_dir), "--http-port", "0", "--smpp-port", "0"],
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
        assert {"demo-key.txt", "demo-smpp.txt"} <= names
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
