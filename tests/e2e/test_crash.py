"""DESIGN.md §7 durability: `kill -9` the gateway process at random moments (during ingest,
during dispatch, while receipts arrive) and check that nothing accepted is lost.

The gateway runs as `smsgate run --config` in a child process on a real database (a SQLite
file; PostgreSQL too when SMSGATE_TEST_PG_URL is set). The SMSC simulator and the webhook
receiver live in the test process, so they outlive every crash and their records are exact:
the simulator timestamps each submit_sm, which tells a part resent because it was in flight
at a crash from a part sent twice by mistake.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from smsgate.simulators.smsc import SmscSimulator, SmscSimulatorConfig
from smsgate.simulators.smsc_session import SmscSession
from smsgate.smpp.pdu import DataSm, SubmitSm
from tests.e2e.procs import (
    FINAL,
    EventSink,
    GatewayProcess,
    Submitted,
    create_account,
    query,
    send_all,
    write_config,
)

MESSAGES = int(os.environ.get("SMSGATE_CRASH_MESSAGES", "5000"))
LONG_EVERY = 10  # every 10th message needs two parts
SEED = int(os.environ.get("SMSGATE_CRASH_SEED", str(random.SystemRandom().randrange(1 << 30))))


class TimedSimulator(SmscSimulator):
    """The simulator, plus the time and the connection of every submit it received."""

    def __init__(self, config: SmscSimulatorConfig) -> None:
        super().__init__(config)
        self.arrivals: list[tuple[float, int, str, bytes]] = []
        self._session_numbers: dict[int, int] = {}

    def on_submit(self, session: SmscSession, pdu: SubmitSm | DataSm) -> None:
        short = pdu.short_message if isinstance(pdu, SubmitSm) else b""
        number = self._session_numbers.setdefault(id(session), len(self._session_numbers))
        now = asyncio.get_running_loop().time()
        self.arrivals.append((now, number, pdu.destination_addr, short))
        super().on_submit(session, pdu)


@dataclass
class Moments:
    """When to pull the plug, drawn from the seed."""

    ingest_at: int  # accepted messages
    dispatch_at: int  # distinct parts at the SMSC
    receipts_left: int  # receipts still to come


def bodies(sink_url: str) -> list[dict[str, Any]]:
    out = []
    for i in range(MESSAGES):
        text = f"crash test message {i}"
        if i % LONG_EVERY == 0:
            text = (text + " " + "long " * 40).strip()
        # Last four digits never hit the simulator's magic suffixes (9990-9995).
        out.append(
            {"to": f"+3598881{i:05d}", "from": "CRASH", "text": text, "callback_url": sink_url}
        )
    return out


def expected_parts(accepted: dict[int, dict[str, Any]]) -> int:
    return sum(int(m["parts"]) for m in accepted.values())


def in_flight_duplicates(sim: TimedSimulator) -> tuple[int, list[str]]:
    """Parts the SMSC saw more than once: how many, and those NOT explained by a crash.

    Each gateway process binds once (the test checks), so a connection stands for a process:
    a part may come again on a later connection (it was in flight when its process was
    killed), never twice on the same one.
    """
    seen: dict[tuple[str, bytes], list[tuple[float, int]]] = defaultdict(list)
    for at, connection, destination, short in sim.arrivals:
        seen[destination, short].append((at, connection))
    repeats = 0
    unexplained = []
    for key, submits in seen.items():
        for (t1, c1), (t2, c2) in itertools.pairwise(submits):
            repeats += 1
            if c1 == c2:
                unexplained.append(f"{key[0]} twice on connection {c1} ({t1:.3f}, {t2:.3f})")
    return repeats, unexplained


async def crash_run(database_url: str, tmp_path: Path) -> dict[str, Any]:
    rng = random.Random(SEED)
    T0[0] = asyncio.get_running_loop().time()
    moments = Moments(
        ingest_at=rng.randrange(MESSAGES // 6, MESSAGES // 3),
        dispatch_at=rng.randrange(MESSAGES // 2, MESSAGES * 3 // 4),
        receipts_left=rng.randrange(50, 400),
    )
    sim_cfg = SmscSimulatorConfig(system_id="gw", password="pw", receipt_delay=1.5, seed=SEED)
    async with TimedSimulator(sim_cfg) as sim, EventSink() as sink:
        config = write_config(
            tmp_path / "gw.toml",
            database_url=database_url,
            sim_port=sim.port,
            connector={"tps": 400},
        )
        key = await create_account(config, "crash")
        gw = GatewayProcess(config, tmp_path / "gateway.log")
        await gw.start()
        sent = Submitted()
        all_bodies = bodies(sink.url)
        sender = asyncio.create_task(send_all(gw, key, all_bodies, concurrency=16, result=sent))
        phases: list[str] = []
        try:
            async with asyncio.timeout(300):
                # 1. During ingest.
                while len(sent.accepted) < moments.ingest_at:
                    sent.changed.clear()
                    await sent.changed.wait()
                await gw.kill()
                phases.append(f"{_t()} ingest: {len(sent.accepted)} accepted")
                await gw.start()
                # 2. During dispatch (ingest may still be going on).
                await sim.wait_until(lambda: len(sim.submit_counts) >= moments.dispatch_at)
                await gw.kill()
                phases.append(f"{_t()} dispatch: {len(sim.submit_counts)} parts at the SMSC")
                await gw.start()
                await sender
                total_parts = expected_parts(sent.accepted)
                # 3. While receipts arrive: everything is at the SMSC, receipts are not all in.
                await sim.wait_until(lambda: len(sim.submit_counts) >= total_parts)
                acked = _acked_receipts(sim)
                if total_parts - acked < moments.receipts_left:
                    moments.receipts_left = max(1, (total_parts - acked) // 2)
                await sim.wait_until(
                    lambda: total_parts - _acked_receipts(sim) <= moments.receipts_left
                )
                await gw.kill()
                phases.append(
                    f"{_t()} receipts: {total_parts - _acked_receipts(sim)} receipts to come"
                )
                await gw.start()
                # 4. One more, right after a restart: while claims are released and rebinding.
                await sim.wait_until(lambda: sim.binds >= gw.starts)
                await gw.kill()
                phases.append(f"{_t()} right after rebinding")
                await gw.start()
                ids = {m["id"] for m in sent.accepted.values()}
                await sink.wait(lambda: ids <= sink.final.keys(), timeout=180)
                phases.append(f"{_t()} all final")
        except TimeoutError as exc:
            state = {
                "phases": phases,
                "accepted": len(sent.accepted),
                "sim": sim.stats(),
                "final_seen": len(sink.final),
            }
            raise AssertionError(f"stuck: {state}\n{gw.log_tail()}") from exc
        finally:
            if not sender.done():
                sender.cancel()
            code = await gw.stop()
        assert code == 0, gw.log_tail()
        return await _verify(database_url, sim, sink, sent, gw, phases, total_parts)


def _t() -> str:
    return f"{asyncio.get_running_loop().time() - T0[0]:.1f}s"


T0 = [0.0]


def _acked_receipts(sim: SmscSimulator) -> int:
    return len({r.message_id for r in sim.receipts_sent if r.status == 0})


async def _verify(
    database_url: str,
    sim: TimedSimulator,
    sink: EventSink,
    sent: Submitted,
    gw: GatewayProcess,
    phases: list[str],
    total_parts: int,
) -> dict[str, Any]:
    # Every message that got a 2xx is final, and delivered (the simulator fails nothing).
    assert len(sent.accepted) == MESSAGES, sent.refused
    ids = {m["id"] for m in sent.accepted.values()}
    assert len(ids) == MESSAGES  # an idempotent replay returned the same message
    assert {sink.final[i] for i in ids} == {"delivered"}
    rows = await query(database_url, "SELECT id, status FROM messages")
    statuses = dict(rows)
    assert ids <= statuses.keys()
    assert {statuses[i] for i in ids} == {"delivered"}
    assert all(s in FINAL for s in statuses.values())
    parts = await query(database_url, "SELECT status, count(*) FROM parts GROUP BY status")
    assert dict(parts) == {"delivered": total_parts}
    # The SMSC saw every part of every message (each message has its own number); repeats
    # only for parts in flight at a crash.
    by_number = Counter(destination for destination, _short in sim.submit_counts)
    for i, message in sent.accepted.items():
        assert by_number[f"3598881{i:05d}"] == message["parts"], message
    assert len(sim.submit_counts) == total_parts
    # One connection per gateway process (no reconnects in this test).
    assert sim.connections == gw.starts, (sim.connections, gw.starts)
    duplicates, unexplained = in_flight_duplicates(sim)
    assert unexplained == []
    # No webhook event lost: every event the gateway recorded reached the sink (repeats of
    # an event carry its id and the same body).
    deliveries = await query(database_url, "SELECT event_id, status FROM webhook_deliveries")
    # (A delivery still "pending" reached the sink but its attempt was not recorded before a
    # crash or the final stop: it goes out again later, with the same event id.)
    assert {s for _, s in deliveries} <= {"delivered", "pending"}
    assert {e for e, _ in deliveries} == sink.events.keys()
    assert sink.conflicting == 0
    return {
        "database": database_url.split(":", 1)[0],
        "seed": SEED,
        "kills": len(gw.kills),
        "phases": phases,
        "accepted": len(sent.accepted),
        "accepted_202": sent.created,
        "replayed_200_after_crash": sent.replayed,
        "requests_cut_by_crash": sent.connection_errors,
        "parts": total_parts,
        "final": sum(1 for i in ids if statuses[i] in FINAL),
        "parts_submitted": len(sim.arrivals),
        "duplicates_in_flight": duplicates,
        "receipts_sent": len(sim.receipts_sent),
        "webhook_events": len(sink.events),
        "webhook_repeats": sink.repeats,
    }


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_kill_9_loses_nothing(
    db_url: str, tmp_path: Path, record_property: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    counts = await crash_run(db_url, tmp_path)
    assert counts["kills"] >= 3
    line = json.dumps({"crash_test": counts})
    record_property("crash_test", line)
    (tmp_path / "crash-counts.json").write_text(line)
    with capsys.disabled():
        print("\n" + line)
