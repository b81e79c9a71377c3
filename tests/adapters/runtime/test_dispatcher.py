"""The dispatcher over a real SQLite store with scripted connectors and a controlled clock:
routing, failover, retries with backoff until the validity ends, expiry and order."""

from __future__ import annotations

import asyncio

import pytest

from smsgate.domain.routing import Route
from smsgate.services.ports import OutcomeKind

from .rig import ScriptedConnector


async def test_failover_to_the_next_connector_on_a_transient_error(rig_factory: object) -> None:
    a = ScriptedConnector("a", [OutcomeKind.TRANSIENT])
    b = ScriptedConnector("b")
    rig = await rig_factory({"a": a, "b": b}, [Route(connectors=("a", "b"), prefix="359")])  # type: ignore[operator]
    mid = await rig.send()
    assert await rig.wait_status(mid, "sent") == "sent"
    assert len(a.seen) == 1
    assert len(b.seen) == 1
    message = await rig.store.get_message(mid)
    assert message is not None
    assert message.connector == "b"


async def test_a_down_connector_is_skipped(rig_factory: object) -> None:
    a = ScriptedConnector("a", up=False)
    b = ScriptedConnector("b")
    rig = await rig_factory({"a": a, "b": b}, [Route(connectors=("a", "b"))])  # type: ignore[operator]
    mid = await rig.send()
    await rig.wait_status(mid, "sent")
    assert a.seen == []
    assert len(b.seen) == 1


@pytest.mark.parametrize("rebinding", [True, False])
async def test_a_link_down_a_moment_keeps_the_part_a_link_down_longer_bounces_it(
    rig_factory: object, rebinding: bool
) -> None:
    # b keeps the dispatcher claiming; a, the only route to 359, has lost its link.
    a = ScriptedConnector("a", up=False, rebinding=rebinding)
    b = ScriptedConnector("b")
    routes = [Route(connectors=("a",), prefix="359"), Route(connectors=("b",), prefix="44")]
    rig = await rig_factory({"a": a, "b": b}, routes)  # type: ignore[operator]
    mid = await rig.send()
    if rebinding:  # handed to a, whose queue keeps its place until the rebind
        assert await rig.wait_status(mid, "sent") == "sent"
        assert len(a.seen) == 1
    else:  # back to the queue, to try again in a moment
        await rig.wait_status(mid, "queued")
        parts = await rig.store.get_parts(mid)
        assert [p.error_code for p in parts] == ["no_connector_up"]
        assert a.seen == []
    assert b.seen == []


async def test_longest_prefix_route_wins(rig_factory: object) -> None:
    a = ScriptedConnector("a")
    b = ScriptedConnector("b")
    routes = [Route(connectors=("a",)), Route(connectors=("b",), prefix="44")]
    rig = await rig_factory({"a": a, "b": b}, routes)  # type: ignore[operator]
    uk = await rig.send(to="+447911123456")
    bg = await rig.send(to="+359888123456")
    await rig.wait_status(uk, "sent")
    await rig.wait_status(bg, "sent")
    assert [p.destination for p in b.seen] == ["447911123456"]
    assert [p.destination for p in a.seen] == ["359888123456"]


async def test_permanent_error_fails_without_failover(rig_factory: object) -> None:
    a = ScriptedConnector("a", [OutcomeKind.PERMANENT])
    b = ScriptedConnector("b")
    rig = await rig_factory({"a": a, "b": b}, [Route(connectors=("a", "b"))])  # type: ignore[operator]
    mid = await rig.send()
    assert await rig.wait_status(mid, "failed") == "failed"
    assert b.seen == []
    message = await rig.store.get_message(mid)
    assert message is not None
    assert message.error_code == "ESME_RSUBMITFAIL"


async def test_no_route_fails(rig_factory: object) -> None:
    a = ScriptedConnector("a")
    rig = await rig_factory({"a": a}, [Route(connectors=("a",), prefix="44")])  # type: ignore[operator]
    mid = await rig.send(to="+359888123456")
    assert await rig.wait_status(mid, "failed") == "failed"
    message = await rig.store.get_message(mid)
    assert message is not None
    assert message.error_code == "no_route"
    assert a.seen == []


async def test_transient_errors_retry_with_backoff_until_validity_ends(rig_factory: object) -> None:
    a = ScriptedConnector("a", [OutcomeKind.TRANSIENT])
    rig = await rig_factory({"a": a}, [Route(connectors=("a",))])  # type: ignore[operator]
    mid = await rig.send(validity_s=60)
    async with asyncio.timeout(10):
        while len(a.seen) < 1:
            await rig.dispatcher_settled()
    await rig.dispatcher_settled()
    assert len(a.seen) == 1  # not again before the backoff has passed
    assert await rig.status_of(mid) == "queued"
    parts = await rig.store.get_parts(mid)
    assert parts[0].attempts == 1
    # Backoff is 2 s, then 4, 8, 16, 32: step the clock through them.
    for expected in (2, 3, 4, 5):
        rig.clock.t += 2 ** (expected - 1) + 0.1
        async with asyncio.timeout(10):
            while len(a.seen) < expected:
                await rig.dispatcher_settled()
    # The next try would come after the validity ends: the message fails, never sent late.
    rig.clock.t += 32.1
    assert await rig.wait_status(mid, "failed") == "failed"
    message = await rig.store.get_message(mid)
    assert message is not None
    assert message.error_code == "retries_exhausted"
    assert len(a.seen) == 5
    for part in a.seen:
        assert part.validity_until is not None
        assert part.validity_until.timestamp() == pytest.approx(message.valid_until)


async def test_a_message_past_its_validity_is_never_submitted(rig_factory: object) -> None:
    a = ScriptedConnector("a", up=False)
    rig = await rig_factory({"a": a}, [Route(connectors=("a",))])  # type: ignore[operator]
    mid = await rig.send(validity_s=30)
    rig.clock.t += 31
    a.up = True
    assert await rig.wait_status(mid, "expired") == "expired"
    assert a.seen == []


async def test_parts_go_out_in_order(rig_factory: object) -> None:
    a = ScriptedConnector("a")
    rig = await rig_factory({"a": a}, [Route(connectors=("a",))])  # type: ignore[operator]
    ids = [await rig.send(text=f"message {i}") for i in range(20)]
    long_id = await rig.send(text="z" * 400)
    for mid in [*ids, long_id]:
        await rig.wait_status(mid, "sent")
    texts = [p.short_message for p in a.seen]
    assert texts[:20] == [f"message {i}".encode() for i in range(20)]
    assert [p.seq for p in a.seen[20:]] == [1, 2, 3]
