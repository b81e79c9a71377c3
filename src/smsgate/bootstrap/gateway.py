"""The one place that builds and wires everything (cosmicpython's bootstrap)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from types import TracebackType

from smsgate.adapters.http_api.app import create_asgi
from smsgate.adapters.http_api.client_address import TrustedProxies
from smsgate.adapters.http_api.context import ApiContext
from smsgate.adapters.http_api.server_protocol import ConnectionLimits
from smsgate.adapters.smpp_server.ingress import SmppIngress
from smsgate.adapters.smpp_server.pipeline import GatewayHooks
from smsgate.adapters.smpp_server.server import SmppServer
from smsgate.adapters.store.database import make_engine, migrate
from smsgate.adapters.store.store import Store
from smsgate.adapters.url_guard import Resolver, UrlGuard
from smsgate.bootstrap.builders import (
    build_connectors,
    build_dispatcher,
    build_http,
    build_smpp_delivery,
    build_smpp_servers,
    build_store,
    build_two_way,
    build_webhooks,
    mo_listener,
)
from smsgate.config import ROLES, Settings, roles
from smsgate.runtime.relay import Relay
from smsgate.runtime.scheduler import Job, Scheduler
from smsgate.runtime.supervisor import Supervisor, Worker
from smsgate.services.admin import AdminService, ConnectorState
from smsgate.services.clock import Clock, SystemClock
from smsgate.services.delivery import DeliveryService, Tracker
from smsgate.services.messages import MessageService, SendRequest
from smsgate.services.ports import Connector
from smsgate.services.records import Account, Change, Message


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
    """Everything of one smsgate process; `async with Gateway(settings) as gw:`.

    Built in dependency order, each part getting what it needs in its constructor; the two
    cycles (two-way replies go through the message service, which comes after the
    dispatcher; receipts and inbound messages for ESMEs come from the SMPP ingress, which
    comes after too) go through a Relay. Start and stop: runtime/supervisor.py."""

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
        self.engine, self.store = build_store(settings)
        # Tenants' URLs, checked when saved and when called (`resolver`: tests map names).
        self.url_guard = UrlGuard(
            allowed_networks=settings.webhook_allowed_networks, resolver=resolver
        )
        self.webhooks = build_webhooks(settings, self.store, self.clock, self.url_guard)
        self.smpp_servers: list[SmppServer] = []
        self.smpp_delivery = build_smpp_delivery(
            self.store, self.clock, self.smpp_servers, split=split
        )
        # The cycles: filled in once the message service, the SMPP ingress and the
        # dispatcher exist.
        send: Relay[[Account, SendRequest], Awaitable[tuple[Message, bool]]] = Relay("send")
        receipts_for: Relay[[Message, int | None, str, str | None, float], list[Change]]
        receipts_for = Relay("receipts_for")
        mo_for: Relay[[Message], list[Change]] = Relay("mo_for")
        link_change: Relay[[], None] = Relay("link_change")
        self.tracker = Tracker()
        self.delivery = DeliveryService(
            self.store,
            self.clock,
            self.tracker,
            on_deliveries=self.webhooks.wake,
            on_final=receipts_for,
            on_smpp=self.smpp_delivery.wake,
        )
        two_way = build_two_way(
            settings,
            self.store,
            self.clock,
            self.delivery,
            send=send,
            wake_webhooks=self.webhooks.wake,
            mo_listener=mo_listener(mo_for, self.smpp_delivery),
            link_change=link_change,
            # How each connector we build writes its message ids (given ones: "auto").
            id_formats={
                c.name: c.id_format for c in settings.connectors if c.name not in (connectors or {})
            },
        )
        self.two_way_store = two_way.store
        self.two_way = two_way.service
        self.two_way_manager = two_way.manager
        self.inbound = two_way.inbound
        self.events = two_way.events
        self.connectors = build_connectors(settings, self.events, connectors)
        self.dispatcher = build_dispatcher(
            settings, self.store, self.clock, self.delivery, self.connectors, split=split
        )
        link_change.connect(self.dispatcher.wake)
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
        send.connect(self.messages.send)
        self.ingress = SmppIngress(
            self.store,
            self.clock,
            self.messages,
            part_hold_s=settings.smpp_reassembly_timeout_s,
        )
        receipts_for.connect(self.ingress.receipts_for)
        mo_for.connect(self.ingress.mo_for)
        if settings.smpp_enabled and "smpp" in self.roles:
            hooks = GatewayHooks(
                store=self.store,
                clock=self.clock,
                ingress=self.ingress,
                on_bound=self.smpp_delivery.session_bound,
            )
            self.smpp_servers.extend(build_smpp_servers(settings, hooks))
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
        self.http_limits = ConnectionLimits(
            header_timeout_s=settings.http_header_timeout_s,
            max_per_address=settings.http_max_connections_per_address,
            trusted_proxies=TrustedProxies.parse(settings.trusted_proxies),
        )
        serves_http = serve_http and "api" in self.roles
        self._http = build_http(settings, self.api, self.http_limits) if serves_http else None
        self.scheduler = Scheduler(
            self.clock, [Job("inbound sweep", self.inbound.sweep_every_s, self.inbound.sweep)]
        )
        worker = Worker(
            inbound=self.inbound,
            connectors=self.connectors,
            dispatcher=self.dispatcher,
            webhooks=self.webhooks,
            scheduler=self.scheduler,
        )
        self.supervisor = Supervisor(
            store=self.store,
            delivery=self.delivery,
            smpp_delivery=self.smpp_delivery,
            smpp_servers=self.smpp_servers,
            worker=worker if "worker" in self.roles else None,
            http=self._http,
        )

    @property
    def smpp_port(self) -> int:
        """The plain SMPP listener's port (0 when the SMPP server is off)."""
        return self.smpp_servers[0].port if self.smpp_servers else 0

    @property
    def http_port(self) -> int:
        """The HTTP listener's port (0 until started, and when this process serves none)."""
        return self._http.port if self._http is not None else 0

    def ready(self) -> bool:
        return self.supervisor.running

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
        await self.supervisor.start()

    @property
    def http_url(self) -> str:
        return f"http://{self.settings.http_host}:{self.http_port}"

    async def stop(self) -> None:
        """Stop taking work, finish what is in flight, then close everything."""
        await self.supervisor.stop()
        await self.engine.dispose()
