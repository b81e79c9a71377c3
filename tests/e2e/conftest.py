"""The whole gateway in the test's event loop: SQLite file, simulated SMSC, real sockets."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from smsgate.adapters.url_guard import LOOPBACK_NETWORKS
from smsgate.bootstrap import Gateway
from smsgate.config import ConnectorSettings, RouteSettings, Settings
from smsgate.services.admin import NewAccount, SmppLogin
from smsgate.simulators.smsc import SmscSimulator, SmscSimulatorConfig
from smsgate.testing.sink import WebhookSink


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
    account = await gateway.admin.create_account(NewAccount(name=system_id))
    created = await gateway.admin.create_key(account.id, name="t")
    await add_smpp_login(gateway, account.id, system_id, password)
    return account.id, created.secret


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
    login = SmppLogin(
        system_id=system_id,
        password=password,
        max_binds=max_binds,
        allowed_ips=tuple(a for a in allowed_ips.split(",") if a),
        submit_rate_per_s=submit_rate_per_s,
    )
    await gateway.admin.set_smpp_login(account_id, login)


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
            a = await gateway.admin.create_account(NewAccount(name="a", default_country="BG"))
            b = await gateway.admin.create_account(NewAccount(name="b"))
            key_a = (await gateway.admin.create_key(a.id, name="t")).secret
            key_b = (await gateway.admin.create_key(b.id, name="t")).secret
            async with httpx.AsyncClient(base_url=gateway.http_url, timeout=10) as client:
                yield Env(gateway, sim, sink, client, key_a, key_b, a.id, b.id)


@pytest.fixture
async def env(tmp_path: object) -> AsyncIterator[Env]:
    async with running_env(tmp_path) as e:
        yield e
