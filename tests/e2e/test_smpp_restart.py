"""An ESME's concatenated message whose parts straddle a gateway restart stays one message."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from smsgate.bootstrap import Gateway
from smsgate.simulators.smsc import SmscSimulator, SmscSimulatorConfig
from tests.e2e.conftest import account_with_smpp_login, gateway_settings
from tests.e2e.esme import Esme

UDH = bytes([5, 0, 3, 0x42, 2])  # concatenated, 8-bit reference 0x42, 2 parts


async def _submit(port: int, seq: int, text: bytes) -> str:
    esme = Esme(port, "esme1", "secret1")
    await asyncio.to_thread(esme.open)
    try:
        resp = await asyncio.to_thread(
            esme.submit,
            destination_addr="359888123456",
            esm_class=0x40,
            short_message=UDH + bytes([seq]) + text,
        )
    finally:
        await asyncio.to_thread(esme.close)
    assert resp.status == 0
    return str(resp.message_id.decode())


async def test_parts_across_a_restart_make_one_message(tmp_path: Path) -> None:
    sim_cfg = SmscSimulatorConfig(system_id="gw", password="pw", receipt_delay=0.05)
    async with SmscSimulator(sim_cfg) as sim:
        settings = gateway_settings(tmp_path, sim.port)
        async with Gateway(settings) as first:
            _account, key = await account_with_smpp_login(first)
            one = await _submit(first.smpp_port, 1, b"First half, ")
        async with Gateway(settings) as second:
            two = await _submit(second.smpp_port, 2, b"second half.")
            message_id, seq = one.rsplit(".", 1)
            assert seq == "1"
            assert two == f"{message_id}.2"  # the same message
            async with httpx.AsyncClient(base_url=second.http_url, timeout=10) as client:
                headers = {"Authorization": f"Bearer {key}"}

                async def delivered() -> dict[str, object]:
                    for _ in range(1000):  # bounded poll of the message's status
                        got = await client.get(f"/api/v1/messages/{message_id}", headers=headers)
                        if got.json()["status"] == "delivered":
                            return dict(got.json())
                        await asyncio.sleep(0.01)
                    raise AssertionError(f"not delivered: {got.json()}")

                message = await asyncio.wait_for(delivered(), 30)
                listed = await client.get("/api/v1/messages", headers=headers)
    assert message["parts"] == 2
    assert message["text"] == "First half, second half."
    assert len(listed.json()["data"]) == 1
    # Each part went to the SMSC once, with the ESME's own header.
    assert sorted(r.short_message for r in sim.submitted) == [
        UDH + b"\x01First half, ",
        UDH + b"\x02second half.",
    ]
