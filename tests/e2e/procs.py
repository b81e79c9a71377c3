"""Helpers for the durability tests: the gateway as a real process that can be killed, a lean
HTTP client that survives its deaths, a webhook sink that outlives it, and a look into the
database afterwards. Readiness is read from the process's stdout; nothing sleeps."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from smsgate.testing.sink import Received, WebhookSink

SMSGATE = [sys.executable, "-m", "smsgate.cli"]
FINAL = frozenset({"delivered", "undelivered", "expired", "failed", "rejected", "canceled"})


def write_config(path: Path, *, database_url: str, sim_port: int, **extra: Any) -> Path:
    """A gateway TOML file with one SMPP connector to the simulator (system_id gw / pw)."""
    # A long response timeout: the simulator runs in the test process, which under load and
    # coverage can lag seconds behind; a timeout would make the gateway (rightly) resend on
    # the same connection, which this test counts as a duplicate without a crash.
    connector = {"window": 20, "response_timeout": 30.0, **extra.pop("connector", {})}
    lines = [
        f'database_url = "{database_url}"',
        'http_host = "127.0.0.1"',
        "http_port = 0",
        'smpp_host = "127.0.0.1"',
        "smpp_port = 0",
        'log_level = "WARNING"',
        "dispatch_poll_s = 0.2",
        # The webhook sink listens on loopback, which tenants' URLs may not reach by default.
        'webhook_allowed_networks = ["127.0.0.0/8", "::1/128"]',
        *(f"{k} = {json.dumps(v)}" for k, v in extra.items()),
        "[[connectors]]",
        'name = "sim"',
        'host = "127.0.0.1"',
        f"port = {sim_port}",
        'system_id = "gw"',
        'password = "pw"',
        *(f"{k} = {json.dumps(v)}" for k, v in connector.items()),
        "[[routes]]",
        'connectors = ["sim"]',
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


async def run_cli(*args: str) -> str:
    """Run one `smsgate` command to completion; its stdout (raises on a non-zero exit)."""
    proc = await asyncio.create_subprocess_exec(
        *SMSGATE, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    if proc.returncode != 0:
        raise AssertionError(f"smsgate {' '.join(args)} failed:\n{out.decode()}")
    return out.decode()


async def create_account(config: Path, name: str) -> str:
    """Create an account through the CLI; its API key."""
    out = await run_cli("accounts", "create", name, "--config", str(config))
    return out.rsplit(" ", 1)[1].strip()


class GatewayProcess:
    """`smsgate run --config` in a child process; `up` is set while it serves."""

    def __init__(self, config: Path, log_path: Path) -> None:
        self.config = config
        self.log_path = log_path
        self.proc: asyncio.subprocess.Process | None = None
        self.port = 0
        self.smpp_port = 0
        self.up = asyncio.Event()
        self.starts = 0
        self.kills: list[float] = []  # loop time of every kill -9

    async def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                *SMSGATE,
                "run",
                "--config",
                str(self.config),
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                env={**os.environ, "SMSGATE_LOOP": os.environ.get("SMSGATE_LOOP", "uvloop")},
            )
        assert self.proc.stdout is not None
        async with asyncio.timeout(60):
            # "smsgate X listening on http://host:port", then "SMPP server on host:port".
            while not self.smpp_port:
                line = (await self.proc.stdout.readline()).decode()
                if not line:
                    raise AssertionError("the gateway ended early:\n" + self.log_tail())
                if "listening on" in line:
                    self.port = int(line.rsplit(":", 1)[1])
                elif line.startswith("SMPP server on"):
                    self.smpp_port = int(line.rsplit(":", 1)[1])
        self.starts += 1
        self.up.set()

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    async def kill(self) -> None:
        """kill -9: no shutdown code runs in the gateway."""
        assert self.proc is not None
        self.up.clear()
        self.port = self.smpp_port = 0
        self.kills.append(asyncio.get_running_loop().time())
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> int:
        """A graceful stop (SIGINT); the exit code."""
        if self.proc is None or self.proc.returncode is not None:
            return self.proc.returncode if self.proc and self.proc.returncode is not None else 0
        self.up.clear()
        self.proc.send_signal(signal.SIGINT)
        try:
            return await asyncio.wait_for(self.proc.wait(), 30)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise


# ---- HTTP, by hand: keep-alive, Content-Length bodies -------------------------------------


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = await reader.readexactly(length) if length else b""
    return int(head[9:12]), body


def post_bytes(port: int, path: str, key: str, body: Any, headers: dict[str, str]) -> bytes:
    raw = json.dumps(body).encode()
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(raw)}\r\n{extra}\r\n"
    ).encode() + raw


@dataclass
class Submitted:
    """What the sending clients saw."""

    accepted: dict[int, dict[str, Any]] = field(default_factory=dict)  # index → 2xx body
    created: int = 0  # 202
    replayed: int = 0  # 200: the Idempotency-Key found a message committed before a crash
    connection_errors: int = 0
    refused: dict[int, int] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)


async def send_all(
    gw: GatewayProcess,
    key: str,
    bodies: Sequence[dict[str, Any]],
    *,
    concurrency: int,
    result: Submitted,
) -> None:
    """POST every body once to /api/v1/messages with `Idempotency-Key: n<index>`; a request
    cut by a crash is sent again (same key) once the gateway is back."""
    todo = list(range(len(bodies) - 1, -1, -1))

    async def client() -> None:
        while todo:
            await gw.up.wait()
            port = gw.port
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                result.connection_errors += 1
                await _until_restarted(gw, port)
                continue
            try:
                while todo:
                    i = todo.pop()
                    try:
                        writer.write(
                            post_bytes(
                                port,
                                "/api/v1/messages",
                                key,
                                bodies[i],
                                {"Idempotency-Key": f"n{i}"},
                            )
                        )
                        status, body = await read_response(reader)
                    except (OSError, asyncio.IncompleteReadError):
                        todo.append(i)
                        result.connection_errors += 1
                        break
                    if status in (200, 202):
                        result.accepted[i] = json.loads(body)
                        if status == 202:
                            result.created += 1
                        else:
                            result.replayed += 1
                    else:
                        result.refused[status] = result.refused.get(status, 0) + 1
                    result.changed.set()
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
            await _until_restarted(gw, port)

    await asyncio.gather(*(client() for _ in range(concurrency)))


async def _until_restarted(gw: GatewayProcess, old_port: int) -> None:
    # `kill` clears `up` before the signal, so a connection cut by a crash waits here for the
    # next process (on a new port); an error while the same process still serves retries now.
    if gw.up.is_set() and (gw.port != old_port or gw.proc is None or gw.proc.returncode is None):
        await asyncio.sleep(0)
        return
    await gw.up.wait()


# ---- webhook sink -------------------------------------------------------------------------


@dataclass
class EventSink:
    """Records every webhook POST by event id; outlives the gateway processes (the server
    is smsgate.testing's WebhookSink)."""

    events: dict[str, dict[str, Any]] = field(default_factory=dict)  # event id → body
    repeats: int = 0  # the same event id again (allowed: at-least-once)
    conflicting: int = 0  # the same event id with a different body (never allowed)
    final: dict[str, str] = field(default_factory=dict)  # message id → final status seen
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    _sink: WebhookSink | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/cb"

    @property
    def port(self) -> int:
        return self._sink.port if self._sink is not None else 0

    @property
    def requests(self) -> int:
        return self._sink.requests if self._sink is not None else 0

    async def __aenter__(self) -> EventSink:
        self._sink = WebhookSink(keep=False, on_request=self._record)
        await self._sink.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._sink is not None
        await self._sink.stop()

    def _record(self, request: Received) -> None:
        event = json.loads(request.body)
        known = self.events.get(event["id"])
        if known is not None:
            self.repeats += 1
            if known != event:
                self.conflicting += 1
            return
        self.events[event["id"]] = event
        data = event["data"]
        if data["status"] in FINAL:
            self.final[data["id"]] = data["status"]
        self.changed.set()

    async def wait(self, predicate: Callable[[], bool], timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()


# ---- the database afterwards --------------------------------------------------------------


async def query(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of one SELECT on the gateway's database (SQLite file or PostgreSQL)."""
    if database_url.startswith("sqlite"):
        path = database_url.split(":///", 1)[1]
        with contextlib.closing(sqlite3.connect(path)) as conn:
            return [tuple(r) for r in conn.execute(sql).fetchall()]
    _scheme, rest = database_url.split("://", 1)
    conn = await asyncpg.connect("postgresql://" + rest)
    try:
        return [tuple(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()
