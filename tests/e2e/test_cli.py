"""The `smsgate` command as a user runs it: real processes, real ports, no sleeps."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

SMSGATE = [sys.executable, "-m", "smsgate.cli"]


def _start(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*SMSGATE, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )


def _wait_line(proc: subprocess.Popen[str], marker: str, limit: int = 200) -> list[str]:
    """Read the process's output until a line contains `marker` (it blocks on the pipe)."""
    assert proc.stdout is not None
    lines: list[str] = []
    for _ in range(limit):
        line = proc.stdout.readline()
        if not line:
            raise AssertionError("process ended early:\n" + "".join(lines))
        lines.append(line)
        if marker in line:
            return lines
    raise AssertionError("marker not seen:\n" + "".join(lines))


def _stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    proc = _start(
        ["demo", "--data-dir", str(tmp_path), "--http-port", "0", "--smpp-port", "0", "--no-open"]
    )
    try:
        _wait_line(proc, "API key:")
        yield tmp_path, proc
    finally:
        if proc.poll() is None:
            _stop(proc)


def test_demo_sends_and_resumes(demo: tuple[Path, subprocess.Popen[str]]) -> None:
    data_dir, proc = demo
    info = json.loads((data_dir / "demo.json").read_text())
    assert info["http_url"].startswith("http://127.0.0.1:")
    assert info["api_key"].startswith("sk_")
    send = subprocess.run(
        [
            *SMSGATE,
            "send",
            "--data-dir",
            str(data_dir),
            "--to",
            "+359888123456",
            "--text",
            "hi",
            "--wait",
            "20",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "status: delivered" in send.stdout
    assert _stop(proc) == 0
    # Same directory again: same data, same key.
    again = _start(
        ["demo", "--data-dir", str(data_dir), "--http-port", "0", "--smpp-port", "0", "--no-open"]
    )
    try:
        _wait_line(again, "API key:")
        info2 = json.loads((data_dir / "demo.json").read_text())
        assert info2["api_key"] == info["api_key"]
        listed = httpx.get(
            info2["http_url"] + "/api/v1/messages",
            headers={"Authorization": f"Bearer {info2['api_key']}"},
        ).json()["data"]
        assert [m["status"] for m in listed] == ["delivered"]
    finally:
        assert _stop(again) == 0


def test_demo_opens_the_docs_in_a_browser_unless_no_open(tmp_path: Path) -> None:
    # $BROWSER names the browser Python's webbrowser module runs: here a script noting the URL.
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\necho "$1" >> {opened}\n')
    browser.chmod(0o700)
    env = {"BROWSER": str(browser)}
    args = ["demo", "--data-dir", str(tmp_path / "demo"), "--http-port", "0", "--smpp-port", "0"]
    # The browser is asked (and has answered) before the last line, "try: curl ...".
    quiet = _start([*args, "--no-open"], env)
    try:
        lines = _wait_line(quiet, "try: curl")
    finally:
        assert _stop(quiet) == 0
    assert not opened.exists()
    assert not any("in a browser" in line for line in lines)
    shown = _start(args, env)
    try:
        lines = _wait_line(shown, "try: curl")
    finally:
        assert _stop(shown) == 0
    docs = json.loads((tmp_path / "demo" / "demo.json").read_text())["docs_url"]
    assert opened.read_text() == docs + "\n"
    assert f"  opened {docs} in a browser\n" in lines


def test_init_migrate_accounts_keys_check_config(tmp_path: Path) -> None:
    config = tmp_path / "smsgate.toml"
    run = subprocess.run(
        [*SMSGATE, "init", "--config", str(config), "--data-dir", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "wrote" in run.stdout
    assert 'password = "secret"' in config.read_text()
    checked = subprocess.run(
        [*SMSGATE, "check-config", "--config", str(config)],
        capture_output=True,
        text=True,
        check=True,
    )
    settings = json.loads(checked.stdout)
    assert settings["connectors"][0]["password"] == "********"
    assert "secret" not in checked.stdout
    subprocess.run([*SMSGATE, "migrate", "--config", str(config)], check=True, capture_output=True)
    created = subprocess.run(
        [*SMSGATE, "accounts", "create", "shop", "--country", "bg", "--config", str(config)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "API key (shown once): sk_" in created.stdout
    dup = subprocess.run(
        [*SMSGATE, "accounts", "create", "shop", "--config", str(config)],
        capture_output=True,
        text=True,
    )
    assert dup.returncode == 1
    listed = subprocess.run(
        [*SMSGATE, "accounts", "list", "--config", str(config)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "shop" in listed.stdout
    assert "country=BG" in listed.stdout
    key = subprocess.run(
        [*SMSGATE, "keys", "create", "shop", "--name", "ci", "--config", str(config)],
        capture_output=True,
        text=True,
        check=True,
    )
    key_id = key.stdout.split()[1]
    revoked = subprocess.run(
        [*SMSGATE, "keys", "revoke", "shop", key_id, "--config", str(config)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "revoked" in revoked.stdout
    keys = subprocess.run(
        [*SMSGATE, "keys", "list", "shop", "--config", str(config)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "revoked" in keys.stdout
    assert "active" in keys.stdout


def test_demo_allows_loopback_webhooks_and_nothing_else_inside(
    demo: tuple[Path, subprocess.Popen[str]],
) -> None:
    data_dir, _proc = demo
    info = json.loads((data_dir / "demo.json").read_text())
    auth = {"Authorization": f"Bearer {info['api_key']}"}
    hooks = info["http_url"] + "/api/v1/webhooks"
    local = httpx.post(hooks, json={"url": "http://127.0.0.1:9/hook"}, headers=auth)
    assert local.status_code == 201, local.text
    for url in ("http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/", "http://0.0.0.0/"):
        refused = httpx.post(hooks, json={"url": url}, headers=auth)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "url_not_allowed"


def test_the_benchmark_config_and_account_output(tmp_path: Path) -> None:
    # What ../shared/peers/smsgate/setup.sh writes and parses.
    config = tmp_path / "smsgate.toml"
    config.write_text(
        'webhook_allowed_networks = ["127.0.0.0/8", "::1/128"]\n'
        f'database_url = "sqlite:///{tmp_path}/gw.db"\n'
    )
    checked = subprocess.run(
        [*SMSGATE, "check-config", "--config", str(config)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(checked.stdout)["webhook_allowed_networks"] == ["127.0.0.0/8", "::1/128"]
    created = subprocess.run(
        [*SMSGATE, "accounts", "create", "bench", "--admin", "--config", str(config)],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = created.stdout.splitlines()
    assert re.fullmatch(r"API key \(shown once\): sk_\S+", lines[-1])
    secret = next(x for x in lines if x.startswith("callback secret")).rsplit(" ", 1)[1]
    assert secret.startswith("whsec_")


def test_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("http_port = 8080\nunknown_key = 1\n")
    run = subprocess.run(
        [*SMSGATE, "check-config", "--config", str(config)], capture_output=True, text=True
    )
    assert run.returncode == 2
    assert "unknown setting 'unknown_key'" in run.stderr
    config.write_text("[[routes]]\nconnectors = ['nowhere']\n")
    run = subprocess.run(
        [*SMSGATE, "check-config", "--config", str(config)], capture_output=True, text=True
    )
    assert run.returncode == 2
    assert "no connector nowhere" in run.stderr


def test_run_with_a_config_file_against_a_separate_smsc(tmp_path: Path) -> None:
    sim = _start(["simulator", "smpp", "--port", "0", "--receipt-delay", "0.1"])
    try:
        line = _wait_line(sim, "SMPP simulator listening on")[-1]
        sim_port = int(line.rsplit(":", 1)[1])
        config = tmp_path / "gw.toml"
        config.write_text(
            f'database_url = "sqlite:///{tmp_path}/gw.db"\nhttp_port = 0\nsmpp_port = 0\n'
            f'[[connectors]]\nname = "smsc"\nport = {sim_port}\nsystem_id = "gw"\n'
            'password = "pw"\nwindow = 5\n'
            '[[routes]]\nprefix = "359"\nconnectors = ["smsc"]\n'
        )
        created = subprocess.run(
            [*SMSGATE, "accounts", "create", "ops", "--config", str(config)],
            capture_output=True,
            text=True,
            check=True,
        )
        key = created.stdout.rsplit(" ", 1)[1].strip()
        gw = _start(["run", "--config", str(config)])
        try:
            line = _wait_line(gw, "smsgate 0.1.0 listening on")[-1]
            url = re.search(r"http://\S+", line).group(0)  # type: ignore[union-attr]
            send = subprocess.run(
                [
                    *SMSGATE,
                    "send",
                    "--url",
                    url,
                    "--key",
                    key,
                    "--to",
                    "+359888123456",
                    "--from",
                    "OPS",
                    "--text",
                    "config works",
                    "--wait",
                    "20",
                ],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert "status: delivered" in send.stdout, send.stdout + send.stderr
            other = subprocess.run(
                [
                    *SMSGATE,
                    "send",
                    "--url",
                    url,
                    "--key",
                    key,
                    "--to",
                    "+447911123456",
                    "--text",
                    "no route",
                    "--wait",
                    "20",
                ],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert "status: failed" in other.stdout
        finally:
            assert _stop(gw) == 0
    finally:
        _stop(sim)


def test_a_demo_stopped_while_it_starts_comes_up_and_stops_cleanly(tmp_path: Path) -> None:
    # A port taken makes the demo say so before anything starts: Ctrl-C right then (a
    # script that stops it as soon as it has read a line) must not kill it half-way.
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        args = ["demo", "--data-dir", str(tmp_path), "--http-port", str(port)]
        proc = _start([*args, "--smpp-port", "0", "--fallback-ports", "--no-open"])
        try:
            _wait_line(proc, f"port {port} is taken")
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=60) == 0
        finally:
            _stop(proc)
    assert json.loads((tmp_path / "demo.json").read_text())["api_key"]
