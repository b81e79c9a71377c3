"""The dispatcher over a real SQLite store with scripted connectors and a controlled clock:
routing, failover, retries with backoff until the validity ends, expiry and order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from smsgate.adapters.store.database import make_engine, migrate
from smsgate.adapters.store.store import Store
from smsgate.domain.routing import Route, RoutingTable
from smsgate.runtime.dispatcher import Dispatcher
from smsgate.services.delivery import DeliveryService, Tracker
from smsgate.services.messages import MessageService, SendRequest
from smsgate.services.ports import OutboundPart, OutcomeKind, SubmitOutcome
from smsgate.services.records import Account


class FakeClock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.t = start

    def now(self) -> float:
        return self.t


@dataclass
class ScriptedConnector:
    """Answers submits from a script of outcome kinds (the last one repeats)."""

    name: str
    script: list[OutcomeKind] = field(default_factory=lambda: [OutcomeKind.OK])
    up: bool = True
    seen: list[OutboundPart] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def is_up(self) -> bool:
        return self.up

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def submit(self, part: OutboundPart) -> SubmitOutcome:
        kind = self.script[min(len(self.seen), len(self.script) - 1)]
        self.seen.append(part)
        self.changed.set()
        if kind == OutcomeKind.OK:
            return SubmitOutcome(kind=kind, smsc_id=f"{self.name}-{len(self.seen)}")
        return SubmitOutcome(kind=kind, status=0x45, error="ESME_RSUBMITFAIL")


@dataclass
class Rig:
    store: Store
    clock: FakeClock
    messages: MessageService
    dispatcher: Dispatcher
    account: Account

    async def send(self, to: str = "+359888123456", **kw: object) -> str:
        req = SendRequest(to=to, sender="ACME", text=str(kw.pop("text", "hi")), **kw)  # type: ignore[arg-type]
        message, _ = await self.messages.send(self.account, req)
        return message.id

    async def status_of(self, message_id: str) -> str:
        message = await self.store.get_message(message_id)
        assert message is not None
        return message.status

    async def wait_status(self, message_id: str, *statuses: str) -> str:
        async with asyncio.timeout(10):
            while (status := await self.status_of(message_id)) not in statuses:
                await self.dispatcher_settled()
        return status

    async def dispatcher_settled(self) -> None:
        # Let the dispatcher and the writer run; yields to the loop, does not wait for time.
        self.dispatcher.wake()
        for _ in range(50):
            await asyncio.sleep(0)
        await asyncio.sleep(0.01)


@pytest.fixture
async def rig_factory(tmp_path: Path) -> AsyncIterator[object]:
    made: list[tuple[Store, Dispatcher]] = []

    async def make(connectors: dict[str, ScriptedConnector], routes: list[Route]) -> Rig:
        url = f"sqlite:///{tmp_path}/d{len(made)}.db"
        engine = make_engine(url)
        await migrate(engine)
        store = Store(engine, url=url, commit_window_s=0)
        await store.start()
        clock = FakeClock()
        delivery = DeliveryService(store, clock, Tracker())
        dispatcher = Dispatcher(
            store=store,
            clock=clock,
            delivery=delivery,
            connectors=connectors,
            routing=RoutingTable.of(routes),
            poll_s=0.05,
            expiry_sweep_s=0.05,
        )
        messages = MessageService(
            store,
            clock,
            default_validity_s=3600,
            default_sender="x",
            wake_dispatcher=dispatcher.wake,
        )
        account = await store.create_account(name="acme", now=clock.now())
        await dispatcher.start()
        made.append((store, dispatcher))
        return Rig(store, clock, messages, dispatcher, account)

    yield make
    for store, dispatcher in made:
        await dispatcher.stop()
        await store.stop()
        await store.engine.dispose()


async def test_failover_to_the_next_connector_on_a_transient_error(rig_factory: object) -> None:
    a = ScriptedConnector("a", [OutcomeKind.TRANSIENT])
    b = ScriptedConnector("b")
    rig = await rig_factory({"a": a, "b": b}, [Route(connectors=("a", "b"), prefix="359")])  # type: ignore[operator]
    mid = await rig.send()
    assert await rig.wait_status(mid, "sent") == "sent"
    assert len(a.seen) == 1
    assert len(b.seen) == 1
    message = await rig.store.get_message(mid)
    assert message is not None
    assert message.connector == "b"


async def test_a_down_connector_is_skipped(rig_factory: object) -> None:
    a = ScriptedConnector("a", up=False)
    b = ScriptedConnector("b")
    rig = await rig_factory({"a": a, "b": b}, [Route(connectors=("a", "b"))])  # type: ignore[operator]
    mid = await rig.send()
    await rig.wait_status(mid, "sent")
    assert a.seen == []
    assert len(b.seen) == 1


async def test_longest_prefix_route_wins(rig_factory: object) -> None:
    a = ScriptedConnector("a")
    b = ScriptedConnector("b")
    routes = [Route(connectors=("a",)), Route(connectors=("b",), prefix="44")]
    rig = await rig_factory({"a": a, "b": b}, routes)  # type: ignore[operator]
    uk = await rig.send(to="+447911123456")
    bg = await rig.send(to="+359888123456")
    await rig.wait_status(uk, "sent")
    await rig.wait_status(bg, "sent")
    assert [p.destination for p in b.seen] == ["447911123456"]
    assert [p.destination for p in a.seen] == ["359888123456"]


async def test_permanent_error_fails_without_failover(rig_factory: object) -> None:
    a = ScriptedConnector("a", [OutcomeKind.PERMANENT])
    b = ScriptedConnector("b")
    rig = await rig_factory({"a": a, "b": b}, [Route(connectors=("a", "b"))])  # type: ignore[operator]
    mid = await rig.send()
    assert await rig.wait_status(mid, "failed") == "failed"
    assert b.seen == []
    message = await rig.store.get_message(mid)
    assert message is not None
    assert message.error_code == "ESME_RSUBMITFAIL"


async def test_no_route_fails(rig_factory: object) -> None:
    a = ScriptedConnector("a")
    rig = await rig_factory({"a": a}, [Route(connectors=("a",), prefix="44")])  # type: ignore[operator]
    mid = await rig.send(to="+359888123456")
    assert await rig.wait_status(mid, "failed") == "failed"
    message = await rig.store.get_message(mid)
    assert message is not None
    assert message.error_code == "no_route"
    assert a.seen == []


async def test_transient_errors_retry_with_backoff_until_validity_ends(rig_factory: object) -> None:
    a = ScriptedConnector("a", [OutcomeKind.TRANSIENT])
    rig = await rig_factory({"a": a}, [Route(connectors=("a",))])  # type: ignore[operator]
    mid = await rig.send(validity_s=60)
    async with asyncio.timeout(10):
        while len(a.seen) < 1:
            await rig.dispatcher_settled()
    await rig.dispatcher_settled()
    assert len(a.seen) == 1  # not again before the backoff has passed
    assert await rig.status_of(mid) == "queued"
    parts = await rig.store.get_parts(mid)
    assert parts[0].attempts == 1
    # Backoff is 2 s, then 4, 8, 16, 32: step the clock through them.
    for expected in (2, 3, 4, 5):
        rig.clock.t += 2 ** (expected - 1) + 0.1
        async with asyncio.timeout(10):
            while len(a.seen) < expected:
                await rig.dispatcher_settled()
    # The next try would come after the validity ends: the message fails, never sent late.
    rig.clock.t += 32.1
    assert await rig.wait_status(mid, "failed") == "failed"
    message = await rig.store.get_message(mid)
    assert message is not None
    assert message.error_code == "retries_exhausted"
    assert len(a.seen) == 5
    for part in a.seen:
        assert part.validity_until is not None
        assert part.validity_until.timestamp() == pytest.approx(message.valid_until)


async def test_a_message_past_its_validity_is_never_submitted(rig_factory: object) -> None:
    a = ScriptedConnector("a", up=False)
    rig = await rig_factory({"a": a}, [Route(connectors=("a",))])  # type: ignore[operator]
    mid = await rig.send(validity_s=30)
    rig.clock.t += 31
    a.up = True
    assert await rig.wait_status(mid, "expired") == "expired"
    assert a.seen == []


async def test_parts_go_out_in_order(rig_factory: object) -> None:
    a = ScriptedConnector("a")
    rig = await rig_factory({"a": a}, [Route(connectors=("a",))])  # type: ignore[operator]
    ids = [await rig.send(text=f"message {i}") for i in range(20)]
    long_id = await rig.send(text="z" * 400)
    for mid in [*ids, long_id]:
        await rig.wait_status(mid, "sent")
    texts = [p.short_message for p in a.seen]
    assert texts[:20] == [f"message {i}".encode() for i in range(20)]
    assert [p.seq for p in a.seen[20:]] == [1, 2, 3]
