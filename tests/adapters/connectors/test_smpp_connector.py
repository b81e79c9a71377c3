"""SmppConnector against our SMSC simulator over real sockets (port 0)."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from smsgate.adapters.connectors.smpp import SmppConnectorConfig
from smsgate.codec.segment import split
from smsgate.domain.smsc_ids import normalize_message_id
from smsgate.domain.states import Status
from smsgate.services.ports import OutcomeKind
from smsgate.simulators.smsc import SmscSimulator, SmscSimulatorConfig
from smsgate.simulators.smsc_session import SmscSession
from smsgate.smpp.constants import CommandStatus, TlvTag
from smsgate.smpp.pdu import DataSm, SubmitSm
from smsgate.smpp.tlv import tlv_value

from .conftest import WAIT, RecordingEvents, part, running

FAST = {"receipt_delay": 0.01, "retry_delay": 0.01}


def sim_config(**fields: object) -> SmscSimulatorConfig:
    return SmscSimulatorConfig(**{**FAST, **fields})  # type: ignore[arg-type]


async def test_submit_gets_id_and_receipt_matches() -> None:
    events = RecordingEvents()
    async with SmscSimulator(sim_config()) as sim, running(sim.port, events) as connector:
        outcome = await connector.submit(part(1))
        assert outcome.kind is OutcomeKind.OK
        assert outcome.smsc_id == sim.submitted[0].message_id
        await events.wait_until(lambda: events.receipts)
    receipt = events.receipts[0]
    assert receipt.smsc_id == outcome.smsc_id
    assert (receipt.reported, receipt.err, receipt.connector) == ("DELIVRD", "000", "smsc1")
    assert receipt.status is Status.DELIVERED  # mapped by the connector (DESIGN.md §2)
    assert receipt.done_at is not None
    assert receipt.raw.startswith(f"id:{outcome.smsc_id} ")
    assert sim.submitted[0].destination == "491701234567"
    assert sim.submitted[0].short_message == b"message 1"
    assert connector.stats()["ok"] == 1
    assert connector.stats()["receipts"] == 1


async def test_receipt_ids_in_decimal_still_match_the_hex_resp_id() -> None:
    events = RecordingEvents()
    cfg = sim_config(id_format="hex", receipt_id_format="dec")
    async with SmscSimulator(cfg) as sim, running(sim.port, events) as connector:
        outcome = await connector.submit(part(1))
        await events.wait_until(lambda: events.receipts)
    assert outcome.smsc_id is not None
    receipt_id = events.receipts[0].smsc_id
    assert receipt_id == str(int(outcome.smsc_id, 16))  # written differently ...
    assert outcome.smsc_id in normalize_message_id(receipt_id)  # ... but it matches


@pytest.mark.parametrize(
    ("tail", "stat", "err"), [("9990", "UNDELIV", "001"), ("9991", "EXPIRED", "000")]
)
async def test_magic_destinations_give_failed_receipts(tail: str, stat: str, err: str) -> None:
    events = RecordingEvents()
    async with SmscSimulator(sim_config()) as sim, running(sim.port, events) as connector:
        outcome = await connector.submit(part(1, destination="49170123" + tail))
        await events.wait_until(lambda: events.receipts)
    assert outcome.kind is OutcomeKind.OK
    assert (events.receipts[0].smsc_id, events.receipts[0].reported) == (outcome.smsc_id, stat)
    assert events.receipts[0].err == err


async def test_refused_submit_is_permanent_with_the_status_name() -> None:
    events = RecordingEvents()
    async with SmscSimulator(sim_config()) as sim, running(sim.port, events) as connector:
        outcome = await connector.submit(part(1, destination="491701239992"))
    assert outcome.kind is OutcomeKind.PERMANENT
    assert outcome.error == "ESME_RSUBMITFAIL"
    assert outcome.status == CommandStatus.ESME_RSUBMITFAIL
    assert sim.submitted == []


async def test_accepted_without_receipt() -> None:
    events = RecordingEvents()
    async with SmscSimulator(sim_config()) as sim, running(sim.port, events) as connector:
        silent = await connector.submit(part(1, destination="491701239993"))
        normal = await connector.submit(part(2))
        # Receipts leave in due order: once the later one is here, the first would be too.
        await events.wait_until(lambda: events.receipts)
    assert silent.kind is OutcomeKind.OK
    assert normal.kind is OutcomeKind.OK
    assert [r.smsc_id for r in events.receipts] == [normal.smsc_id]


async def test_temporary_error_is_transient() -> None:
    events = RecordingEvents()
    cfg = sim_config(failure_ratio=1.0)
    async with SmscSimulator(cfg) as sim, running(sim.port, events) as connector:
        outcome = await connector.submit(part(1))
    assert outcome.kind is OutcomeKind.TRANSIENT
    assert (outcome.error, outcome.status) == ("ESME_RSYSERR", CommandStatus.ESME_RSYSERR)


async def test_sar_validity_and_receipt_flag_reach_the_smsc() -> None:
    events = RecordingEvents()
    until = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    p = part(1, sar=(77, 2, 1), validity_until=until, registered_delivery=False)
    async with SmscSimulator(sim_config()) as sim, running(sim.port, events) as connector:
        assert (await connector.submit(p)).kind is OutcomeKind.OK
    record = sim.submitted[0]
    assert tlv_value(record.tlvs, TlvTag.SAR_MSG_REF_NUM) == 77
    assert tlv_value(record.tlvs, TlvTag.SAR_TOTAL_SEGMENTS) == 2
    assert tlv_value(record.tlvs, TlvTag.SAR_SEGMENT_SEQNUM) == 1
    assert record.validity_period == "300102030405000+"
    assert record.registered_delivery == 0


async def test_inbound_single_message() -> None:
    events = RecordingEvents()
    async with SmscSimulator(sim_config()) as sim, running(sim.port, events):
        assert await sim.inject_mo("4917012345", "12345", "STOP Ünïcødé ✓") == 1
        await events.wait_until(lambda: events.inbound)
    event = events.inbound[0]
    assert (event.source, event.destination, event.text) == (
        "4917012345",
        "12345",
        "STOP Ünïcødé ✓",
    )
    assert event.concat is None
    assert event.data_coding == 8


@pytest.mark.parametrize("concat", ["udh8", "udh16", "sar"])
async def test_inbound_concatenated_shuffled_and_duplicated(concat: str) -> None:
    text = "".join(f"word{i} " for i in range(80))  # three GSM-7 parts
    total = len(split(text).parts)
    events = RecordingEvents()
    async with SmscSimulator(sim_config(seed=7)) as sim, running(sim.port, events):
        sent = await sim.inject_mo(
            "4917012345",
            "12345",
            text,
            concat=concat,
            shuffle=True,
            duplicate=True,  # type: ignore[arg-type]
        )
        await events.wait_until(lambda: len(events.inbound) == sent)
    assert sent == total + 1
    infos = [e.concat for e in events.inbound]
    assert all(info is not None for info in infos)
    refs = {info[0] for info in infos if info}
    assert len(refs) == 1
    assert {info[1] for info in infos if info} == {total}
    by_seq = {info[2]: e.text for e, info in zip(events.inbound, infos, strict=True) if info}
    assert sorted(by_seq) == list(range(1, total + 1))
    assert "".join(by_seq[i] for i in sorted(by_seq)) == text


async def test_inbound_long_text_in_message_payload() -> None:
    text = "x" * 300
    events = RecordingEvents()
    async with SmscSimulator(sim_config()) as sim, running(sim.port, events):
        assert await sim.inject_mo("4917012345", "12345", text, concat=None) == 1
        await events.wait_until(lambda: events.inbound)
    assert events.inbound[0].text == text
    assert events.inbound[0].concat is None


async def test_failing_handler_gets_rx_t_appn_and_the_smsc_redelivers() -> None:
    events = RecordingEvents(fail_receipts=2)
    async with SmscSimulator(sim_config()) as sim, running(sim.port, events) as connector:
        outcome = await connector.submit(part(1))
        await events.wait_until(lambda: events.receipts)
    assert [r.smsc_id for r in events.receipts] == [outcome.smsc_id]
    assert [r.status for r in sim.receipts_sent] == [
        CommandStatus.ESME_RX_T_APPN,
        CommandStatus.ESME_RX_T_APPN,
        CommandStatus.ESME_ROK,
    ]
    assert connector.stats()["handler_errors"] == 2


@pytest.mark.parametrize("window", [1, 4])
async def test_throttling_pauses_and_keeps_order(window: int) -> None:
    events = RecordingEvents()
    cfg = sim_config(throttle_tps=25.0)
    async with (
        SmscSimulator(cfg) as sim,
        running(sim.port, events, window=window, throttle_pause=0.02) as connector,
    ):
        parts = [part(n, destination=f"4917000{n:05d}") for n in range(10)]
        outcomes = await asyncio.gather(*(connector.submit(p) for p in parts))
    assert [o.kind for o in outcomes] == [OutcomeKind.OK] * 10
    accepted = [r.destination for r in sim.submitted]
    assert sorted(accepted) == sorted(p.destination for p in parts)
    assert connector.stats()["throttled"] > 0
    assert sim.stats()["duplicates"] == 0
    if window == 1:
        # One at a time, the throttled part is resent before any later one: strict order.
        # With a window, parts already in flight when the SMSC throttles an earlier one may
        # be accepted before its resend; the SMSC decides, no ESME can prevent it.
        assert accepted == [p.destination for p in parts]


async def test_window_bound_is_respected() -> None:
    events = RecordingEvents()
    cfg = sim_config(submit_resp_delay=0.02)
    async with SmscSimulator(cfg) as sim, running(sim.port, events, window=3) as connector:
        outcomes = await asyncio.gather(*(connector.submit(part(n)) for n in range(20)))
    assert all(o.kind is OutcomeKind.OK for o in outcomes)
    assert sim.max_outstanding == 3  # used fully, never exceeded


class DropOnce(SmscSimulator):
    """Drops the connection the first time it reads a submit to one of `drop`."""

    def __init__(self, config: SmscSimulatorConfig, drop: set[str]) -> None:
        super().__init__(config)
        self.drop = drop
        self.seen: list[tuple[int, str]] = []  # (connection number, destination)

    def on_submit(self, session: SmscSession, pdu: SubmitSm | DataSm) -> None:
        self.seen.append((self.connections, pdu.destination_addr))
        if pdu.destination_addr in self.drop:
            self.drop.discard(pdu.destination_addr)
            session.abort()
            return
        super().on_submit(session, pdu)


async def test_parts_cut_by_a_drop_go_first_on_the_next_link() -> None:
    events = RecordingEvents()
    numbers = [f"4917012340{n:02d}" for n in range(8)]
    sim = DropOnce(sim_config(), drop={numbers[2]})
    async with sim, running(sim.port, events, window=8) as connector:
        # 0..4 are written together; the SMSC drops the link when it reads 2.
        first = [asyncio.create_task(connector.submit(part(n, numbers[n]))) for n in range(5)]
        await events.wait_until(lambda: False in events.links)
        # Submitted after the drop: behind every part that was cut by it.
        later = [asyncio.create_task(connector.submit(part(n, numbers[n]))) for n in (5, 6, 7)]
        outcomes = await asyncio.gather(*first, *later)
    assert [o.kind for o in outcomes] == [OutcomeKind.OK] * 8
    on_first = [d for conn, d in sim.seen if conn == 1]
    on_second = [d for conn, d in sim.seen if conn == 2]
    assert on_first == numbers[: len(on_first)]
    assert numbers[2] in on_first
    # What the first link left unanswered (at least 2; any other whose answer was lost with
    # it) goes again first, in its order, then what came after the drop.
    assert on_second == sorted(on_second, key=numbers.index)
    assert set(numbers[2:]) <= set(on_second)
    assert connector.stats()["resent"] == len(on_second) - 3
    # The SMSC kept what it read on the first link, except 2 (it dropped the link instead).
    assert {r.destination for r in sim.submitted} == set(numbers)


async def test_a_part_that_always_breaks_the_link_is_given_back_after_its_resends() -> None:
    events = RecordingEvents()
    async with SmscSimulator(sim_config()) as sim, running(sim.port, events) as connector:
        lost = await connector.submit(part(1, destination="491701239995"))
        await events.wait_until(lambda: events.links.count(True) == 5)
        again = await connector.submit(part(2))
    assert (lost.kind, lost.error) == (OutcomeKind.TRANSIENT, "disconnected")
    assert again.kind is OutcomeKind.OK
    resend_max = SmppConnectorConfig.__dataclass_fields__["resend_max"].default
    assert sim.dropped_on_submit == 1 + resend_max  # once on each of 1 + resend_max links
    assert connector.stats()["resent"] == resend_max
    assert connector.stats()["reconnects"] == 1 + resend_max
    assert sim.connections == 2 + resend_max


async def test_rebinding_for_a_moment_after_a_link_that_was_up_drops() -> None:
    events = RecordingEvents()
    slow = {"response_timeout": 1.0, "reconnect_min": 30.0, "reconnect_max": 30.0}
    async with SmscSimulator(sim_config()) as sim, running(sim.port, events, **slow) as connector:
        assert not connector.rebinding
        sim.disconnect_all()
        await events.wait_until(lambda: events.links == [True, False])
        assert connector.rebinding  # the dispatcher may still hand it parts: they wait here
        assert not connector.is_up
        outcome = await connector.submit(part(1))  # no rebind within response_timeout
        assert (outcome.kind, outcome.error) == (OutcomeKind.TRANSIENT, "down")
        assert not connector.rebinding  # down for longer: parts are bounced, not held


async def test_a_connector_restarted_while_down_still_gives_up_on_the_link() -> None:
    events = RecordingEvents()
    slow = {"response_timeout": 0.3, "reconnect_min": 30.0, "reconnect_max": 30.0}
    cfg = sim_config(system_id="gateway", password="secret")  # config()'s login, no other
    async with SmscSimulator(cfg) as sim, running(sim.port, events, **slow) as connector:
        sim.disconnect_all()
        await events.wait_until(lambda: events.links == [True, False])
        await connector.stop()  # while queued parts would wait for the link (timer armed)
        connector.config = replace(connector.config, password="wrong")  # no link any more
        await connector.start()
        async with asyncio.timeout(WAIT):
            outcome = await connector.submit(part(1))
    assert (outcome.kind, outcome.error) == (OutcomeKind.TRANSIENT, "down")


async def test_disconnect_every_reconnects_and_work_continues() -> None:
    events = RecordingEvents()
    cfg = sim_config(disconnect_every=0.05)
    async with SmscSimulator(cfg) as sim, running(sim.port, events) as connector:
        await events.wait_until(lambda: events.links.count(True) >= 3)
        accepted = 0
        while accepted < 5:  # a part cut by drop after drop is TRANSIENT; the gateway retries it
            outcome = await connector.submit(part(accepted))
            assert outcome.kind in (OutcomeKind.OK, OutcomeKind.TRANSIENT)
            accepted += outcome.kind is OutcomeKind.OK
    assert sim.connections >= 3


async def test_enquire_link_keepalive_and_dead_link_detection() -> None:
    events = RecordingEvents()
    async with SmscSimulator(sim_config()) as sim:
        async with running(sim.port, events, enquire_link_interval=0.02):
            await asyncio.wait_for(sim.wait_until(lambda: sim.enquire_links >= 3), WAIT)
        assert events.links == [True, False]
    silent = RecordingEvents()
    cfg = sim_config(answer_enquire_link=False)
    async with SmscSimulator(cfg) as sim:
        async with running(sim.port, silent, enquire_link_interval=0.02, response_timeout=0.05):
            await silent.wait_until(lambda: silent.links[:3] == [True, False, True])
        assert sim.connections >= 2


async def test_stop_unbinds_and_fails_in_flight_as_stopped() -> None:
    events = RecordingEvents()
    cfg = sim_config(submit_resp_delay=5.0)
    async with SmscSimulator(cfg) as sim:
        async with running(sim.port, events) as connector:
            pending = asyncio.create_task(connector.submit(part(1)))
            await asyncio.wait_for(sim.wait_until(lambda: sim.max_outstanding == 1), WAIT)
        outcome = await pending
        assert sim.unbinds == 1
    assert (outcome.kind, outcome.error) == (OutcomeKind.TRANSIENT, "stopped")
    assert not connector.is_up
    assert (await connector.submit(part(2))).error == "stopped"


async def test_bind_refused_keeps_retrying_and_submit_returns_down() -> None:
    events = RecordingEvents()
    cfg = sim_config(system_id="other", password="pw")
    async with (
        SmscSimulator(cfg) as sim,
        running(sim.port, events, wait_up=False, response_timeout=0.1) as connector,
    ):
        outcome = await connector.submit(part(1))
        await asyncio.wait_for(sim.wait_until(lambda: sim.connections >= 2), WAIT)
        assert not connector.rebinding  # never up: nothing to wait for
    assert (outcome.kind, outcome.error) == (OutcomeKind.TRANSIENT, "down")
    assert events.links == []
    assert sim.binds == 0


async def test_unreachable_smsc_gives_down() -> None:
    with socket.socket() as sock:  # a port nobody listens on: bound, never listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        events = RecordingEvents()
        async with running(port, events, wait_up=False, response_timeout=0.05) as connector:
            outcome = await connector.submit(part(1))
    assert (outcome.kind, outcome.error) == (OutcomeKind.TRANSIENT, "down")


async def test_transmitter_and_receiver_pair() -> None:
    events = RecordingEvents()
    async with (
        SmscSimulator(sim_config()) as sim,
        running(sim.port, events, bind="transmitter+receiver") as connector,
    ):
        outcome = await connector.submit(part(1))
        await events.wait_until(lambda: events.receipts)
        await sim.inject_mo("4917012345", "12345", "hi")
        await events.wait_until(lambda: events.inbound)
    assert events.receipts[0].smsc_id == outcome.smsc_id
    assert sim.connections == 2
    assert sim.unbinds == 2


async def test_a_submit_without_response_closes_the_link_before_any_resend() -> None:
    events = RecordingEvents()
    cfg = sim_config(submit_resp_delay=1.0)  # later than the connector waits
    sim = DropOnce(cfg, drop=set())
    async with sim, running(sim.port, events, response_timeout=0.1, resend_max=2) as connector:
        lost = await connector.submit(part(1))
    # Resent only on a new link, never on the one that may still deliver the first copy;
    # after resend_max resends it is given back to the dispatcher.
    assert (lost.kind, lost.error) == (OutcomeKind.TRANSIENT, "timeout")
    assert sim.seen == [(1, "491701234567"), (2, "491701234567"), (3, "491701234567")]
    assert connector.stats()["resent"] == 2
