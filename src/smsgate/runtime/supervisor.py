"""The start and stop order of one gateway process (DESIGN.md §4).

Start: the database, then (worker role) the start-up sweep of inbound parts, the claims a
crash left, the connectors, the dispatcher, the webhook sender and the periodic sweeps;
then the SMPP listeners and the HTTP listener. Stop in reverse: stop taking work, finish
what is in flight (drains), then close."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from smsgate.adapters.http_api.server import HttpServer
from smsgate.adapters.smpp_server.server import SmppServer
from smsgate.adapters.store.store import Store
from smsgate.runtime.dispatcher import Dispatcher
from smsgate.runtime.scheduler import Scheduler
from smsgate.runtime.smpp_delivery import SmppDelivery
from smsgate.runtime.webhook_sender import WebhookSender
from smsgate.services.delivery import DeliveryService
from smsgate.services.inbound import InboundService
from smsgate.services.ports import Connector

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Worker:
    """What the worker role runs: sending, receipts, inbound and webhooks."""

    inbound: InboundService
    connectors: Mapping[str, Connector]
    dispatcher: Dispatcher
    webhooks: WebhookSender
    scheduler: Scheduler


class Supervisor:
    """Starts and stops the parts of a process in order."""

    def __init__(
        self,
        *,
        store: Store,
        delivery: DeliveryService,
        smpp_delivery: SmppDelivery,
        smpp_servers: Sequence[SmppServer],
        worker: Worker | None,
        http: HttpServer | None,
    ) -> None:
        self._store = store
        self._delivery = delivery
        self._smpp_delivery = smpp_delivery
        self._smpp_servers = tuple(smpp_servers)
        self._worker = worker
        self._http = http
        self.running = False

    async def start(self) -> None:
        """Start everything; the store is migrated already."""
        await self._store.start()
        if self._worker is not None:
            await self._start_worker(self._worker)
        await self._store.load_smpp_account_ids()
        for server in self._smpp_servers:
            await server.start()
        for account_id in await self._store.accounts_with_pending_smpp():
            self._smpp_delivery.wake(account_id)
        if self._http is not None:
            await self._http.start()
        self.running = True

    async def _start_worker(self, worker: Worker) -> None:
        # Before the connectors: part sets a crash left complete are stored first.
        await worker.inbound.sweep()
        # The one worker of the database (see Settings.role): what it had claimed before a
        # crash is due again at once instead of when the leases run out.
        released = await self._store.release_claims()
        if released:
            log.warning("%d parts claimed before a restart are due again", released)
        for connector in worker.connectors.values():
            await connector.start()
        await worker.dispatcher.start()
        await worker.webhooks.start()
        await worker.scheduler.start()

    async def stop(self) -> None:
        """Stop taking work, finish what is in flight, then close everything."""
        self.running = False
        if self._http is not None:
            await self._http.stop()
        # SMPP customers: finish handing over receipts in flight, then unbind and close.
        await self._smpp_delivery.stop()
        for server in self._smpp_servers:
            await server.stop()
        worker = self._worker
        if worker is not None:
            await worker.dispatcher.stop()
            for connector in worker.connectors.values():
                await connector.stop()
            await worker.scheduler.stop()
        await self._delivery.drain()
        if worker is not None:
            await worker.webhooks.stop()
        writer = self._store.writer
        log.info(
            "store writer: %d transactions, %d write sets, %.1f s busy, %d lock retries, "
            "%.1f s holding the lock",
            writer.batches,
            writer.write_sets,
            writer.busy_s,
            writer.busy_retries,
            writer.locked_s,
        )
        await self._store.stop()
