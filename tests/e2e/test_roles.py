"""Roles (DESIGN.md §4): an SMPP node and a worker on one database share the gateway's work.

The SMPP node takes the customers' binds and commits their messages; the worker (with the
API) claims them from the queue, sends them to the SMSC and keeps the receipts that the SMPP
node then hands to the customer's bind. Nothing wakes one from the other: each looks at the
database.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from smsgate.bootstrap import Gateway
from smsgate.config import Settings, roles
from smsgate.errors import ConfigError
from smsgate.simulators.smsc import SmscSimulator, SmscSimulatorConfig
from tests.e2e.conftest import account_with_smpp_login, gateway_settings
from tests.e2e.esme import Esme


def test_roles_are_all_or_a_list_of_known_ones() -> None:
    assert roles(Settings()) == {"api", "smpp", "worker"}
    assert roles(Settings(role="smpp")) == {"smpp"}
    assert roles(Settings(role=" api , worker ")) == {"api", "worker"}
    for bad in ("", "smpp,dispatcher", "all,smpp"):
        with pytest.raises(ConfigError, match="role must be"):
            roles(Settings(role=bad))


async def test_an_smpp_node_and_a_worker_share_one_database(tmp_path: Path, db_url: str) -> None:
    sim_cfg = SmscSimulatorConfig(system_id="gw", password="pw", receipt_delay=0.05)
    async with SmscSimulator(sim_cfg) as sim:
        base = gateway_settings(tmp_path, sim.port, database_url=db_url)
        worker = Gateway(replace(base, role="api,worker"))
        smpp_node = Gateway(replace(base, role="smpp"))
        async with worker, smpp_node:
            assert worker.smpp_port == 0  # no SMPP listener on the worker
            assert smpp_node.http_port == 0  # no API on the SMPP node
            _account, key = await account_with_smpp_login(worker)
            esme = Esme(smpp_node.smpp_port, "esme1", "secret1")
            await asyncio.to_thread(esme.open)
            try:
                ids = []
                for i in range(3):
                    resp = await asyncio.to_thread(
                        esme.submit,
                        destination_addr=f"35988812345{i}",
                        short_message=f"split roles {i}".encode(),
                        registered_delivery=1,
                    )
                    assert resp.status == 0
                    ids.append(resp.message_id.decode())
                # The worker sent them, the SMSC's receipts came back to the worker, and the
                # SMPP node handed each receipt to the bind that submitted the message.
                receipts = await asyncio.to_thread(esme.wait_delivered, 3)
            finally:
                await asyncio.to_thread(esme.close)
            assert sorted(r.receipted_message_id.decode() for r in receipts) == sorted(ids)
            async with httpx.AsyncClient(base_url=worker.http_url, timeout=10) as client:
                for message_id in ids:
                    got = await client.get(
                        f"/api/v1/messages/{message_id}",
                        headers={"Authorization": f"Bearer {key}"},
                    )
                    assert got.json()["status"] == "delivered"
            # Only the worker binds to the SMSC.
            assert sim.binds == 1
            assert smpp_node.dispatcher.submitted == 0
            assert worker.dispatcher.submitted == 3
