"""Shared pieces of the connector tests: a recording ConnectorEvents, parts, a started connector."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from smsgate.adapters.connectors.smpp import SmppConnector, SmppConnectorConfig
from smsgate.services.ports import InboundEvent, OutboundPart, ReceiptEvent

WAIT = 10.0  # upper bound for anything awaited in a test; never a sleep


class RecordingEvents:
    """ConnectorEvents that records everything and lets a test await it."""

    def __init__(self, *, fail_receipts: int = 0) -> None:
        self.receipts: list[ReceiptEvent] = []
        self.inbound: list[InboundEvent] = []
        self.links: list[bool] = []
        self.fail_receipts = fail_receipts
        self.receipt_calls = 0
        self._change = asyncio.Event()

    async def on_receipt(self, event: ReceiptEvent) -> None:
        self.receipt_calls += 1
        if self.fail_receipts > 0:
            self.fail_receipts -= 1
            self._change.set()
            raise RuntimeError("database unavailable")
        self.receipts.append(event)
        self._change.set()

    async def on_inbound(self, event: InboundEvent) -> None:
        self.inbound.append(event)
        self._change.set()

    def on_link_change(self, connector: str, up: bool) -> None:
        self.links.append(up)
        self._change.set()

    async def wait_until(self, predicate: Any) -> None:
        async with asyncio.timeout(WAIT):
            while not predicate():
                self._change.clear()
                await self._change.wait()


def part(n: int = 1, destination: str = "491701234567", **fields: Any) -> OutboundPart:
    values: dict[str, Any] = {
        "part_id": f"m{n}.1",
        "message_id": f"m{n}",
        "seq": 1,
        "total": 1,
        "source": "Shop",
        "destination": destination,
        "short_message": b"message %d" % n,
        "data_coding": 0,
    }
    values.update(fields)
    return OutboundPart(**values)


def config(port: int, **fields: Any) -> SmppConnectorConfig:
    base = SmppConnectorConfig(
        name="smsc1",
        host="127.0.0.1",
        port=port,
        system_id="gateway",
        password="secret",
        response_timeout=2.0,
        reconnect_min=0.01,
        reconnect_max=0.05,
    )
    return dataclasses.replace(base, **fields)


@asynccontextmanager
async def running(
    port: int, events: RecordingEvents, *, wait_up: bool = True, **fields: Any
) -> AsyncIterator[SmppConnector]:
    connector = SmppConnector(config=config(port, **fields), events=events)
    await connector.start()
    try:
        if wait_up:
            await events.wait_until(lambda: connector.is_up)
        yield connector
    finally:
        await connector.stop()
