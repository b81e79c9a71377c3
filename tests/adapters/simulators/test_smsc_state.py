"""The SMSC simulator keeps the receipts it owes in its state file, across a `kill -9`, and
sends them when the ESME binds again, as a real SMSC does (issue 10, 2.14)."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from smsgate.simulators.smsc import SimulatorError, SmscSimulator, SmscSimulatorConfig
from smsgate.simulators.smsc_journal import ReceiptJournal
from smsgate.simulators.smsc_pdus import build_receipt_pdu
from smsgate.smpp.pdu import SubmitSm

from .test_smsc_simulator import WAIT, _client, _submit_and_wait_receipt

SIMULATOR = [sys.executable, "-m", "smsgate.cli", "simulator", "smpp", "--port", "0"]


@pytest.fixture
def simulators() -> Iterator[list[subprocess.Popen[str]]]:
    """`smsgate simulator smpp` processes started by a test; killed at its end."""
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _start(procs: list[subprocess.Popen[str]], *args: str) -> int:
    """Start a simulator process; its SMPP port, read from what it prints when it listens."""
    proc = subprocess.Popen(
        [*SIMULATOR, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, umask=0
    )
    procs.append(proc)
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("SMPP simulator listening on"):
            return int(line.rsplit(":", 1)[1])
    raise AssertionError("the simulator ended early:\n" + "".join(seen))


def _submit_as_transmitter(port: int) -> str:
    """Bind as a transmitter only (so no receipt can go out), submit, return the message id."""
    client = _client(port)
    got: list[Any] = []
    try:
        client.bind_transmitter(system_id="shop", password="x")
        client.set_message_sent_handler(lambda pdu: got.append(pdu))
        client.send_message(
            source_addr_ton=5, source_addr="Shop", dest_addr_ton=1, dest_addr_npi=1,
            destination_addr="491701234567", short_message=b"kept across a kill",
            registered_delivery=1,
        )  # fmt: skip
        while not got:
            client.read_once()
    finally:
        client.disconnect()
    return str(got[0].message_id.decode())


def _receive_receipt(port: int, system_id: str = "shop") -> Any:
    client = _client(port)
    got: list[Any] = []
    try:
        client.bind_receiver(system_id=system_id, password="x")
        client.set_message_received_handler(lambda pdu: got.append(pdu) or None)
        while not got:
            client.read_once()
        client.unbind()
    finally:
        client.disconnect()
    return got[0]


async def test_owed_receipt_is_sent_after_a_kill_9_and_a_rebind(
    tmp_path: Path, simulators: list[subprocess.Popen[str]]
) -> None:
    state = tmp_path / "sim-state.jsonl"
    port = _start(simulators, "--state-file", str(state), "--receipt-delay", "0.1")
    message_id = await asyncio.wait_for(asyncio.to_thread(_submit_as_transmitter, port), WAIT)
    simulators[0].send_signal(signal.SIGKILL)  # no shutdown code runs: nothing is flushed
    simulators[0].wait()
    assert stat.S_IMODE(state.stat().st_mode) == 0o600  # started with umask 0

    port = _start(simulators, "--state-file", str(state), "--receipt-delay", "0.1")
    receipt = await asyncio.wait_for(asyncio.to_thread(_receive_receipt, port), WAIT)
    assert receipt.esm_class == 0x04
    assert receipt.receipted_message_id.rstrip(b"\0").decode() == message_id
    text = receipt.short_message.decode()
    assert text.startswith(f"id:{message_id} sub:001 dlvrd:001 ")
    assert "stat:DELIVRD" in text
    assert "text:kept across a kill" in text
    assert receipt.destination_addr.decode() == "Shop"
    assert receipt.source_addr.decode() == "491701234567"


async def test_a_receipt_waits_for_its_own_system_id(tmp_path: Path) -> None:
    state = tmp_path / "sim-state.jsonl"
    cfg = SmscSimulatorConfig(receipt_delay=0.0, state_file=str(state))
    async with SmscSimulator(cfg) as sim:
        message_id = await asyncio.wait_for(
            asyncio.to_thread(_submit_as_transmitter, sim.port), WAIT
        )
    async with SmscSimulator(cfg) as sim:
        assert sim.stats()["receipts_pending"] == 1
        other = asyncio.create_task(asyncio.to_thread(_receive_receipt, sim.port, "other"))
        await sim.wait_until(lambda: sim.stats()["bound"] == 1)
        mine = await asyncio.wait_for(asyncio.to_thread(_receive_receipt, sim.port), WAIT)
        assert mine.receipted_message_id.rstrip(b"\0").decode() == message_id
        assert not other.done()  # nothing was owed to "other"
        await sim.inject_mo("4917012345", "12345", "bye", system_id="other")
        await asyncio.wait_for(other, WAIT)
        assert (await other).esm_class == 0  # what "other" got was the MO, not a receipt


async def test_settled_receipts_are_not_owed_again_and_ids_are_not_reused(tmp_path: Path) -> None:
    state = tmp_path / "sim-state.jsonl"
    # The same seed twice: without the state file both runs would hand out the same ids.
    cfg = SmscSimulatorConfig(receipt_delay=0.0, seed=7, state_file=str(state))
    async with SmscSimulator(cfg) as sim:
        first = await asyncio.wait_for(asyncio.to_thread(_submit_and_wait_receipt, sim.port), WAIT)
    async with SmscSimulator(cfg) as sim:
        assert sim.stats()["receipts_pending"] == 0
        second = await asyncio.wait_for(asyncio.to_thread(_submit_and_wait_receipt, sim.port), WAIT)
    assert first["resp"].message_id != second["resp"].message_id
    assert [r.stat for r in sim.receipts_sent] == ["DELIVRD"]  # the new one, once


async def test_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    state = tmp_path / "sim-state.jsonl"
    cfg = SmscSimulatorConfig(receipt_delay=3600.0, state_file=str(state))
    async with SmscSimulator(cfg) as sim:
        await asyncio.wait_for(asyncio.to_thread(_submit_as_transmitter, sim.port), WAIT)
        await asyncio.wait_for(asyncio.to_thread(_submit_as_transmitter, sim.port), WAIT)
    with state.open("ab") as f:
        f.write(b'{"owed": {"number": 1, "system_id": "sh')  # a kill in mid-write
    journal, owed, issued = ReceiptJournal.open(state)
    await journal.close()
    assert len(owed) == 2
    assert issued == max(r.number for r in owed)
    assert {r.system_id for r in owed} == {"shop"}
    assert all(r.due_at - r.submitted_at == pytest.approx(3600.0) for r in owed)
    assert os.stat(state).st_size > 0


async def test_a_file_that_is_not_a_state_file_is_refused_untouched(tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("line one\nline two\n")
    cfg = SmscSimulatorConfig(state_file=str(other))
    with pytest.raises(SimulatorError, match="not a simulator state file"):
        async with SmscSimulator(cfg):
            pass
    assert other.read_text() == "line one\nline two\n"


async def test_the_state_file_directory_is_made_private(tmp_path: Path) -> None:
    state = tmp_path / "new" / "state.jsonl"
    async with SmscSimulator(SmscSimulatorConfig(state_file=str(state))):
        pass
    assert stat.S_IMODE(state.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(state.stat().st_mode) == 0o600


async def test_journal_is_compacted_when_settled_lines_dominate(tmp_path: Path) -> None:
    state = tmp_path / "journal.jsonl"
    journal, owed, issued = ReceiptJournal.open(state, compact_min=10)
    assert (owed, issued) == ([], -1)
    submit = SubmitSm(sequence_number=1, source_addr="Shop", destination_addr="491701234567")
    receipt = build_receipt_pdu(submit, b"hi", "2a", "DELIVRD", "000", "2601010000")
    for number in range(30):
        journal.issued(number)
        journal.owe(
            submit, receipt, number=number, system_id="shop", message_id=f"{number:x}",
            stat="DELIVRD", delay=1.0,
        )  # fmt: skip
    for number in range(25):
        journal.settle(number)
    journal.sync()
    assert len(state.read_bytes().splitlines()) == 1 + 5  # the high-water mark, five owed
    journal.settle(25)
    await journal.close()
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    journal, owed, issued = ReceiptJournal.open(state)
    await journal.close()
    assert [r.number for r in owed] == [26, 27, 28, 29]
    assert issued == 29
    assert owed[0].pdu().short_message == receipt.short_message
    assert owed[0].pdu().destination_addr == "Shop"
