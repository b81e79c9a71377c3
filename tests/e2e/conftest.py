"""The whole gateway in the test's event loop: SQLite file, simulated SMSC, real sockets."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from smsgate.adapters.url_guard import LOOPBACK_NETWORKS
from smsgate.bootstrap import Gateway
from smsgate.config import ConnectorSettings, RouteSettings, Settings
from smsgate.services.credentials import hash_password
from smsgate.services.records import SmppCredentials
from smsgate.simulators.smsc import SmscSimulator, SmscSimulatorConfig
from tests.e2e.sink import WebhookSink


@dataclass
class Env:
    gateway: Gateway
    sim: SmscSimulator
    sink: WebhookSink
    client: httpx.AsyncClient
    key_a: str
    key_b: str
    account_a: str
    account_b: str

    def auth(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key_a}"}

    async def send(self, key: str | None = None, **body: object) -> httpx.Response:
        body.setdefault("from", "ACME")
        body.setdefault("callback_url", self.sink.url + "/cb")
        return await self.client.post("/api/v1/messages", json=body, headers=self.auth(key))


def gateway_settings(tmp_path: object, sim_port: int, **overrides: object) -> Settings:
    base = Settings(
        database_url=f"sqlite:///{tmp_path}/gw.db",
        http_host="127.0.0.1",
        http_port=0,
        smpp_port=0,
        connectors=(
            ConnectorSettings(
                name="sim",
                host="127.0.0.1",
                port=sim_port,
                system_id="gw",
                password="pw",
                window=20,
                response_timeout=5.0,
            ),
        ),
        routes=(RouteSettings(connectors=("sim",)),),
        dispatch_poll_s=0.2,
        # The webhook sink listens on loopback, which tenants' URLs may not reach by default.
        webhook_allowed_networks=LOOPBACK_NETWORKS,
    )
    from dataclasses import replace

    return replace(base, **overrides)  # type: ignore[arg-type]


async def account_with_smpp_login(
    gateway: Gateway, system_id: str = "esme1", password: str = "secret1"
) -> tuple[str, str]:
    """A new account with an API key and an SMPP login: (account id, API key)."""
    now = time.time()
    account = await gateway.store.create_account(name=system_id, now=now)
    _, key = await gateway.store.create_api_key(account.id, name="t", now=now)
    await add_smpp_login(gateway, account.id, system_id, password)
    return account.id, key


async def add_smpp_login(
    gateway: Gateway,
    account_id: str,
    system_id: str,
    password: str,
    *,
    max_binds: int = 2,
    submit_rate_per_s: float | None = None,
    allowed_ips: str = "",
) -> None:
    """An SMPP login of the account, from any address (or those of `allowed_ips`)."""
    await gateway.store.set_smpp_credentials(
        SmppCredentials(
            system_id=system_id,
            account_id=account_id,
            password_hash=hash_password(password),
            max_binds=max_binds,
            allowed_ips=allowed_ips,
            submit_rate_per_s=submit_rate_per_s,
            created_at=time.time(),
        )
    )


@contextlib.asynccontextmanager
async def running_env(
    tmp_path: object, *, gateway_options: Mapping[str, object] | None = None, **sim_options: Any
) -> AsyncIterator[Env]:
    """The gateway (`gateway_options`: Settings fields), a simulator (options as
    SmscSimulatorConfig) and a webhook sink."""
    sim_cfg = SmscSimulatorConfig(
        system_id="gw",
        password="pw",
        receipt_delay=sim_options.pop("receipt_delay", 0.05),
        **sim_options,
    )
    async with SmscSimulator(sim_cfg) as sim, WebhookSink() as sink:
        gateway = Gateway(gateway_settings(tmp_path, sim.port, **(gateway_options or {})))
        async with gateway:
            now = gateway.clock.now()
            a = await gateway.store.create_account(name="a", default_country="BG", now=now)
            b = await gateway.store.create_account(name="b", now=now)
            _, key_a = await gateway.store.create_api_key(a.id, name="t", now=now)
            _, key_b = await gateway.store.create_api_key(b.id, name="t", now=now)
            async with httpx.AsyncClient(base_url=gateway.http_url, timeout=10) as client:
                yield Env(gateway, sim, sink, client, key_a, key_b, a.id, b.id)


@pytest.fixture
async def env(tmp_path: object) -> AsyncIterator[Env]:
    async with running_env(tmp_path) as e:
        yield e
