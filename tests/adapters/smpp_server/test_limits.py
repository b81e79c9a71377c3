"""The rate limits as pure arithmetic (time is a parameter): no sockets, no clock."""

from __future__ import annotations

import pytest

from smsgate.adapters.smpp_server import SmppServerConfig
from smsgate.adapters.smpp_server.limits import BindBudget, TokenBucket, address_key


def test_token_bucket_spends_its_burst_then_refills_at_its_rate() -> None:
    bucket = TokenBucket.full(2.0, now=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [True, True, False]
    assert not bucket.take(0.25)  # half a token
    assert bucket.take(0.5)
    assert not bucket.take(0.5)
    assert bucket.take(10.0)
    assert bucket.tokens == pytest.approx(1.0)  # capped at the burst, minus one


def test_a_slow_rate_still_allows_one_submit() -> None:
    bucket = TokenBucket.full(0.1, now=0.0)
    assert bucket.take(0.0)
    assert not bucket.take(5.0)
    assert bucket.take(10.0)


def test_time_going_backwards_does_not_mint_tokens() -> None:
    bucket = TokenBucket.full(1.0, now=100.0)
    assert bucket.take(100.0)
    assert not bucket.take(50.0)


def test_token_bucket_rejects_a_non_positive_rate() -> None:
    with pytest.raises(ValueError, match="positive"):
        TokenBucket.full(0.0, now=0.0)


def test_bind_budget_per_address_per_minute() -> None:
    budget = BindBudget(3)
    assert [budget.attempt("10.0.0.1", 0.0) for _ in range(4)] == [True, True, True, False]
    assert budget.attempt("10.0.0.2", 0.0)  # another address has its own budget
    assert not budget.attempt("10.0.0.1", 10.0)  # 0.5 of an attempt back
    assert budget.attempt("10.0.0.1", 20.0)


def test_bind_budget_forgets_addresses_that_recovered() -> None:
    budget = BindBudget(2, max_tracked=2)
    budget.attempt("a", 0.0)
    budget.attempt("b", 0.0)
    budget.attempt("b", 0.0)
    assert len(budget) == 2
    budget.attempt("c", 60.0)  # a and b are full again: forgotten
    assert len(budget) == 1
    budget.attempt("d", 60.0)
    budget.attempt("e", 60.0)  # c and d are spent only partly: kept, the table grows
    assert len(budget) == 3


def test_bind_budget_needs_at_least_one_attempt() -> None:
    with pytest.raises(ValueError, match="per_minute"):
        BindBudget(0)


@pytest.mark.parametrize(
    "fields",
    [
        {"window": 0},
        {"max_inbound_window": 0},
        {"max_frame_size": 15},
        {"max_bad_pdus": 0},
        {"max_connections": 0},
        {"max_connections_per_ip": 0},
        {"bind_timeout": 0},
        {"system_id": "x" * 16},
        {"write_buffer_low": 10, "write_buffer_high": 5},
    ],
)
def test_config_refuses_unusable_limits(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"must|at most"):
        SmppServerConfig(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ip", "key"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("::ffff:127.0.0.1", "127.0.0.1"),  # IPv4 on a dual-stack listener
        ("2001:db8::1", "2001:db8::/64"),
        ("2001:db8::ffff:2", "2001:db8::/64"),  # the same /64: the same client
        ("2001:db8:0:1::1", "2001:db8:0:1::/64"),
        ("?", "?"),
    ],
)
def test_per_address_limits_count_an_ipv6_client_by_its_64(ip: str, key: str) -> None:
    assert address_key(ip) == key
