"""DESIGN.md §7 durability: `kill -9` the gateway process at random moments (during ingest,
during dispatch, while receipts arrive, right after rebinding) and check that nothing
accepted is lost.

The gateway runs as `smsgate run --config` in a child process on a real database (a SQLite
file; PostgreSQL too when SMSGATE_TEST_PG_URL is set). Three messages in five come in over
HTTP (one account, a callback_url each), two as submit_sm from an ESME bound to the
gateway's SMPP server as a transceiver (another account, with a webhook; registered_delivery
1; a few long ones as UDH parts): see crash_traffic.py. The SMSC simulator, the webhook
receiver and the ESME live in the test process, so they outlive every crash and their
records are exact: the simulator timestamps each submit_sm, which tells a part resent because
it was in flight at a crash from a part sent twice by mistake; the ESME knows which
submit_sm got ESME_ROK and which receipts came back.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from smsgate.simulators.smsc import SmscSimulator, SmscSimulatorConfig
from smsgate.simulators.smsc_session import SmscSession
from smsgate.smpp import MessageState
from smsgate.smpp.pdu import DataSm, SubmitSm
from tests.e2e.crash_traffic import (
    SMPP_LOGIN,
    Kicking,
    Traffic,
    message_id,
    number,
    smpp_customer,
    smpp_units,
    until,
)
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
from tests.e2e.smpp_esme import CrashEsme, EsmeRecord

MESSAGES = int(os.environ.get("SMSGATE_CRASH_MESSAGES", "5000"))
SEED = int(os.environ.get("SMSGATE_CRASH_SEED", str(random.SystemRandom().randrange(1 << 30))))
HTTP_CLIENTS = 16
SMPP_WINDOW = 16


class TimedSimulator(SmscSimulator):
    """The simulator, plus the time and the connection of every submit it received."""

    def __init__(self, config: SmscSimulatorConfig) -> None:
        super().__init__(config)
        self.arrivals: list[tuple[float, int, str, bytes]] = []
        # Keyed by the session itself, which this keeps alive: the id() of a closed session
        # may be reused by a later one and make two connections look like one.
        self._session_numbers: dict[SmscSession, int] = {}

    def on_submit(self, session: SmscSession, pdu: SubmitSm | DataSm) -> None:
        short = pdu.short_message if isinstance(pdu, SubmitSm) else b""
        number = self._session_numbers.setdefault(session, len(self._session_numbers))
        now = asyncio.get_running_loop().time()
        self.arrivals.append((now, number, pdu.destination_addr, short))
        super().on_submit(session, pdu)

    def acked_receipts(self) -> int:
        return len({r.message_id for r in self.receipts_sent if r.status == 0})


@dataclass
class Moments:
    """When to pull the plug, drawn from the seed."""

    http_at: int  # ingest: messages accepted over HTTP …
    smpp_at: int  # … and submit_sm acknowledged
    dispatch_at: int  # distinct parts at the SMSC
    receipts_left: int  # receipts still to come

    @staticmethod
    def draw(rng: random.Random, traffic: Traffic) -> Moments:
        http, units = len(traffic.http), len(traffic.units)
        return Moments(
            http_at=rng.randrange(http // 6, http // 3),
            smpp_at=rng.randrange(units // 6, units // 3),
            dispatch_at=rng.randrange(MESSAGES // 2, MESSAGES * 3 // 4),
            receipts_left=rng.randrange(50, 400),
        )


def in_flight_duplicates(sim: TimedSimulator, kills: list[float]) -> tuple[int, list[str]]:
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
    for (destination, short), submits in seen.items():
        for (t1, c1), (t2, c2) in itertools.pairwise(submits):
            repeats += 1
            if c1 == c2:
                between = [f"{k:.3f}" for k in kills if t1 < k < t2]
                unexplained.append(
                    f"{destination} {short!r} twice on connection {c1} at {t1:.3f} and "
                    f"{t2:.3f} (kills between: {between})"
                )
    return repeats, unexplained


@dataclass
class Run:
    """One crash run: the gateway process, the peers that outlive it, and what they saw."""

    database_url: str
    traffic: Traffic
    moments: Moments
    sim: TimedSimulator
    sink: EventSink
    gw: GatewayProcess
    sent: Submitted
    esme: CrashEsme
    phases: list[str] = field(default_factory=list)
    t0: float = field(default_factory=lambda: asyncio.get_running_loop().time())

    @property
    def rec(self) -> EsmeRecord:
        return self.esme.record

    async def restart(self, what: Callable[[], str]) -> None:
        """kill -9, note the moment, start the next process."""
        await self.gw.kill()
        now = asyncio.get_running_loop().time() - self.t0
        self.phases.append(f"{now:.1f}s {what()}")
        await self.gw.start()

    def note(self, what: str) -> None:
        self.phases.append(f"{asyncio.get_running_loop().time() - self.t0:.1f}s {what}")

    async def during_ingest(self, http_progress: asyncio.Event) -> None:
        m, sent, rec = self.moments, self.sent, self.rec
        await until(
            lambda: len(sent.accepted) >= m.http_at and len(rec.accepted) >= m.smpp_at,
            http_progress,
            rec.changed,
        )
        await self.restart(
            lambda: (
                f"ingest: {len(sent.accepted)}/{len(self.traffic.http)} accepted over "
                f"HTTP, {len(rec.accepted)}/{len(self.traffic.units)} submit_sm over SMPP"
            )
        )

    async def during_dispatch(self) -> None:
        # Ingest may still be going on.
        sim = self.sim
        await sim.wait_until(lambda: len(sim.submit_counts) >= self.moments.dispatch_at)
        await self.restart(lambda: f"dispatch: {len(sim.submit_counts)} parts at the SMSC")

    async def while_receipts_arrive(self) -> None:
        # Everything accepted is at the SMSC (except parts held back after a crash split a
        # long SMPP message), receipts are not all in.
        sim, rec = self.sim, self.rec
        held = self.traffic.split_long(rec)
        total = sum(int(m["parts"]) for m in self.sent.accepted.values()) + sum(
            1 for index in rec.accepted if self.traffic.units[index][0] not in held
        )
        await sim.wait_until(lambda: len(sim.submit_counts) >= total)
        left = total - sim.acked_receipts()
        if left < self.moments.receipts_left:
            self.moments.receipts_left = max(1, left // 2)
        await sim.wait_until(lambda: total - sim.acked_receipts() <= self.moments.receipts_left)
        await self.restart(
            lambda: (
                f"receipts: {total - sim.acked_receipts()} receipts to come, "
                f"{rec.receipts.total()} at the ESME"
            )
        )

    async def right_after_rebinding(self) -> None:
        # While claims are released and both binds are made again (the gateway's to the
        # SMSC, the ESME's to the gateway, which then gets the receipts kept for it).
        await self.sim.wait_until(lambda: self.sim.binds >= self.gw.starts)
        await until(lambda: self.esme.bound_port == self.gw.smpp_port, self.rec.changed)
        await self.restart(lambda: "right after rebinding")

    async def all_final(self) -> None:
        rec, sink = self.rec, self.sink
        ids = {m["id"] for m in self.sent.accepted.values()}
        ids |= {message_id(sid) for sid in rec.accepted.values()}
        await sink.wait(lambda: ids <= sink.final.keys(), timeout=180)
        await self.esme.wait(lambda r: set(r.accepted.values()) <= r.receipts.keys(), 60)
        # Submits committed but unanswered at a crash are messages too: final, and receipted
        # to the ESME (with an id it never got).
        units = await smpp_units(self.database_url)
        ids |= {message_id(unit) for unit in units}
        await sink.wait(lambda: ids <= sink.final.keys(), timeout=120)
        await self.esme.wait(lambda r: units <= r.receipts.keys(), 60)
        self.note("all final, every receipt at the ESME")

    def stuck(self) -> dict[str, Any]:
        return {
            "phases": self.phases,
            "accepted_http": len(self.sent.accepted),
            "accepted_smpp": len(self.rec.accepted),
            "receipts_at_esme": len(self.rec.receipts),
            "sim": self.sim.stats(),
            "final_seen": len(self.sink.final),
        }


async def crash_run(database_url: str, tmp_path: Path) -> dict[str, Any]:
    traffic = Traffic.plan(MESSAGES)
    moments = Moments.draw(random.Random(SEED), traffic)
    sim = TimedSimulator(
        SmscSimulatorConfig(system_id="gw", password="pw", receipt_delay=1.5, seed=SEED)
    )
    async with sim, EventSink() as sink:
        config = write_config(
            tmp_path / "gw.toml",
            database_url=database_url,
            sim_port=sim.port,
            smpp_enabled=True,
            connector={"tps": 400},
        )
        key = await create_account(config, "crash")
        gw = GatewayProcess(config, tmp_path / "gateway.log")
        await gw.start()
        await smpp_customer(config, gw, sink.url)
        http_progress = Kicking()
        sent = Submitted(changed=http_progress)

        def pace() -> int:
            # SMPP ingest keeps in step with HTTP ingest (so a kill during ingest cuts both).
            done, total, units = len(sent.accepted), len(traffic.http), len(traffic.units)
            return units if done >= total else (done + 2 * HTTP_CLIENTS) * units // total

        esme = CrashEsme(
            gw,
            system_id=SMPP_LOGIN[0],
            password=SMPP_LOGIN[1],
            count=len(traffic.units),
            make=traffic.submit_sm,
            window=SMPP_WINDOW,
            pace=pace,
        )
        http_progress.on_set = esme.kick
        run = Run(database_url, traffic, moments, sim, sink, gw, sent, esme)
        try:
            async with asyncio.timeout(400), asyncio.TaskGroup() as tg:
                bodies = traffic.bodies(sink.url)
                sender = tg.create_task(
                    send_all(gw, key, bodies, concurrency=HTTP_CLIENTS, result=sent)
                )
                esme_task = tg.create_task(esme.run())
                await run.during_ingest(http_progress)
                await run.during_dispatch()
                await sender
                await esme.all_answered.wait()
                run.note("all accepted")
                await run.while_receipts_arrive()
                await run.right_after_rebinding()
                await run.all_final()
                await esme.close()
                esme_task.cancel()
        except BaseException as exc:
            if isinstance(exc, TimeoutError) or (
                isinstance(exc, BaseExceptionGroup) and exc.subgroup(TimeoutError)
            ):
                raise AssertionError(f"stuck: {run.stuck()}\n{gw.log_tail()}") from exc
            raise
        finally:
            code = await gw.stop()
        assert code == 0, gw.log_tail()
        return await _verify(run)


async def _verify(run: Run) -> dict[str, Any]:
    database_url, sink, gw = run.database_url, run.sink, run.gw
    rows = await query(
        database_url,
        "SELECT m.id, a.name, m.status, m.to_addr FROM messages m "
        "JOIN accounts a ON a.id = m.account_id",
    )
    statuses = {mid: status for mid, _name, status, _to in rows}
    assert all(s in FINAL for s in statuses.values())
    http_counts = _verify_http(run.sent, sink, statuses, len(run.traffic.http))
    units = await smpp_units(database_url)
    smpp_counts = _verify_smpp(run.rec, sink, statuses, units, run.traffic)
    parts_counts = await _verify_smsc(database_url, run.sim, run.sent, run.traffic, gw)
    await _verify_webhooks(database_url, sink)
    left = await query(database_url, "SELECT count(*) FROM smpp_outbox")
    final = sum(1 for _mid, _name, status, _to in rows if status in FINAL)
    return {
        "database": database_url.split(":", 1)[0],
        "seed": SEED,
        "kills": len(gw.kills),
        "phases": run.phases,
        "accepted": http_counts["accepted_http"] + smpp_counts["accepted_smpp"],
        **http_counts,
        **smpp_counts,
        "messages_in_database": len(rows),
        "final": final,
        **parts_counts,
        "receipts_sent": len(run.sim.receipts_sent),
        "webhook_events": len(sink.events),
        "webhook_repeats": sink.repeats,
        "smpp_outbox_left": left[0][0],
    }


def _verify_http(
    sent: Submitted, sink: EventSink, statuses: dict[str, str], expected: int
) -> dict[str, Any]:
    # Every message that got a 2xx is final, and delivered (the simulator fails nothing).
    assert len(sent.accepted) == expected, sent.refused
    ids = {m["id"] for m in sent.accepted.values()}
    assert len(ids) == expected  # an idempotent replay returned the same message
    assert {sink.final[i] for i in ids} == {"delivered"}
    assert {statuses[i] for i in ids} == {"delivered"}
    return {
        "accepted_http": len(sent.accepted),
        "accepted_202": sent.created,
        "replayed_200_after_crash": sent.replayed,
        "requests_cut_by_crash": sent.connection_errors,
    }


def _verify_smpp(
    rec: EsmeRecord,
    sink: EventSink,
    statuses: dict[str, str],
    units: set[str],
    traffic: Traffic,
) -> dict[str, Any]:
    # Every submit_sm got ESME_ROK in the end (retried after a crash when unanswered) …
    assert rec.refused == {}, rec.refused
    assert rec.violations == []
    assert len(rec.accepted) == len(traffic.units)
    smpp_ids = set(rec.accepted.values())
    assert len(smpp_ids) == len(rec.accepted)
    mids = {message_id(sid) for sid in smpp_ids}
    # … and its message is delivered, with a webhook event saying so.
    assert {statuses[m] for m in mids} == {"delivered"}
    assert {sink.final[m] for m in mids} == {"delivered"}
    # No long message went into two: a part sent again found its group.
    assert traffic.split_long(rec) == set()
    # A receipt reached the ESME for each (at least once), saying DELIVERED.
    assert smpp_ids <= rec.receipts.keys()
    assert set(rec.receipt_states) == {MessageState.DELIVERED}
    assert rec.other_deliver_sm == 0
    # Submits the gateway committed without the ESME getting their ESME_ROK: a process was
    # killed before it answered (the ESME sent them again). Only submits cut by a crash.
    assert smpp_ids <= units
    unacknowledged = units - smpp_ids
    assert len(unacknowledged) <= rec.cut.total()
    assert {statuses[message_id(u)] for u in unacknowledged} <= {"delivered"}
    # Every committed submit got its receipt, and no receipt names anything else.
    assert rec.receipts.keys() == units
    messages = {traffic.units[index][0] for index in rec.accepted}
    return {
        "accepted_smpp": len(messages),
        "smpp_long": traffic.smpp_long,
        "smpp_submit_sm_rok": len(rec.accepted),
        "smpp_submit_sm_sent": rec.attempts.total(),
        "smpp_resubmitted_after_crash": rec.cut.total(),
        "smpp_committed_but_unacknowledged": len(unacknowledged),
        "smpp_long_split_by_crash": len(traffic.split_long(rec)),
        "smpp_retried_status": {f"0x{s:08X}": n for s, n in rec.retried.items()},
        "esme_binds": rec.binds,
        "receipts_at_esme": rec.receipts.total(),
        "receipts_distinct": len(rec.receipts),
        "duplicate_receipts": rec.duplicate_receipts,
        "receipts_for_unacknowledged": len(unacknowledged),
    }


async def _verify_smsc(
    database_url: str,
    sim: TimedSimulator,
    sent: Submitted,
    traffic: Traffic,
    gw: GatewayProcess,
) -> dict[str, Any]:
    parts = await query(database_url, "SELECT status, count(*) FROM parts GROUP BY status")
    total_parts = sum(n for _s, n in parts)
    assert dict(parts) == {"delivered": total_parts}
    # The SMSC saw every part of every message (each number has its own messages, each
    # SMPP attempt its own text): as many distinct parts per number as the database holds.
    per_number = await query(
        database_url,
        "SELECT m.to_addr, count(*) FROM parts p JOIN messages m ON m.id = p.message_id "
        "GROUP BY m.to_addr",
    )
    by_number = Counter(destination for destination, _short in sim.submit_counts)
    assert by_number == Counter({to.lstrip("+"): n for to, n in per_number})
    assert len(sim.submit_counts) == total_parts
    for j, message in sent.accepted.items():
        assert by_number[number(traffic.http[j])] == message["parts"], message
    # One connection per gateway process (no reconnects in this test).
    assert sim.connections == gw.starts, (sim.connections, gw.starts)
    duplicates, unexplained = in_flight_duplicates(sim, gw.kills)
    assert unexplained == [], "\n".join(unexplained)
    return {
        "parts": total_parts,
        "parts_submitted": len(sim.arrivals),
        "duplicates_in_flight": duplicates,
    }


async def _verify_webhooks(database_url: str, sink: EventSink) -> None:
    # No webhook event lost: every event the gateway recorded (for both accounts) reached
    # the sink (repeats of an event carry its id and the same body).
    deliveries = await query(database_url, "SELECT event_id, status FROM webhook_deliveries")
    # (A delivery still "pending" reached the sink but its attempt was not recorded before a
    # crash or the final stop: it goes out again later, with the same event id.)
    assert {s for _, s in deliveries} <= {"delivered", "pending"}
    assert {e for e, _ in deliveries} == sink.events.keys()
    assert sink.conflicting == 0


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_kill_9_loses_nothing(db_url: str, tmp_path: Path, record_property: Any) -> None:
    counts = await crash_run(db_url, tmp_path)
    assert counts["kills"] >= 3
    line = json.dumps({"crash_test": counts})
    record_property("crash_test", line)
    (tmp_path / "crash-counts.json").write_text(line)
