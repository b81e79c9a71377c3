"""X-Forwarded-For is believed from trusted proxies only, read from the right."""

from __future__ import annotations

import pytest

from smsgate.adapters.http_api.client_address import TrustedProxies

PROXIES = TrustedProxies.parse(["10.0.0.0/8", "2001:db8::/32"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("192.0.2.1", ["198.51.100.7"], "192.0.2.1"),  # not a proxy: its header is ignored
        ("10.0.0.1", [], "10.0.0.1"),
        ("10.0.0.1", ["198.51.100.7"], "198.51.100.7"),
        ("10.0.0.1", ["1.1.1.1, 198.51.100.7"], "198.51.100.7"),  # a client's own entry
        ("10.0.0.1", ["198.51.100.7, 10.0.0.2"], "198.51.100.7"),  # two proxies of ours
        ("10.0.0.1", ["198.51.100.7", "10.0.0.2"], "198.51.100.7"),  # two header lines
        ("10.0.0.1", ["10.0.0.3, 10.0.0.2"], "10.0.0.3"),  # all ours: the leftmost
        ("10.0.0.1", ["garbage"], "10.0.0.1"),
        ("10.0.0.1", ["198.51.100.7, garbage, 10.0.0.2"], "10.0.0.2"),
        ("2001:db8::1", ["[2001:db8:1::5]:443, 203.0.113.9:1234"], "203.0.113.9"),
        ("::ffff:10.0.0.1", ["203.0.113.9"], "203.0.113.9"),  # v4-mapped peer
    ],
)
def test_client(peer: str, forwarded: list[str], client: str) -> None:
    assert PROXIES.client(peer, forwarded) == client


def test_no_trusted_proxies_means_the_peer() -> None:
    assert TrustedProxies().client("10.0.0.1", ["198.51.100.7"]) == "10.0.0.1"
