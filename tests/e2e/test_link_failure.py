"""DESIGN.md §7 reconnect: the SMSC drops the link every 2 s for 60 s (now and then with a
submit in flight that it never reads), throttles (ESME_RTHROTTLED) and answers some submits
with temporary errors. Nothing is lost, nothing goes out after its validity, and the first
submissions keep the order messages were sent in.

Load is driven by the link itself: after each drop a burst of messages is sent one by one
(so their order is defined), some with a short validity.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from smsgate.bootstrap import Gateway
from smsgate.simulators.smsc import SmscSimulator, SmscSimulatorConfig
from smsgate.simulators.smsc_session import SmscSession
from smsgate.smpp.pdu import DataSm, SubmitSm
from tests.e2e.conftest import gateway_settings
from tests.e2e.procs import FINAL, EventSink, post_bytes, read_response

DURATION_S = float(os.environ.get("SMSGATE_LINK_FAILURE_S", "60"))
BURST = 15
CUT_EVERY = 3
SHORT_VALIDITY_S = 5  # the API's minimum
FINAL_WAIT_S = float(os.environ.get("SMSGATE_LINK_FINAL_WAIT_S", "240"))  # seen: 26-59 s


class RecordingSimulator(SmscSimulator):
    """Every submit_sm as it arrived (wall clock, so it compares with validity), accepted
    or not. On every `CUT_EVERY`th connection the first submit of a part not seen before
    is cut in flight: the link drops as it arrives, so it and whatever came with it are
    never read (a drop between the gateway's write and the SMSC's read)."""

    def __init__(self, config: SmscSimulatorConfig) -> None:
        super().__init__(config)
        self.arrivals: list[tuple[float, str, bytes]] = []
        self.cut = 0
        self.drops = 0  # the periodic ones (`disconnect_every`)
        self._cut_on = 0  # the connection something was cut on
        self._keys: set[tuple[str, bytes]] = set()

    def disconnect_all(self) -> None:
        self.drops += 1
        super().disconnect_all()

    def on_submit(self, session: SmscSession, pdu: SubmitSm | DataSm) -> None:
        short = pdu.short_message if isinstance(pdu, SubmitSm) else b""
        key = (pdu.destination_addr, short)
        if (
            self.connections % CUT_EVERY == 0
            and self._cut_on != self.connections
            and key not in self._keys
        ):
            self._cut_on = self.connections
            self.cut += 1
            session.abort()
            return
        self._keys.add(key)
        self.arrivals.append((time.time(), pdu.destination_addr, short))
        super().on_submit(session, pdu)


@dataclass
class Sent:
    index: int
    id: str
    digits: str
    valid_until: float | None  # an upper bound: acceptance time + validity


def _body(index: int, sink: EventSink) -> dict[str, Any]:
    body: dict[str, Any] = {
        "to": f"+3598882{index:05d}",
        "from": "LINK",
        "text": f"link test {index}",
        "callback_url": sink.url,
    }
    if index % 5 == 0:
        body["validity_s"] = SHORT_VALIDITY_S
    return body


async def _send_burst(port: int, key: str, first: int, sink: EventSink) -> list[Sent]:
    """BURST messages pipelined on one keep-alive connection: the server takes them one
    after the other (so their order is defined) as fast as it commits, which is faster than
    the SMSC's throttle lets through."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        bodies = [_body(first + i, sink) for i in range(BURST)]
        writer.write(b"".join(post_bytes(port, "/api/v1/messages", key, b, {}) for b in bodies))
        out = []
        for body in bodies:
            status, raw = await read_response(reader)
            assert status == 202, raw
            short = "validity_s" in body
            valid_until = time.time() + SHORT_VALIDITY_S if short else None
            out.append(
                Sent(
                    int(body["text"].rsplit(" ", 1)[1]),
                    json.loads(raw)["id"],
                    body["to"][1:],
                    valid_until,
                )
            )
        return out
    finally:
        writer.close()
        await writer.wait_closed()


async def _until(sim: SmscSimulator, predicate: Callable[[], bool], timeout: float) -> None:
    async with asyncio.timeout(timeout):
        await sim.wait_until(predicate)


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_link_drops_throttling_and_errors_lose_nothing(
    tmp_path: Path, record_property: Any
) -> None:
    sim_cfg = SmscSimulatorConfig(
        system_id="gw",
        password="pw",
        receipt_delay=0.3,
        disconnect_every=2.0,
        throttle_tps=50.0,
        failure_ratio=0.1,
        seed=6,
    )
    async with RecordingSimulator(sim_cfg) as sim, EventSink() as sink:
        settings = gateway_settings(tmp_path, sim.port)
        async with Gateway(settings) as gateway:
            now = gateway.clock.now()
            account = await gateway.store.create_account(name="link", now=now)
            _, key = await gateway.store.create_api_key(account.id, name="t", now=now)
            sent: list[Sent] = []
            started = time.monotonic()
            while time.monotonic() - started < DURATION_S:
                # One burst per periodic drop (cuts add links, not bursts): wait for the
                # next connection after it, then send.
                drops = sim.drops
                await _until(sim, lambda drops=drops: sim.drops > drops, 30)
                seen = sim.connections
                await _until(sim, lambda seen=seen: sim.connections > seen, 30)
                sent += await _send_burst(gateway.http_port, key, len(sent), sink)
            ids = {s.id for s in sent}
            try:
                await sink.wait(lambda: ids <= sink.final.keys(), timeout=FINAL_WAIT_S)
            except TimeoutError as exc:
                stuck = {
                    "sent": len(sent),
                    "final": len(ids & sink.final.keys()),
                    "connector": gateway.connectors["sim"].stats(),  # type: ignore[attr-defined]
                    "sim": sim.stats(),
                    "queue": await gateway.store.queue_depth(),
                }
                raise AssertionError(f"not all final: {stuck}") from exc
            stats = gateway.connectors["sim"].stats()  # type: ignore[attr-defined]
    counts = _verify(sim, sink, sent)
    # Parts cut in flight went again, first, on the next link (the order check above).
    assert sim.cut > 0
    assert stats["resent"] >= sim.cut
    counts.update(
        cut_in_flight=sim.cut,
        connector_stats=stats,
        connections=sim.connections,
        refused_by_smsc=sim.refused,
        seconds=round(time.monotonic() - started, 1),
    )
    line = json.dumps({"link_failure": counts})
    record_property("link_failure", line)


def _verify(sim: RecordingSimulator, sink: EventSink, sent: list[Sent]) -> dict[str, Any]:
    by_key = {(s.digits, f"link test {s.index}".encode()): s for s in sent}
    first: dict[str, int] = {}  # message id → position of its first submit at the SMSC
    late = []
    for position, (at, destination, short) in enumerate(sim.arrivals):
        message = by_key[destination, short]
        first.setdefault(message.id, position)
        if message.valid_until is not None and at > message.valid_until:
            late.append((message.index, round(at - message.valid_until, 3)))
    # Nothing submitted after its validity.
    assert late == []
    # Nothing lost: every message is final; a delivered one reached the SMSC.
    statuses = {s.id: sink.final[s.id] for s in sent}
    accepted_at_smsc = {
        s.id
        for s in sent
        if (s.digits, f"link test {s.index}".encode())
        in {(r.destination, r.short_message) for r in sim.submitted}
    }
    for s in sent:
        if statuses[s.id] == "delivered":
            assert s.id in accepted_at_smsc
        else:  # only a short-validity message may give up
            assert s.valid_until is not None, (s, statuses[s.id])
            assert statuses[s.id] in ("expired", "failed"), statuses[s.id]
    assert set(statuses.values()) <= FINAL
    # Per-connector order: first submissions follow the order of sending.
    order = [(s.index, first[s.id]) for s in sent if s.id in first]
    overtaken = []  # (message index, its first position): a later message went before it
    lowest_after = len(sim.arrivals)
    for index, position in reversed(order):
        if position > lowest_after:
            overtaken.append((index, position))
        lowest_after = min(lowest_after, position)
    assert overtaken == []
    outcome: dict[str, int] = {}
    for status in statuses.values():
        outcome[status] = outcome.get(status, 0) + 1
    return {
        "sent": len(sent),
        "final": outcome,
        "submits_seen_by_smsc": len(sim.arrivals),
        "accepted_by_smsc": len(sim.submitted),
        "short_validity": sum(1 for s in sent if s.valid_until is not None),
        "never_submitted": len(sent) - len(first),
    }
