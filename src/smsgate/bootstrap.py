"""The one place that builds and wires everything (cosmicpython's bootstrap)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import uvicorn

from smsgate.adapters.connectors.registry import build_connector
from smsgate.adapters.http_api.app import create_asgi
from smsgate.adapters.http_api.client_address import TrustedProxies
from smsgate.adapters.http_api.context import ApiContext
from smsgate.adapters.http_api.server_protocol import ConnectionLimits, protocol_class
from smsgate.adapters.smpp_server.config import SmppServerConfig
from smsgate.adapters.smpp_server.hooks import SessionInfo
from smsgate.adapters.smpp_server.ingress import SmppIngress
from smsgate.adapters.smpp_server.pipeline import GatewayHooks
from smsgate.adapters.smpp_server.server import SmppServer
from smsgate.adapters.store.database import make_engine, migrate
from smsgate.adapters.store.store import Store
from smsgate.adapters.store.two_way import TwoWayStore
from smsgate.adapters.url_guard import Resolver, UrlGuard
from smsgate.config import ROLES, Settings, roles
from smsgate.domain.routing import Route, RoutingTable
from smsgate.runtime.dispatcher import Dispatcher
from smsgate.runtime.smpp_delivery import SmppDelivery
from smsgate.runtime.webhook_sender import WebhookSender
from smsgate.services.admin import AdminService, ConnectorState
from smsgate.services.clock import Clock, SystemClock
from smsgate.services.delivery import DeliveryService, Tracker
from smsgate.services.inbound import InboundService
from smsgate.services.messages import MessageService
from smsgate.services.ports import Connector, InboundEvent, ReceiptEvent
from smsgate.services.records import Change, Message
from smsgate.services.two_way import TwoWayService
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
    on_change: list[Any] = field(default_factory=list)

    async def on_receipt(self, event: ReceiptEvent) -> None:
        await self.delivery.on_receipt(
            event, id_format=self.id_formats.get(event.connector, "auto")
        )

    async def on_inbound(self, event: InboundEvent) -> None:
        await self.inbound.on_inbound(event)

    def on_link_change(self, connector: str, up: bool) -> None:
        self.links[connector] = up
        log.info("connector %s is %s", connector, "up" if up else "down")
        for callback in self.on_change:
            callback()


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


def admin_service(
    store: Store,
    clock: Clock,
    urls: UrlGuard,
    *,
    connector_status: Callable[[], Sequence[ConnectorState]] = tuple,
    secret_rotated: Callable[[str], None] = lambda _account_id: None,
) -> AdminService:
    """The admin use cases on `store` (each of its aggregates behind its port)."""
    return AdminService(
        accounts=store,
        smpp_logins=store,
        webhooks=store,
        messages=store,
        clock=clock,
        urls=urls,
        connector_status=connector_status,
        secret_rotated=secret_rotated,
    )


@contextlib.asynccontextmanager
async def admin_only(settings: Settings) -> AsyncIterator[AdminService]:
    """The admin use cases on the settings' database (migrated first), without the rest of
    the gateway: what `smsgate accounts` and `smsgate keys` need."""
    engine = make_engine(settings.database_url)
    store = Store(engine, url=settings.database_url)
    try:
        await migrate(engine)
        await store.start()
        guard = UrlGuard(allowed_networks=settings.webhook_allowed_networks)
        yield admin_service(store, SystemClock(), guard)
    finally:
        await store.stop()
        await engine.dispose()


class Gateway:
    """Everything of one smsgate process; `async with Gateway(settings) as gw:`."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        connectors: Mapping[str, Connector] | None = None,
        serve_http: bool = True,
        default_sender: str = "smsgate",
        resolver: Resolver | None = None,
    ) -> None:
        self.settings = settings
        self.roles = roles(settings)
        # Another process runs the roles this one does not (DESIGN.md §4).
        split = self.roles != frozenset(ROLES)
        self.clock = clock or SystemClock()
        self.engine = make_engine(settings.database_url)
        self.store = Store(
            self.engine, url=settings.database_url, commit_window_s=settings.commit_window_s
        )
        self.tracker = Tracker()
        self.delivery = DeliveryService(self.store, self.clock, self.tracker)
        # Two-way SMS: replies go through self.messages (made below, once the dispatcher is).
        self.two_way_store = TwoWayStore(self.store)
        self.two_way = TwoWayService(
            self.store,
            self.two_way_store,
            self.clock,
            send=lambda account, req: self.messages.send(account, req),
            wake_webhooks=lambda: self.webhooks.wake(),
        )
        self.two_way_manager = TwoWayManager(
            self.store, self.two_way_store, self.two_way, self.clock
        )
        self.inbound = InboundService(
            self.two_way_store,
            self.clock,
            self.two_way,
            reassembly_timeout_s=settings.inbound_reassembly_timeout_s,
        )
        self.events = Events(self.delivery, self.inbound)
        self.connectors: dict[str, Connector] = dict(connectors or {})
        for c in settings.connectors:
            if c.name not in self.connectors:
                self.connectors[c.name] = build_connector(c, self.events)
                self.events.id_formats[c.name] = c.id_format
        self.dispatcher = Dispatcher(
            store=self.store,
            clock=self.clock,
            delivery=self.delivery,
            connectors=self.connectors,
            routing=routing_table(settings),
            batch=settings.dispatch_batch,
            lease_s=settings.dispatch_lease_s,
            poll_s=min(settings.dispatch_poll_s, SPLIT_POLL_S)
            if split
            else settings.dispatch_poll_s,
        )
        self.events.on_change.append(self.dispatcher.wake)
        # Tenants' URLs, checked when saved and when called (`resolver`: tests map names).
        self.url_guard = UrlGuard(
            allowed_networks=settings.webhook_allowed_networks, resolver=resolver
        )
        self.webhooks = WebhookSender(
            store=self.store,
            clock=self.clock,
            timeout_s=settings.webhook_timeout_s,
            max_age_s=settings.webhook_max_age_s,
            concurrency=settings.webhook_concurrency,
            guard=self.url_guard,
        )
        self.delivery.on_deliveries = self.webhooks.wake
        self.messages = MessageService(
            self.store,
            self.clock,
            default_validity_s=settings.default_validity_s,
            default_sender=default_sender,
            wake_dispatcher=self.dispatcher.wake,
            suppressed=self.two_way_store.suppressed,
            number_owners=self.two_way_store.owners_of,
            send_at_skew_s=settings.send_at_skew_s,
            # Messages this process accepts skip the claim when it runs the dispatcher.
            handoff=self.dispatcher if "worker" in self.roles else None,
        )
        self.ingress = SmppIngress(
            self.store,
            self.clock,
            self.messages,
            part_hold_s=settings.smpp_reassembly_timeout_s,
        )
        self.delivery.on_final = self.ingress.receipts_for
        self.two_way.listeners.append(self._mo_for_smpp)
        self.smpp_servers: list[SmppServer] = []
        self.smpp_delivery = SmppDelivery(
            store=self.store,
            clock=self.clock,
            sessions=self._smpp_sessions,
            poll_s=SPLIT_POLL_S if split else 1.0,
        )
        self.delivery.on_smpp = self.smpp_delivery.wake
        if settings.smpp_enabled and "smpp" in self.roles:
            hooks = GatewayHooks(
                store=self.store,
                clock=self.clock,
                ingress=self.ingress,
                on_bound=self.smpp_delivery.session_bound,
            )
            self.smpp_servers.append(
                SmppServer(smpp_server_config(settings, settings.smpp_port), hooks)
            )
            if settings.smpp_tls_cert:
                tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                tls.load_cert_chain(settings.smpp_tls_cert, settings.smpp_tls_key or None)
                config = smpp_server_config(settings, settings.smpp_tls_port, tls)
                self.smpp_servers.append(SmppServer(config, hooks))
        self.admin = admin_service(
            self.store,
            self.clock,
            self.url_guard,
            connector_status=self.connector_status,
            # This process signs with a rotated secret at once (others within their cache).
            secret_rotated=self.webhooks.forget_secret,
        )
        self.api = create_asgi(
            ApiContext(
                store=self.store,
                messages=self.messages,
                admin=self.admin,
                clock=self.clock,
                settings=settings,
                ready=self.ready,
                url_guard=self.url_guard,
            ),
            two_way=self.two_way_manager,
        )
        self._serve_http = serve_http and "api" in self.roles
        self.http_limits = ConnectionLimits(
            header_timeout_s=settings.http_header_timeout_s,
            max_per_address=settings.http_max_connections_per_address,
            trusted_proxies=TrustedProxies.parse(settings.trusted_proxies),
        )
        self._http: uvicorn.Server | None = None
        self._http_socket: socket.socket | None = None
        self._http_task: asyncio.Task[None] | None = None
        self._started = False
        self.http_port = 0

    def _mo_for_smpp(self, message: Message) -> list[Change]:
        """Inbound messages of accounts with an SMPP login also go to their ESME."""
        changes = self.ingress.mo_for(message)
        if changes:
            # The row is committed with the message; the pump looks a moment later (and
            # polls every second besides).
            asyncio.get_running_loop().call_later(0.05, self.smpp_delivery.wake, message.account_id)
        return changes

    def _smpp_sessions(self) -> list[SessionInfo]:
        return [session for server in self.smpp_servers for session in server.sessions]

    @property
    def smpp_port(self) -> int:
        """The plain SMPP listener's port (0 when the SMPP server is off)."""
        return self.smpp_servers[0].port if self.smpp_servers else 0

    def ready(self) -> bool:
        return self._started

    def connector_status(self) -> list[ConnectorState]:
        out = []
        for name, connector in self.connectors.items():
            stats = getattr(connector, "stats", None)
            out.append(
                ConnectorState(
                    name=name,
                    type="smpp",
                    up=connector.is_up,
                    stats=dict(stats()) if callable(stats) else {},
                )
            )
        return out

    async def __aenter__(self) -> Gateway:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        await migrate(self.engine)
        await self.store.start()
        if "worker" in self.roles:
            await self._start_worker()
        await self.store.load_smpp_account_ids()
        for server in self.smpp_servers:
            await server.start()
        for account_id in await self.store.accounts_with_pending_smpp():
            self.smpp_delivery.wake(account_id)
        if self._serve_http:
            await self._start_http()
        self._started = True

    async def _start_worker(self) -> None:
        # Before the connectors: part sets a crash left complete are stored first.
        await self.inbound.start()
        # The one worker of the database (see Settings.role): what it had claimed before a
        # crash is due again at once instead of when the leases run out.
        released = await self.store.release_claims()
        if released:
            log.warning("%d parts claimed before a restart are due again", released)
        for connector in self.connectors.values():
            await connector.start()
        await self.dispatcher.start()
        await self.webhooks.start()

    async def _start_http(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.settings.http_host, self.settings.http_port))
        sock.listen(2048)
        sock.setblocking(False)
        self._http_socket = sock
        self.http_port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.api,
            lifespan="off",
            log_level="warning",
            access_log=False,
            # httptools, with our connection limits and HTTP/1.0 keep-alive.
            http=protocol_class(self.http_limits),
            # The client address comes from trusted_proxies only (server_protocol.py).
            proxy_headers=False,
            timeout_keep_alive=self.settings.http_keepalive_timeout_s,  # type: ignore[arg-type]
            timeout_graceful_shutdown=5,
        )
        server = uvicorn.Server(config)
        config.load()
        server.lifespan = config.lifespan_class(config)
        await server.startup(sockets=[sock])
        self._http = server
        self._http_task = asyncio.create_task(server.main_loop(), name="http")

    @property
    def http_url(self) -> str:
        return f"http://{self.settings.http_host}:{self.http_port}"

    async def stop(self) -> None:
        """Stop taking work, finish what is in flight, then close everything."""
        self._started = False
        if self._http is not None:
            self._http.should_exit = True
            if self._http_task is not None:
                await self._http_task
            await self._http.shutdown(sockets=[self._http_socket] if self._http_socket else None)
            self._http = None
        # SMPP customers: finish handing over receipts in flight, then unbind and close.
        await self.smpp_delivery.stop()
        for server in self.smpp_servers:
            await server.stop()
        await self.dispatcher.stop()
        for connector in self.connectors.values():
            await connector.stop()
        await self.inbound.stop()
        await self.delivery.drain()
        await self.webhooks.stop()
        writer = self.store.writer
        log.info(
            "store writer: %d transactions, %d write sets, %.1f s busy, %d lock retries, "
            "%.1f s holding the lock",
            writer.batches,
            writer.write_sets,
            writer.busy_s,
            writer.busy_retries,
            writer.locked_s,
        )
        await self.store.stop()
        await self.engine.dispose()
