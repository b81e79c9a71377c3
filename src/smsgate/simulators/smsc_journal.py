"""What the simulated SMSC owes, kept in its state file so a restart (even `kill -9`) keeps it.

A real SMSC stores the delivery receipts it still has to send and sends them when the ESME
binds again. The simulator does the same with an append-only journal of JSON lines:

    {"owed": {...}}     a receipt it owes (`OwedReceipt`), written before the submit_sm_resp
                        that gives its message id leaves the simulator
    {"settled": N}      that receipt was acknowledged (or given up after its attempts)
    {"issued": N}       the highest message number handed out so far, so a restart never
                        hands out an id again

Lines are appended with one `write` per event-loop pass (the sessions call `write_pending`
before they write to their sockets) and made durable by an `fsync` every `sync_interval`, in a
thread. At open the journal is read, a torn last line is ignored, and the file is rewritten with
only what is still owed; it is rewritten the same way whenever settled lines outnumber the owed
ones many times. The file is 0600, like every other file holding messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from smsgate.private_files import FILE_MODE, private_dir, write_private
from smsgate.simulators.smsc_config import SimulatorError
from smsgate.simulators.smsc_pdus import receipt_pdu
from smsgate.smpp.pdu import DataSm, DeliverSm, SubmitSm

__all__ = ["OwedReceipt", "ReceiptJournal"]

COMPACT_MIN_LINES = 10_000


@dataclass(frozen=True, slots=True, kw_only=True)
class OwedReceipt:
    """A delivery receipt the SMSC still has to send (times are Unix seconds)."""

    number: int  # the simulator's message number (its id before formatting)
    system_id: str  # the ESME it is owed to
    message_id: str  # as written in the receipt
    stat: str  # DELIVRD, UNDELIV, EXPIRED
    source: tuple[int, int, str]  # the message's source (ton, npi, address)
    destination: tuple[int, int, str]  # the message's destination
    text: str  # the receipt's short_message (latin-1)
    submitted_at: float
    due_at: float

    def pdu(self) -> DeliverSm:
        """The receipt's deliver_sm (sequence_number 0: the session numbers it)."""
        text = self.text.encode("latin-1")
        return receipt_pdu(self.source, self.destination, text, self.message_id, self.stat)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OwedReceipt:
        src, dst = data["source"], data["destination"]
        return cls(
            number=int(data["number"]),
            system_id=str(data["system_id"]),
            message_id=str(data["message_id"]),
            stat=str(data["stat"]),
            source=(int(src[0]), int(src[1]), str(src[2])),
            destination=(int(dst[0]), int(dst[1]), str(dst[2])),
            text=str(data["text"]),
            submitted_at=float(data["submitted_at"]),
            due_at=float(data["due_at"]),
        )


class ReceiptJournal:
    """The state file of one simulator; `open` it, then `owe`, `settle`, `issued`, `close`."""

    def __init__(self, path: Path, fd: int, *, sync_interval: float, compact_min: int) -> None:
        self.path = path
        self._fd = fd
        self._sync_interval = sync_interval
        self._compact_min = compact_min
        self._owed: dict[int, bytes] = {}  # number → its line, to rewrite the file
        self._buffer: list[bytes] = []
        self._lines = 0  # lines in the file
        self._issued = self._issued_written = -1
        self._timer: asyncio.TimerHandle | None = None
        self._syncing: asyncio.Future[None] | None = None
        self._dirty = False  # written since the last fsync started

    @classmethod
    def open(
        cls, path: Path, *, sync_interval: float = 0.2, compact_min: int = COMPACT_MIN_LINES
    ) -> tuple[ReceiptJournal, list[OwedReceipt], int]:
        """The journal at `path` (created 0600 if missing), what it still owes, and the
        highest message number it ever handed out (-1: none)."""
        owed: dict[int, OwedReceipt] = {}
        issued = -1
        torn = 0  # the number of the last unreadable line
        with contextlib.suppress(FileNotFoundError), path.open("rb") as f:
            for number, line in enumerate(f, 1):
                if torn:  # only the last line may be cut short (by a kill in mid-write)
                    raise SimulatorError(f"{path}:{torn}: not a simulator state file")
                named = _replay(line, owed)
                if named is None:
                    torn = number
                else:
                    issued = max(issued, named)
        issued = max([issued, *owed])
        if not path.parent.exists():
            private_dir(path.parent, tighten=False)
        journal_lines = [_line({"issued": issued})] if issued >= 0 else []
        journal_lines += [_line({"owed": r}) for r in owed.values()]
        write_private(path, b"".join(journal_lines))
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
        os.fchmod(fd, FILE_MODE)
        journal = cls(path, fd, sync_interval=sync_interval, compact_min=compact_min)
        journal._lines = len(journal_lines)
        journal._issued = journal._issued_written = issued
        journal._owed = {n: _line({"owed": r}) for n, r in owed.items()}
        return journal, sorted(owed.values(), key=lambda r: r.due_at), issued

    # -- recording ---------------------------------------------------------------------------

    def owe(
        self, pdu: SubmitSm | DataSm, receipt: DeliverSm, *, number: int, system_id: str,
        message_id: str, stat: str, delay: float,
    ) -> None:  # fmt: skip
        """Record `receipt` for `pdu`, owed to `system_id` `delay` seconds from now."""
        # Straight to JSON, no OwedReceipt: this runs for every submit (a few µs saved).
        now = time.time()
        line = _line(
            {
                "owed": {
                    "number": number,
                    "system_id": system_id,
                    "message_id": message_id,
                    "stat": stat,
                    "source": (pdu.source_addr_ton, pdu.source_addr_npi, pdu.source_addr),
                    "destination": (pdu.dest_addr_ton, pdu.dest_addr_npi, pdu.destination_addr),
                    "text": receipt.short_message.decode("latin-1"),
                    "submitted_at": now,
                    "due_at": now + delay,
                }
            }
        )
        self._owed[number] = line
        self._append(line)

    def settle(self, number: int) -> None:
        if self._owed.pop(number, None) is not None:
            self._append(_line({"settled": number}))

    def issued(self, number: int) -> None:
        """The simulator handed out message `number` (written with the next batch)."""
        if number > self._issued:
            self._issued = number
            self._schedule()

    @property
    def owed_count(self) -> int:
        return len(self._owed)

    def _append(self, line: bytes) -> None:
        self._buffer.append(line)
        self._schedule()

    def _schedule(self) -> None:
        if self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self._sync_interval, self.sync)

    # -- writing -----------------------------------------------------------------------------

    def write_pending(self) -> None:
        """Hand what was recorded to the kernel (it survives a killed process from here)."""
        if self._issued > self._issued_written:
            self._buffer.append(_line({"issued": self._issued}))
            self._issued_written = self._issued
        if not self._buffer:
            return
        data = b"".join(self._buffer)
        self._lines += len(self._buffer)
        self._buffer.clear()
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        self._dirty = True

    def sync(self) -> None:
        """Write what is pending, compact the file when settled lines dominate it, and start
        an fsync in a thread (run every `sync_interval` while something changes)."""
        if self._timer is not None:
            self._timer.cancel()  # a no-op when it is the timer calling
            self._timer = None
        self.write_pending()
        if self._syncing is not None:
            self._schedule()  # the last fsync is still running: look again later
            return
        if self._lines > self._compact_min and self._lines > 4 * len(self._owed):
            self._compact()
        if self._dirty:
            self._dirty = False
            loop = asyncio.get_running_loop()
            self._syncing = loop.run_in_executor(None, os.fsync, self._fd)
            self._syncing.add_done_callback(self._synced)

    def _synced(self, future: asyncio.Future[None]) -> None:
        self._syncing = None
        if not future.cancelled() and future.exception() is not None:
            self._dirty = True  # try again with the next batch

    def _compact(self) -> None:
        """Rewrite the file with only what is still owed (no fsync runs on the old one)."""
        lines = [_line({"issued": self._issued_written}), *self._owed.values()]
        write_private(self.path, b"".join(lines))
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
        os.close(self._fd)
        self._fd = fd
        self._lines = len(lines)
        self._dirty = False

    async def close(self) -> None:
        """Write and fsync what is left, then close the file (what is owed stays owed)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._syncing is not None:
            with contextlib.suppress(OSError):
                await self._syncing
        self.write_pending()
        os.fsync(self._fd)
        os.close(self._fd)


def _line(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record) + b"\n"


def _replay(line: bytes, owed: dict[int, OwedReceipt]) -> int | None:
    """Apply one journal line to `owed`; the message number it names (-1: none), or None
    when the line is not one of ours (e.g. cut short by a kill: it never took effect)."""
    try:
        record = orjson.loads(line)
        if "owed" in record:
            receipt = OwedReceipt.from_json(record["owed"])
            owed[receipt.number] = receipt
            return receipt.number
        if "settled" in record:
            owed.pop(int(record["settled"]), None)
            return -1
        return int(record["issued"])
    except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError, IndexError):
        return None
