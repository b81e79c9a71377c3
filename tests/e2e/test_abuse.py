"""Abuse limits of the REST API (STYLE.md rule 9): a request rate per API key (429 with
Retry-After), a body size limit (413), and failed authentications slowed down per address.
Both the fast path (POST /api/v1/messages) and the framework routes are checked."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from smsgate.adapters.http_api.auth import FREE_FAILURES, failure_delay
from smsgate.adapters.http_api.context import ApiContext
from smsgate.adapters.http_api.limits import FailureThrottle
from smsgate.bootstrap import Gateway
from smsgate.simulators.smsc import SmscSimulator, SmscSimulatorConfig
from tests.e2e.conftest import gateway_settings

MAX_BODY = 4096
# One request per 100 s after a burst of one: the second request is refused however slow
# the machine is.
RATE = 0.01


@pytest.fixture
async def limited(tmp_path: Path) -> AsyncIterator[tuple[Gateway, httpx.AsyncClient, str, str]]:
    sim_cfg = SmscSimulatorConfig(system_id="gw", password="pw")
    async with SmscSimulator(sim_cfg) as sim:
        settings = gateway_settings(
            tmp_path, sim.port, rate_limit_per_s=RATE, max_body_bytes=MAX_BODY, smpp_port=0
        )
        async with Gateway(settings) as gateway:
            now = gateway.clock.now()
            account = await gateway.store.create_account(name="a", now=now)
            _, key1 = await gateway.store.create_api_key(account.id, name="1", now=now)
            _, key2 = await gateway.store.create_api_key(account.id, name="2", now=now)
            async with httpx.AsyncClient(base_url=gateway.http_url, timeout=10) as client:
                yield gateway, client, key1, key2


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


MESSAGE = {"to": "+359888123456", "text": "hi"}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("POST", "/api/v1/messages", MESSAGE), ("GET", "/api/v1/messages", None)],
)
async def test_rate_limit_per_key(
    limited: tuple[Gateway, httpx.AsyncClient, str, str],
    method: str,
    path: str,
    body: dict[str, str] | None,
) -> None:
    _gw, client, key1, key2 = limited
    first = await client.request(method, path, json=body, headers=_auth(key1))
    assert first.status_code in (200, 202), first.text
    second = await client.request(method, path, json=body, headers=_auth(key1))
    assert second.status_code == 429
    assert second.json()["error"]["code"] == "rate_limited"
    assert int(second.headers["Retry-After"]) >= 1
    # The limit is per key: the account's other key still gets through.
    other = await client.request(method, path, json=body, headers=_auth(key2))
    assert other.status_code in (200, 202), other.text


async def _chunks(size: int) -> AsyncIterator[bytes]:
    # No Content-Length: the server has to count what it reads.
    yield b'{"to": "+359888123456", "text": "'
    for _ in range(size // 1024):
        yield b"x" * 1024
    yield b'"}'


@pytest.mark.parametrize("path", ["/api/v1/messages", "/api/v1/batches", "/api/v1/webhooks"])
@pytest.mark.parametrize("streamed", [False, True])
async def test_body_over_the_limit_is_413(
    limited: tuple[Gateway, httpx.AsyncClient, str, str], path: str, streamed: bool
) -> None:
    _gw, client, key1, _key2 = limited
    headers = {**_auth(key1), "Content-Type": "application/json"}
    if streamed:
        response = await client.post(path, content=_chunks(MAX_BODY * 2), headers=headers)
    else:
        body = b'{"to": "+359888123456", "text": "' + b"x" * MAX_BODY + b'"}'
        response = await client.post(path, content=body, headers=headers)
    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "body_too_large",
        "message": f"the body is larger than {MAX_BODY} bytes",
        "field": "body",
    }


async def test_repeated_failed_authentications_are_slowed(
    limited: tuple[Gateway, httpx.AsyncClient, str, str],
) -> None:
    gateway, client, key1, _key2 = limited
    ctx: ApiContext = gateway.api.ctx  # type: ignore[attr-defined]
    held: list[float] = []
    for attempt in range(1, FREE_FAILURES + 4):
        before = ctx.auth_delayed_s
        path = "/api/v1/messages" if attempt % 2 else "/api/v1/account"  # both paths count
        method = "POST" if attempt % 2 else "GET"
        bad = await client.request(
            method, path, json=MESSAGE if method == "POST" else None, headers=_auth("sk_guess")
        )
        assert bad.status_code == 401
        assert bad.json()["error"]["code"] == "unauthorized"
        held.append(ctx.auth_delayed_s - before)
        if attempt <= FREE_FAILURES:
            assert "Retry-After" not in bad.headers
        else:
            assert int(bad.headers["Retry-After"]) >= 1
    # The first FREE_FAILURES answers were not held, then each one longer than the last.
    assert held[:FREE_FAILURES] == [0.0] * FREE_FAILURES
    expected = [failure_delay(n) for n in range(FREE_FAILURES + 1, len(held) + 1)]
    assert held[FREE_FAILURES:] == pytest.approx(expected)
    assert all(a < b for a, b in itertools.pairwise(held[FREE_FAILURES - 1 :]))
    assert ctx.auth_failures.failures("127.0.0.1", gateway.clock.now()) == len(held)
    # A valid key from the same address is not slowed (nor refused).
    good = await client.get("/api/v1/account", headers=_auth(key1))
    assert good.status_code == 200
    assert ctx.auth_delayed_s == pytest.approx(sum(held))


async def test_failed_authentications_beyond_ten_a_minute_get_429(
    limited: tuple[Gateway, httpx.AsyncClient, str, str],
) -> None:
    _gateway, client, key1, key2 = limited
    answers = []
    for attempt in range(1, 14):
        if attempt % 2:  # the fast path and a framework route share one count
            bad = await client.post("/api/v1/messages", json=MESSAGE, headers=_auth("sk_guess"))
        else:
            bad = await client.get("/api/v1/account", headers=_auth("sk_guess"))
        answers.append(bad)
    assert [a.status_code for a in answers] == [401] * 10 + [429] * 3
    for refused in answers[10:]:
        assert refused.json()["error"]["code"] == "too_many_failures"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # Valid credentials from the same address are still served, on both paths.
    assert (await client.get("/api/v1/account", headers=_auth(key1))).status_code == 200
    # (the other key: this fixture allows one request per key)
    sent = await client.post("/api/v1/messages", json=MESSAGE, headers=_auth(key2))
    assert sent.status_code == 202, sent.text


def test_failure_throttle_window() -> None:
    throttle = FailureThrottle(limit=10, window_s=60.0)
    assert [throttle.record("a", 100.0 + i) for i in range(10)] == [0.0] * 10
    # The 11th within the window waits until the 2nd failure is 60 s old.
    assert throttle.record("a", 110.0) == pytest.approx(51.0)
    assert throttle.record("b", 110.0) == 0.0  # per address
    # Once the window has passed, failures are answered as usual again.
    assert throttle.failures("a", 200.0) == 0
    assert throttle.record("a", 200.0) == 0.0


def test_failure_throttle_forgets_addresses_beyond_its_bound() -> None:
    throttle = FailureThrottle(limit=2, window_s=60.0, max_addresses=3)
    for i in range(10):
        throttle.record(f"10.0.0.{i}", 100.0)
    assert sum(throttle.failures(f"10.0.0.{i}", 100.0) for i in range(10)) == 3


def test_failure_delay_grows_and_is_capped() -> None:
    delays = [failure_delay(n) for n in range(1, 60)]
    assert delays[:FREE_FAILURES] == [0.0] * FREE_FAILURES
    assert delays == sorted(delays)
    assert delays[FREE_FAILURES] > 0
    assert max(delays) == delays[-1] == 2.0
