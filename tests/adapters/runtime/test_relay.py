"""A Relay forwards to the one target it is connected to."""

from __future__ import annotations

import pytest

from smsgate.runtime.relay import Relay


def test_relay_forwards_once_connected() -> None:
    relay: Relay[[int], int] = Relay("double")
    with pytest.raises(RuntimeError, match="before it is connected"):
        relay(2)
    relay.connect(lambda n: n * 2)
    assert relay(21) == 42


def test_relay_connects_only_once() -> None:
    relay: Relay[[], None] = Relay("wake")
    relay.connect(lambda: None)
    with pytest.raises(RuntimeError, match="already connected"):
        relay.connect(lambda: None)
