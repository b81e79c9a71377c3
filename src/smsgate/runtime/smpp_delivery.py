"""Hands kept deliver_sm (receipts, inbound messages) to the SMPP customers' receivers.

Rows wait in `smpp_outbox` until a receiver or transceiver of their account is bound; then
they go out oldest first, through the session's window; a row leaves the table only when the
ESME answered ESME_ROK. An error answer puts it back with a growing delay; a lost session
leaves it for the next bind. The gateway process holding the bind does the delivering.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from smsgate.adapters.smpp_server.deliver import DeliverSmSpec
from smsgate.adapters.smpp_server.errors import SessionGone
from smsgate.adapters.smpp_server.hooks import SessionInfo
from smsgate.adapters.store.store import Store
from smsgate.domain.retry import backoff
from smsgate.services.clock import Clock
from smsgate.services.records import PendingSmpp
from smsgate.smpp.constants import CommandStatus
from smsgate.smpp.pdu import DeliverSm

log = logging.getLogger(__name__)


def deliver_sm_of(row: PendingSmpp) -> DeliverSm:
    return DeliverSmSpec.from_json(row.pdu).to_pdu()


class SmppDelivery:
    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        sessions: Callable[[], Sequence[SessionInfo]],
        batch: int = 200,
        poll_s: float = 1.0,
    ) -> None:
        self._store = store
        self._clock = clock
        self._sessions = sessions
        self._batch = batch
        self._poll_s = poll_s
        self._wakeups: dict[str, asyncio.Event] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._rr = 0
        self.delivered = 0

    def _receivers(self, account_id: str) -> list[SessionInfo]:
        return [s for s in self._sessions() if s.account_id == account_id and s.can_receive]

    def wake(self, account_id: str) -> None:
        """New rows for the account, or a receiver bound: deliver if someone can take them."""
        event = self._wakeups.setdefault(account_id, asyncio.Event())
        event.set()
        task = self._tasks.get(account_id)
        if (task is None or task.done()) and self._receivers(account_id):
            self._tasks[account_id] = asyncio.create_task(
                self._run(account_id), name=f"smpp-deliver-{account_id}"
            )

    def session_bound(self, session: SessionInfo) -> None:
        if session.can_receive:
            self.wake(session.account_id)

    async def stop(self, *, drain_s: float = 5.0) -> None:
        tasks = list(self._tasks.values())
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=drain_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _run(self, account_id: str) -> None:
        event = self._wakeups.setdefault(account_id, asyncio.Event())
        while self._receivers(account_id):
            event.clear()
            rows = await self._store.pending_smpp(
                account_id, now=self._clock.now(), limit=self._batch
            )
            if not rows:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll_s):
                        await event.wait()
                continue
            await self._deliver(account_id, rows)

    async def _deliver(self, account_id: str, rows: list[PendingSmpp]) -> None:
        receivers = self._receivers(account_id)
        if not receivers:
            return
        results = await asyncio.gather(
            *(self._one(receivers[i % len(receivers)], row) for i, row in enumerate(rows))
        )
        now = self._clock.now()
        done = [row.id for row, status in zip(rows, results, strict=True) if status == 0]
        retry = [
            (row.id, row.attempts + 1, now + backoff(row.attempts + 1, base=1.0, cap=300.0))
            for row, status in zip(rows, results, strict=True)
            if status is not None and status != 0
        ]
        self.delivered += len(done)
        await self._store.smpp_delivered(done, retry)
        if any(status is None for status in results):
            await asyncio.sleep(0)  # a session went away: let the server drop it first

    async def _one(self, session: SessionInfo, row: PendingSmpp) -> int | None:
        try:
            status = await session.deliver(deliver_sm_of(row))
        except SessionGone:
            return None
        if status != CommandStatus.ESME_ROK:
            log.info("deliver_sm to %s answered 0x%08X", session.system_id, status)
        return status
