"""Protocol fuzzing of the running gateway's SMPP server over real sockets.

Many connections, each from its own loopback address (the server budgets binds per
address), half of them bound first with valid credentials; each writes a batch of mutated
frames at once, then half-closes. The server must answer or close every one of them (no
hang: each connection is bounded by a timeout), stay up, keep memory bounded, and a
well-behaved customer session bound alongside keeps submitting successfully during and
after the storm.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import random
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsgate.smpp import (
    BindTransceiver,
    EnquireLink,
    Pdu,
    SmppError,
    SubmitSm,
    SubmitSmResp,
    decode,
    encode,
)
from smsgate.smpp.constants import CommandStatus
from smsgate.testing.esme import EsmeProtocol, connect
from tests.e2e.conftest import Env, add_smpp_login, running_env
from tests.fuzz.budget import SOCKET_FRAMES
from tests.fuzz.mutate import corpus, mutate

FRAMES_PER_CONNECTION = 50
CONNECTIONS = max(1, SOCKET_FRAMES // FRAMES_PER_CONNECTION)
CONCURRENT = 8
ROUND = 25  # connections per hypothesis example
WAIT = 15.0  # bound on anything one connection may take; never a sleep
SYSTEM_ID, PASSWORD = "fuzz", "secret1"
SEEDS = corpus()
TRIED = {"connections": 0, "frames": 0, "closed_by_server": 0, "answers": 0, "good_submits": 0}


async def read_pdu(reader: asyncio.StreamReader) -> Pdu:
    head = await reader.readexactly(4)
    length = int.from_bytes(head, "big")
    return decode(head + await reader.readexactly(length - 4))


class GoodEsme:
    """A well-behaved customer: bound transceiver, one submit at a time (smsgate.testing's
    ESME, which answers the server's deliver_sm and enquire_link)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.esme: EsmeProtocol | None = None

    async def bind(self) -> None:
        self.esme = await connect(
            lambda: EsmeProtocol(window=1), "127.0.0.1", self.port, local_addr=("127.0.0.1", 0)
        )
        await self.esme.bind(SYSTEM_ID, PASSWORD, WAIT)

    async def submit(self, n: int) -> None:
        assert self.esme is not None
        pdu = SubmitSm(
            sequence_number=self.esme.conn.next_sequence(),
            source_addr="GOOD",
            source_addr_ton=5,
            destination_addr=f"35988877{n % 10000:04d}"[:12],
            short_message=f"still working {n}".encode(),
        )
        resp = await self.esme.request(pdu, WAIT)
        assert isinstance(resp, SubmitSmResp), resp
        assert resp.command_status == CommandStatus.ESME_ROK, resp
        assert self.esme.violations == []
        TRIED["good_submits"] += 1

    async def close(self) -> None:
        if self.esme is not None:
            self.esme.close()
            await self.esme.closed


def _address(n: int) -> str:
    # 127.0.0.0/8 is all loopback on Linux: a fresh source address per connection.
    return f"127.{1 + n // 62500 % 250}.{n // 250 % 250}.{1 + n % 250}"


async def fuzz_connection(port: int, n: int, rng: random.Random) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(_address(n), 0))
    try:
        async with asyncio.timeout(WAIT):
            frames = [mutate(rng, SEEDS) for _ in range(FRAMES_PER_CONNECTION)]
            if n % 2 == 0:  # bound first: the mutants meet the submit/query/cancel paths
                frames.insert(
                    0,
                    encode(
                        BindTransceiver(sequence_number=1, system_id=SYSTEM_ID, password=PASSWORD)
                    ),
                )
            frames.append(encode(EnquireLink(sequence_number=0x7FFFFFFF)))
            writer.write(b"".join(frames))
            with contextlib.suppress(ConnectionError):
                await writer.drain()
                writer.write_eof()
            TRIED["frames"] += FRAMES_PER_CONNECTION
            # The server answers, generic_nacks or closes; it must end the connection after
            # our half-close, whatever state the garbage left it in.
            while True:
                try:
                    await read_pdu(reader)
                    TRIED["answers"] += 1
                except SmppError:
                    TRIED["answers"] += 1  # an answer our strict decoder refuses: still one
                except (asyncio.IncompleteReadError, ConnectionError):
                    TRIED["closed_by_server"] += 1
                    break
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    TRIED["connections"] += 1


@pytest.fixture
async def fuzz_env(tmp_path: Path) -> AsyncIterator[Env]:
    async with running_env(tmp_path) as env:
        await add_smpp_login(env.gateway, env.account_a, SYSTEM_ID, PASSWORD, max_binds=1000)
        yield env


async def storm(port: int, good: GoodEsme, seed: int, first: int, count: int) -> None:
    rng = random.Random(seed)
    semaphore = asyncio.Semaphore(CONCURRENT)

    async def one(n: int) -> None:
        async with semaphore:
            await fuzz_connection(port, n, random.Random(rng.random()))

    await asyncio.gather(*(one(n) for n in range(first, first + count)), good.submit(first))


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_fuzz_smpp_server_over_sockets(fuzz_env: Env, record_property: Any) -> None:
    port = fuzz_env.gateway.smpp_port
    good = GoodEsme(port)
    await good.bind()
    await good.submit(0)
    rounds = max(1, CONNECTIONS // ROUND)
    await storm(port, good, 0, 0, ROUND)  # warm-up, before measuring memory
    gc.collect()
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()

        @settings(
            max_examples=rounds,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(st.integers(0, 2**63))
        def run_round(seed: int) -> None:
            run_round.seeds.append(seed)  # type: ignore[attr-defined]

        run_round.seeds = []  # type: ignore[attr-defined]
        run_round()  # hypothesis picks the seeds; the rounds run in this event loop
        for i, seed in enumerate(run_round.seeds):  # type: ignore[attr-defined]
            await storm(port, good, seed, ROUND * (i + 1), ROUND)
        gc.collect()
        end, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Still serving: the good session submits, and a new one binds and submits.
    await good.submit(10**6)
    await good.close()
    again = GoodEsme(port)
    await again.bind()
    await again.submit(10**6 + 1)
    await again.close()
    assert fuzz_env.gateway.ready()
    assert TRIED["connections"] == ROUND * (len(run_round.seeds) + 1)  # type: ignore[attr-defined]
    # Memory: what is still allocated after the storm does not grow with it (sessions,
    # buffers and budgets are released; some messages were accepted and are in the DB).
    assert end - start < 20_000_000, (start, end)
    counts = {"fuzz_socket": dict(TRIED), "traced_growth_bytes": end - start, "peak": peak}
    record_property("fuzz_socket", json.dumps(counts))
