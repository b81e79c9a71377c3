"""Binding: each bind type with smpplib, refusals, per-account and per-address limits, the
bind and idle timeouts, our enquire_link keepalive."""

from __future__ import annotations

import asyncio
import logging

import pytest

from smsgate.adapters.smpp_server import (
    BindRefused,
    BindRequest,
    BoundAccount,
    DefaultHooks,
    SmppServer,
    StaticHooks,
)
from smsgate.smpp.constants import CommandStatus, TlvTag
from smsgate.smpp.pdu import (
    BindTransmitter,
    BindTransmitterResp,
    EnquireLink,
    EnquireLinkResp,
    Unbind,
)
from smsgate.smpp.tlv import tlv_value
from tests.adapters.smpp_server.helpers import (
    ACME,
    WAIT,
    RawClient,
    running,
    server_config,
    smpplib_bind_status,
    smpplib_client,
    wait_for,
)

S = CommandStatus


def _bind_and_check(port: int, kind: str) -> tuple[int, str]:
    client = smpplib_client(port)
    try:
        resp = getattr(client, f"bind_{kind}")(system_id="acme", password="secret")
        system_id = resp.system_id
        client.unbind()
        return int(resp.status), system_id.decode() if isinstance(system_id, bytes) else system_id
    finally:
        client.disconnect()


@pytest.mark.parametrize("kind", ["transmitter", "receiver", "transceiver"])
async def test_smpplib_binds_each_type(kind: str) -> None:
    async with running() as (server, hooks):
        status, system_id = await asyncio.to_thread(_bind_and_check, server.port, kind)
        assert status == S.ESME_ROK
        assert system_id == "smsgate"
        await wait_for(lambda: len(hooks.closed) == 1, hooks.changed)
        (session,) = hooks.closed
        assert session.bind_type == kind
        assert session.account_id == ACME.account_id
        assert session.system_id == "acme"
        assert session.peer_ip == "127.0.0.1"
        assert session.can_receive is (kind != "transmitter")
        assert session.can_transmit is (kind != "receiver")
        assert not session.is_open
        assert server.binds_of(ACME.account_id) == 0


async def test_bind_resp_carries_sc_interface_version() -> None:
    async with running() as (server, _hooks):
        client = await RawClient.connect(server.port)
        resp = await client.request(
            BindTransmitter(sequence_number=1, system_id="acme", password="secret")
        )
        assert isinstance(resp, BindTransmitterResp)
        assert resp.command_status == S.ESME_ROK
        assert tlv_value(resp.tlvs, TlvTag.SC_INTERFACE_VERSION) == 0x34
        await client.close()


@pytest.mark.parametrize(("system_id", "password"), [("acme", "wrong"), ("nobody", "secret")])
async def test_wrong_credentials_are_refused(system_id: str, password: str) -> None:
    # One status for both: the reply does not tell a valid system_id from an unknown one.
    async with running() as (server, hooks):
        got = await asyncio.to_thread(
            smpplib_bind_status, server.port, "transceiver", system_id, password
        )
        assert got == S.ESME_RBINDFAIL
        assert hooks.bound == []


async def test_refused_bind_leaves_the_session_open_for_another_try() -> None:
    async with running() as (server, _hooks):
        client = await RawClient.connect(server.port)
        assert await client.bind(password="nope") == S.ESME_RBINDFAIL
        assert await client.bind() == S.ESME_ROK
        await client.close()


async def test_default_hooks_refuse_every_bind() -> None:
    async with running(DefaultHooks()) as (server, _hooks):
        got = await asyncio.to_thread(smpplib_bind_status, server.port, "transmitter", "a", "b")
        assert got == S.ESME_RBINDFAIL


async def test_authenticate_hook_failure_is_bindfail_and_the_secret_is_not_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken(DefaultHooks):
        async def authenticate(self, req: BindRequest) -> BoundAccount:
            raise RuntimeError(f"db down while checking {req.password}")

    async with running(Broken()) as (server, _hooks):
        client = await RawClient.connect(server.port)
        assert await client.bind(password="hunter2") == S.ESME_RBINDFAIL
        await client.close()
    assert "hunter2" not in caplog.text
    assert "RuntimeError" in caplog.text


async def test_every_refused_bind_is_bindfail_and_its_reason_only_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Refuse(DefaultHooks):
        async def authenticate(self, req: BindRequest) -> BoundAccount:
            raise BindRefused(S.ESME_RINVSYSTYP, "system_type not accepted")

    caplog.set_level(logging.INFO, logger="smsgate.smpp_server")
    async with running(Refuse()) as (server, _hooks):
        client = await RawClient.connect(server.port)
        assert await client.bind(password="hunter2") == S.ESME_RBINDFAIL
        await client.close()
    assert "system_type not accepted" in caplog.text
    assert "'acme'" in caplog.text  # the system_id is logged, the password never
    assert "hunter2" not in caplog.text


async def test_second_bind_on_a_bound_session_is_already_bound() -> None:
    async with running() as (server, _hooks):
        client = await RawClient.connect(server.port)
        assert await client.bind() == S.ESME_ROK
        assert await client.bind() == S.ESME_RALYBND
        await client.close()


async def test_max_binds_per_account() -> None:
    account = BoundAccount(account_id="a", system_id="two", max_binds=2)
    hooks = StaticHooks({"two": ("pw", account)})
    async with running(hooks) as (server, _hooks):
        clients = [await RawClient.connect(server.port) for _ in range(3)]
        assert await clients[0].bind(system_id="two", password="pw") == S.ESME_ROK
        assert await clients[1].bind(system_id="two", password="pw") == S.ESME_ROK
        assert await clients[2].bind(system_id="two", password="pw") == S.ESME_RBINDFAIL
        assert server.binds_of("a") == 2
        await clients[0].close()
        await wait_for(lambda: server.binds_of("a") == 1, hooks.changed)
        assert await clients[2].bind(system_id="two", password="pw") == S.ESME_ROK
        for c in clients[1:]:
            await c.close()


async def test_bind_budget_per_address_refuses_without_calling_the_hook() -> None:
    async with running(bind_attempts_per_ip=3) as (server, hooks):
        client = await RawClient.connect(server.port)
        for _ in range(3):
            assert await client.bind(password="guess") == S.ESME_RBINDFAIL
        assert hooks.authenticate_calls == 3
        assert await client.bind() == S.ESME_RBINDFAIL  # even the right password
        assert await client.closed_by_server()
        assert hooks.authenticate_calls == 3
        # a new connection from the same address is refused as well
        again = await RawClient.connect(server.port)
        assert await again.bind() == S.ESME_RBINDFAIL
        assert hooks.authenticate_calls == 3
        await again.close()


async def test_a_connection_that_does_not_bind_is_closed() -> None:
    async with running(bind_timeout=0.05) as (server, _hooks):
        client = await RawClient.connect(server.port)
        assert await client.closed_by_server()
        assert server.connection_count == 0


async def test_enquire_link_is_answered_before_the_bind() -> None:
    async with running() as (server, _hooks):
        client = await RawClient.connect(server.port)
        resp = await client.request(EnquireLink(sequence_number=7))
        assert isinstance(resp, EnquireLinkResp)
        assert resp.command_status == S.ESME_ROK
        await client.close()


async def test_an_idle_bound_session_is_closed() -> None:
    async with running(idle_timeout=0.1, enquire_link_interval=60) as (server, hooks):
        client = await RawClient.connect(server.port)
        assert await client.bind() == S.ESME_ROK
        (session,) = server.sessions
        await asyncio.wait_for(session.wait_closed(), WAIT)
        assert await client.closed_by_server()
        assert hooks.closed == [session]


async def test_we_send_enquire_link_and_close_when_it_is_not_answered() -> None:
    async with running(enquire_link_interval=0.05, response_timeout=0.1) as (server, _hooks):
        client = await RawClient.connect(server.port)
        assert await client.bind() == S.ESME_ROK
        pdu = await client.recv()
        assert isinstance(pdu, EnquireLink)  # and we do not answer it
        assert await client.closed_by_server()


async def test_answered_enquire_links_keep_the_session_but_not_from_idling() -> None:
    async with running(enquire_link_interval=0.02, idle_timeout=0.5) as (server, _hooks):
        client = await RawClient.connect(server.port)
        assert await client.bind() == S.ESME_ROK
        answered = 0
        while (pdu := await client.recv()) is not None:
            assert isinstance(pdu, EnquireLink)
            client.send(pdu.make_resp())
            answered += 1
        assert answered >= 1  # it kept asking; the idle timeout still ended the session


async def test_unbind_from_the_client() -> None:
    async with running() as (server, hooks):
        client = await RawClient.connect(server.port)
        assert await client.bind() == S.ESME_ROK
        resp = await client.request(Unbind(sequence_number=client.seq()))
        assert resp.command_status == S.ESME_ROK
        assert await client.closed_by_server()
        await wait_for(lambda: len(hooks.closed) == 1, hooks.changed)


async def test_max_connections() -> None:
    server = SmppServer(server_config(max_connections=1), StaticHooks({}))
    async with server:
        first = await RawClient.connect(server.port)
        await first.request(EnquireLink(sequence_number=1))  # accepted and counted
        second = await RawClient.connect(server.port)
        assert await second.closed_by_server()
        await first.request(EnquireLink(sequence_number=2))
        await first.close()


async def _answers(client: RawClient) -> bool:
    """True when the server answers an enquire_link on this connection, False at EOF."""
    client.send(EnquireLink(sequence_number=client.seq()))
    return await client.recv() is not None


async def test_a_flood_from_one_address_leaves_room_for_the_others() -> None:
    # Without a per-address cap these idle, unbound sockets would take every slot.
    config = {"max_connections": 8, "max_connections_per_ip": 4}
    async with running(**config) as (server, hooks):
        flood = [await RawClient.connect(server.port) for _ in range(12)]
        answered = [await _answers(client) for client in flood]
        assert answered.count(True) == 4  # the rest were closed at once
        assert server.connection_count == 4
        other = await RawClient.connect(server.port, source="127.0.0.2")
        assert await other.bind() == S.ESME_ROK
        assert server.sessions[0].peer_ip == "127.0.0.2"
        # A slot 127.0.0.1 gives back is its own again.
        mine = [c for c, ok in zip(flood, answered, strict=True) if ok]
        assert await mine[0].bind() == S.ESME_ROK
        await mine[0].close()
        await wait_for(lambda: len(hooks.closed) == 1, hooks.changed)
        again = await RawClient.connect(server.port)
        assert await _answers(again)
        for client in [*mine[1:], again, other]:
            await client.close()
