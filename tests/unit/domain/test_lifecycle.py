"""The message lifecycle table, routing, senders, numbers and retry rules (pure domain)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgate.domain.errors import InvalidNumber, InvalidSender
from smsgate.domain.numbers import mask, normalize
from smsgate.domain.retry import backoff, next_attempt, webhook_backoff
from smsgate.domain.routing import Route, RoutingTable
from smsgate.domain.senders import parse_sender
from smsgate.domain.states import (
    CANCELABLE,
    FINAL,
    TRANSITIONS,
    Status,
    aggregate,
    can_transition,
)


def test_every_status_has_a_row_and_finals_lead_nowhere() -> None:
    assert set(TRANSITIONS) == set(Status)
    for status in FINAL:
        assert TRANSITIONS[status] == frozenset()
    for status, nexts in TRANSITIONS.items():
        assert status not in nexts or status == Status.SENT  # a resend keeps "sent"


@pytest.mark.parametrize(
    ("current", "new", "allowed"),
    [
        (Status.QUEUED, Status.SENDING, True),
        (Status.SENDING, Status.SENT, True),
        (Status.SENDING, Status.DELIVERED, True),  # the receipt overtook the submit_sm_resp
        (Status.SENT, Status.DELIVERED, True),
        (Status.SCHEDULED, Status.CANCELED, True),
        (Status.DELIVERED, Status.SENT, False),
        (Status.QUEUED, Status.DELIVERED, False),
        (Status.RECEIVED, Status.SENT, False),
    ],
)
def test_transitions(current: Status, new: Status, allowed: bool) -> None:
    assert can_transition(current, new) is allowed


def test_cancelable_states_are_before_sending() -> None:
    assert {Status.SCHEDULED, Status.QUEUED, Status.PENDING_REVIEW} == CANCELABLE


def test_aggregate_waits_for_every_part_then_takes_the_worst() -> None:
    assert aggregate([Status.DELIVERED, Status.SENT]) == Status.SENT
    assert aggregate([Status.DELIVERED, Status.QUEUED, Status.SENT]) == Status.QUEUED
    assert aggregate([Status.DELIVERED, Status.DELIVERED]) == Status.DELIVERED
    assert aggregate([Status.DELIVERED, Status.UNDELIVERED]) == Status.UNDELIVERED
    assert aggregate([Status.EXPIRED, Status.FAILED]) == Status.FAILED
    with pytest.raises(ValueError, match="at least one part"):
        aggregate([])


@given(st.lists(st.sampled_from(list(Status)), min_size=1, max_size=10))
def test_aggregate_is_final_only_when_every_part_is(statuses: list[Status]) -> None:
    assert (aggregate(statuses) in FINAL) == all(s in FINAL for s in statuses)


def test_routing_longest_prefix_then_country_then_default() -> None:
    table = RoutingTable.of(
        [
            Route(connectors=("default",)),
            Route(connectors=("bg", "default"), country="BG"),
            Route(connectors=("vivacom",), prefix="35987"),
        ]
    )
    assert table.candidates("359878123456", "BG") == ("vivacom", "bg", "default")
    assert table.candidates("359888123456", "BG") == ("bg", "default")
    assert table.candidates("447911123456", "GB") == ("default",)
    assert table.choose("359878123456", "BG", up={"bg"}) == "bg"
    assert table.choose("359878123456", "BG", up=set()) is None
    assert RoutingTable.of([]).candidates("359", "BG") == ()


def test_routes_of_equal_rank_keep_their_order_and_priority_breaks_ties() -> None:
    table = RoutingTable.of(
        [
            Route(connectors=("first",), prefix="44"),
            Route(connectors=("second", "first"), prefix="44"),
            Route(connectors=("preferred",), prefix="44", priority=1),
            Route(connectors=("fallback",)),
        ]
    )
    assert table.candidates("447911123456", "GB") == ("preferred", "first", "second", "fallback")
    assert table == RoutingTable.of(table.routes)


@pytest.mark.parametrize(
    ("raw", "address", "ton", "npi"),
    [
        ("ACME", "ACME", 5, 0),
        ("My Shop", "My Shop", 5, 0),
        ("+359888123456", "359888123456", 1, 1),
        ("359888123456", "359888123456", 0, 1),  # no '+': kept as given (issue 10)
        ("1234", "1234", 3, 0),
    ],
)
def test_senders(raw: str, address: str, ton: int, npi: int) -> None:
    sender = parse_sender(raw)
    assert (sender.address, sender.ton, sender.npi) == (address, ton, npi)


@pytest.mark.parametrize(
    "raw", ["", "TWELVECHARSX", "12", "12345678901234567", "+123456", "A$B", "1234 5", "-- --"]
)
def test_bad_senders(raw: str) -> None:
    with pytest.raises(InvalidSender) as info:
        parse_sender(raw)
    assert info.value.field == "from"


def test_numbers() -> None:
    assert normalize("+359 888 123 456").e164 == "+359888123456"
    assert normalize("0888123456", "BG").e164 == "+359888123456"
    assert normalize("00359888123456").e164 == "+359888123456"
    assert normalize("+447400123456").country == "GB"
    for bad in ("", "abc", "+1", "0888123456", "+3598881234567890123"):
        with pytest.raises(InvalidNumber):
            normalize(bad)
    assert mask("+359888123456") == "+35*******456"
    assert "888123" not in mask("+359888123456")


def test_retry_backoff_and_validity() -> None:
    assert [backoff(n) for n in (1, 2, 3)] == [2.0, 4.0, 8.0]
    assert backoff(30) == 300.0
    now = datetime(2027, 1, 1, tzinfo=UTC)
    assert next_attempt(1, now, None) == now + timedelta(seconds=2)
    assert next_attempt(1, now, now + timedelta(seconds=1)) is None
    assert webhook_backoff(1) == 5.0
    assert webhook_backoff(20) == 3600.0
