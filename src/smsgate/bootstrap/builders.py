"""The builders of the gateway's parts, one per feature, each taking what it needs."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp

from smsgate.adapters.connectors.registry import build_connector
from smsgate.adapters.http_api.server import HttpServer
from smsgate.adapters.http_api.server_protocol import ConnectionLimits
from smsgate.adapters.smpp_server.config import SmppServerConfig
from smsgate.adapters.smpp_server.pipeline import GatewayHooks
from smsgate.adapters.smpp_server.server import SmppServer
from smsgate.adapters.store.database import make_engine
from smsgate.adapters.store.store import Store
from smsgate.adapters.store.two_way import TwoWayStore
from smsgate.adapters.url_guard import UrlGuard
from smsgate.config import Settings
from smsgate.domain.routing import Route, RoutingTable
from smsgate.runtime.dispatcher import Dispatcher
from smsgate.runtime.smpp_delivery import SmppDelivery
from smsgate.runtime.webhook_sender import WebhookSender
from smsgate.services.clock import Clock
from smsgate.services.delivery import DeliveryService
from smsgate.services.inbound import InboundService
from smsgate.services.ports import Connector, InboundEvent, ReceiptEvent
from smsgate.services.records import Change, Message
from smsgate.services.two_way import Send, TwoWayService
from smsgate.services.two_way_manage import TwoWayManager

log = logging.getLogger(__name__)

# When the roles run in separate processes, nothing wakes the worker when another process
# commits a message, nor the SMPP node when the worker keeps a receipt for its ESME: both
# look at the database this often instead (an indexed query that finds nothing is cheap).
SPLIT_POLL_S = 0.05


@dataclass(slots=True)
class Events:
    """The gateway side of the connector ports (ConnectorEvents)."""

    delivery: DeliveryService
    inbound: InboundService
    id_formats: dict[str, str] = field(default_factory=dict)
    links: dict[str, bool] = field(default_factory=dict)
    # Called when a connector's link goes up or down (wakes the dispatcher).
    on_change: Callable[[], None] = lambda: None

    async def on_receipt(self, event: ReceiptEvent) -> None:
        await self.delivery.on_receipt(
            event, id_format=self.id_formats.get(event.connector, "auto")
        )

    async def on_inbound(self, event: InboundEvent) -> None:
        await self.inbound.on_inbound(event)

    def on_link_change(self, connector: str, up: bool) -> None:
        self.links[connector] = up
        log.info("connector %s is %s", connector, "up" if up else "down")
        self.on_change()


def smpp_server_config(
    settings: Settings, port: int, tls: ssl.SSLContext | None = None
) -> SmppServerConfig:
    """The customers' SMPP listener on `port`, with the limits of the settings."""
    return SmppServerConfig(
        host=settings.smpp_host,
        port=port,
        tls=tls,
        max_connections_per_ip=settings.smpp_max_connections_per_ip,
        bind_timeout=settings.smpp_bind_timeout_s,
    )


def routing_table(settings: Settings) -> RoutingTable:
    routes = [
        Route(connectors=r.connectors, prefix=r.prefix, country=r.country, priority=r.priority)
        for r in settings.routes
    ]
    if not routes and settings.connectors:
        # No routes configured: everything goes to the connectors in file order.
        routes = [Route(connectors=tuple(c.name for c in settings.connectors))]
    return RoutingTable.of(routes)


@dataclass(frozen=True, slots=True)
class TwoWayParts:
    store: TwoWayStore
    service: TwoWayService
    manager: TwoWayManager
    inbound: InboundService
    events: Events


def build_store(settings: Settings) -> tuple[AsyncEngine, Store]:
    engine = make_engine(settings.database_url)
    store = Store(engine, url=settings.database_url, commit_window_s=settings.commit_window_s)
    return engine, store


def build_smpp_delivery(
    store: Store, clock: Clock, servers: Sequence[SmppServer], *, split: bool
) -> SmppDelivery:
    """The pump of deliver_sm to the ESMEs bound to `servers` (filled once they are built)."""
    return SmppDelivery(
        store=store,
        clock=clock,
        sessions=lambda: [session for server in servers for session in server.sessions],
        poll_s=SPLIT_POLL_S if split else 1.0,
    )


def mo_listener(
    mo_for: Callable[[Message], list[Change]], smpp_delivery: SmppDelivery
) -> Callable[[Message], list[Change]]:
    """Inbound messages of accounts with an SMPP login also go to their ESME."""

    def listener(message: Message) -> list[Change]:
        changes = mo_for(message)
        if changes:
            # The row is committed with the message; the pump looks a moment later (and
            # polls every second besides).
            asyncio.get_running_loop().call_later(0.05, smpp_delivery.wake, message.account_id)
        return changes

    return listener


def build_two_way(
    settings: Settings,
    store: Store,
    clock: Clock,
    delivery: DeliveryService,
    *,
    send: Send,
    wake_webhooks: Callable[[], None],
    mo_listener: Callable[[Message], list[Change]],
    link_change: Callable[[], None],
    id_formats: dict[str, str],
) -> TwoWayParts:
    two_way_store = TwoWayStore(store)
    service = TwoWayService(
        store,
        two_way_store,
        clock,
        send=send,
        wake_webhooks=wake_webhooks,
        listeners=(mo_listener,),
    )
    inbound = InboundService(
        two_way_store,
        clock,
        service,
        reassembly_timeout_s=settings.inbound_reassembly_timeout_s,
    )
    return TwoWayParts(
        store=two_way_store,
        service=service,
        manager=TwoWayManager(store, two_way_store, service, clock),
        inbound=inbound,
        events=Events(delivery, inbound, id_formats=id_formats, on_change=link_change),
    )


def build_connectors(
    settings: Settings, events: Events, given: Mapping[str, Connector] | None
) -> dict[str, Connector]:
    connectors: dict[str, Connector] = dict(given or {})
    for c in settings.connectors:
        if c.name not in connectors:
            connectors[c.name] = build_connector(c, events)
    return connectors


def build_dispatcher(
    settings: Settings,
    store: Store,
    clock: Clock,
    delivery: DeliveryService,
    connectors: Mapping[str, Connector],
    *,
    split: bool,
) -> Dispatcher:
    return Dispatcher(
        store=store,
        clock=clock,
        delivery=delivery,
        connectors=connectors,
        routing=routing_table(settings),
        batch=settings.dispatch_batch,
        lease_s=settings.dispatch_lease_s,
        poll_s=min(settings.dispatch_poll_s, SPLIT_POLL_S) if split else settings.dispatch_poll_s,
    )


def build_webhooks(
    settings: Settings, store: Store, clock: Clock, guard: UrlGuard
) -> WebhookSender:
    return WebhookSender(
        store=store,
        clock=clock,
        timeout_s=settings.webhook_timeout_s,
        max_age_s=settings.webhook_max_age_s,
        concurrency=settings.webhook_concurrency,
        guard=guard,
    )


def build_smpp_servers(settings: Settings, hooks: GatewayHooks) -> list[SmppServer]:
    servers = [SmppServer(smpp_server_config(settings, settings.smpp_port), hooks)]
    if settings.smpp_tls_cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(settings.smpp_tls_cert, settings.smpp_tls_key or None)
        servers.append(SmppServer(smpp_server_config(settings, settings.smpp_tls_port, tls), hooks))
    return servers


def build_http(settings: Settings, api: ASGIApp, limits: ConnectionLimits) -> HttpServer:
    return HttpServer(
        api,
        host=settings.http_host,
        port=settings.http_port,
        limits=limits,
        keepalive_timeout_s=settings.http_keepalive_timeout_s,
    )
