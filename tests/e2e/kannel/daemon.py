"""Kannel (bearerbox + smsbox) as an independent SMPP client of smsgate, for the interop test.

Kannel cannot listen on port 0, so its three ports (admin, smsbox, sendsms) are found by
binding port 0 and closing the socket; a start that loses that race (bearerbox or smsbox
exits: it cannot bind) is retried with fresh ports. Readiness is the bearerbox
admin `status.txt` page saying the SMPP link is online and an smsbox is connected: polled,
bounded. Both daemons log to files in the test's directory; `stop` ends them even when the
test failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

BEARERBOX = shutil.which("bearerbox") or "/usr/sbin/bearerbox"
SMSBOX = shutil.which("smsbox") or "/usr/sbin/smsbox"
ADMIN_PASSWORD = "adminpw"
SENDSMS_USER = "tester"
SENDSMS_PASSWORD = "testerpw"
SMSC_ID = "smsgate"
STARTS = 3
READY_S = 20.0


def installed() -> bool:
    return Path(BEARERBOX).is_file() and Path(SMSBOX).is_file()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config(
    *,
    tmp: Path,
    smpp_port: int,
    system_id: str,
    password: str,
    admin_port: int,
    smsbox_port: int,
    sendsms_port: int,
) -> str:
    """kannel.conf: one `smsc = smpp` transceiver to smsgate, an smsbox with sendsms.

    msg-id-type is deliberately absent: unset, Kannel keeps the submit_sm_resp message_id and
    the receipt's id as the C strings they are. Any value (0x00 included) makes Kannel read
    ids as numbers (strtoll, hex or decimal), and our alphanumeric `msg_...` ids would all
    become 0 and their receipts would be matched to the wrong message or to none.
    """
    return f"""\
group = core
admin-port = {admin_port}
admin-interface = 127.0.0.1
admin-password = {ADMIN_PASSWORD}
status-password = {ADMIN_PASSWORD}
admin-allow-ip = 127.0.0.1
smsbox-port = {smsbox_port}
smsbox-interface = 127.0.0.1
box-allow-ip = 127.0.0.1
log-file = "{tmp}/bearerbox.log"
log-level = 0
access-log = "{tmp}/access.log"
dlr-storage = internal

group = smsc
smsc = smpp
smsc-id = {SMSC_ID}
host = 127.0.0.1
port = {smpp_port}
transceiver-mode = true
smsc-username = "{system_id}"
smsc-password = "{password}"
system-type = ""
enquire-link-interval = 30
reconnect-delay = 1
max-pending-submits = 10

group = smsbox
bearerbox-host = 127.0.0.1
sendsms-port = {sendsms_port}
sendsms-interface = 127.0.0.1
log-file = "{tmp}/smsbox.log"
log-level = 0
access-log = "{tmp}/smsbox-access.log"

group = sendsms-user
username = {SENDSMS_USER}
password = {SENDSMS_PASSWORD}
max-messages = 10
concatenation = true
"""


@dataclass
class Kannel:
    """A running bearerbox + smsbox pair."""

    tmp: Path
    admin_port: int
    sendsms_port: int
    procs: list[asyncio.subprocess.Process]

    @property
    def sendsms_url(self) -> str:
        return f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms"

    async def status(self, client: httpx.AsyncClient) -> str:
        url = f"http://127.0.0.1:{self.admin_port}/status.txt"
        return (await client.get(url, params={"password": ADMIN_PASSWORD})).text

    def logs(self) -> str:
        parts = []
        for name in ("bearerbox.log", "smsbox.log"):
            path = self.tmp / name
            if path.exists():
                parts.append(f"--- {name} (tail) ---\n" + path.read_text()[-4000:])
        return "\n".join(parts)

    async def stop(self) -> None:
        for proc in reversed(self.procs):  # smsbox first, then bearerbox
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
                try:
                    async with asyncio.timeout(10):
                        await proc.wait()
                except TimeoutError:
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                    await proc.wait()


async def _spawn(argv: list[str], log: Path) -> asyncio.subprocess.Process:
    with log.open("wb") as out:
        return await asyncio.create_subprocess_exec(
            *argv, stdout=out, stderr=asyncio.subprocess.STDOUT, stdin=asyncio.subprocess.DEVNULL
        )


def _ready(status: str) -> bool:
    """The SMPP link is bound and an smsbox is connected (bearerbox status.txt)."""
    smsc_online = any(SMSC_ID in line and "(online" in line for line in status.splitlines())
    box_online = "smsbox:" in status and "on-line" in status
    return smsc_online and box_online


async def _poll(
    kannel: Kannel, check: Callable[[Kannel, httpx.AsyncClient], Awaitable[bool]]
) -> bool:
    """Poll `check` (bounded) until it holds: True; False if a daemon exited first."""
    deadline = time.monotonic() + READY_S
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            if any(p.returncode is not None for p in kannel.procs):
                return False
            with contextlib.suppress(httpx.HTTPError):
                if await check(kannel, client):
                    return True
            await asyncio.sleep(0.1)  # an external daemon: nothing to await but its answers
    raise TimeoutError("Kannel did not get ready in time:\n" + kannel.logs())


async def _answers(kannel: Kannel, client: httpx.AsyncClient) -> bool:
    """bearerbox's admin page answers: its smsbox port is open too (both open at start)."""
    await kannel.status(client)
    return True


async def _bound(kannel: Kannel, client: httpx.AsyncClient) -> bool:
    if not _ready(await kannel.status(client)):
        return False
    await client.get(kannel.sendsms_url)  # any answer: smsbox's HTTP interface is up
    return True


@contextlib.asynccontextmanager
async def running_kannel(
    tmp: Path, *, smpp_port: int, system_id: str, password: str
) -> AsyncIterator[Kannel]:
    for attempt in range(STARTS):
        run_dir = tmp / f"kannel-{attempt}"
        run_dir.mkdir()
        conf = run_dir / "kannel.conf"
        kannel = Kannel(run_dir, free_port(), free_port(), [])
        conf.write_text(
            config(
                tmp=run_dir,
                smpp_port=smpp_port,
                system_id=system_id,
                password=password,
                admin_port=kannel.admin_port,
                smsbox_port=free_port(),
                sendsms_port=kannel.sendsms_port,
            )
        )
        try:
            kannel.procs.append(await _spawn([BEARERBOX, str(conf)], run_dir / "bearerbox.out"))
            # smsbox gives up at once if bearerbox's smsbox port is not open yet.
            if not await _poll(kannel, _answers):
                continue
            kannel.procs.append(await _spawn([SMSBOX, str(conf)], run_dir / "smsbox.out"))
            if await _poll(kannel, _bound):
                yield kannel
                return
        finally:
            await kannel.stop()
    raise RuntimeError(f"Kannel failed to start {STARTS} times (port collisions?); see {tmp}")
