"""A dispatcher over a real SQLite store, with scripted connectors and a controlled clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
        self.mono = 0.0  # the dispatcher's monotonic clock (how long hand-offs waited)

    def now(self) -> float:
        return self.t

    def monotonic(self) -> float:
        return self.mono


@dataclass
class ScriptedConnector:
    """Answers submits from a script of outcome kinds (the last one repeats)."""

    name: str
    script: list[OutcomeKind] = field(default_factory=lambda: [OutcomeKind.OK])
    up: bool = True
    rebinding: bool = False  # down a moment: `submit` would wait for the link
    seen: list[OutboundPart] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    hold: asyncio.Event | None = None  # when set, answers wait for it
    waiting: int = 0  # submits waiting for `hold`

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
        if self.hold is not None and not self.hold.is_set():
            self.waiting += 1
            try:
                await self.hold.wait()
            finally:
                self.waiting -= 1
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
    connectors: dict[str, ScriptedConnector] = field(default_factory=dict)

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

    def _settled(self) -> bool:
        held = sum(c.waiting for c in self.connectors.values())
        return self.dispatcher.idle and self.dispatcher.in_flight == held

    async def dispatcher_settled(self) -> None:
        """Wake the dispatcher; return once its loop has gone round and waits again and every
        part it started is done (its outcome committed) or waits on a held connector."""
        self.dispatcher.wake()
        while not self._settled():
            events = [self.dispatcher.progress, *(c.changed for c in self.connectors.values())]
            for event in events:
                event.clear()
            waits = [asyncio.ensure_future(event.wait()) for event in events]
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waits:
                    w.cancel()


MakeRig = Callable[..., Coroutine[Any, Any, Rig]]


@asynccontextmanager
async def rig_maker(tmp_path: Path, *, handoff: bool) -> AsyncIterator[MakeRig]:
    """`make(connectors, routes, **dispatcher settings)`: a started dispatcher and its
    store; with `handoff`, messages accepted while it has room skip the claim (ports.py)."""
    made: list[tuple[Store, Dispatcher]] = []

    async def make(
        connectors: dict[str, ScriptedConnector],
        routes: list[Route],
        *,
        max_in_flight: int = 2000,
        poll_s: float = 0.05,
        lease_s: float = 60.0,
    ) -> Rig:
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
            poll_s=poll_s,
            expiry_sweep_s=0.05,
            max_in_flight=max_in_flight,
            lease_s=lease_s,
            monotonic=clock.monotonic,
        )
        messages = MessageService(
            store,
            clock,
            default_validity_s=3600,
            default_sender="x",
            wake_dispatcher=dispatcher.wake,
            handoff=dispatcher if handoff else None,
        )
        account = await store.create_account(name="acme", now=clock.now())
        await dispatcher.start()
        made.append((store, dispatcher))
        return Rig(store, clock, messages, dispatcher, account, connectors)

    try:
        yield make
    finally:
        for store, dispatcher in made:
            await dispatcher.stop()
            await store.stop()
            await store.engine.dispose()
