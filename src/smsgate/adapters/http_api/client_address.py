"""Which address a request comes from (DESIGN.md §7): the peer's, or the one a configured
trusted proxy reports in `X-Forwarded-For`.

Every per-address limit (connections, failed credential checks, logs) uses this address.
`X-Forwarded-For` is read only when the peer is a trusted proxy, and then from the right:
each proxy appends the address it received the request from, so the rightmost address that
is not itself a trusted proxy is the first one no proxy of ours vouches for, the client.
Whatever a client writes to the left of that cannot move it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "192.0.2.1:443"
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True, slots=True)
class TrustedProxies:
    """The networks whose `X-Forwarded-For` is believed."""

    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, networks: Iterable[str]) -> TrustedProxies:
        return cls(tuple(ipaddress.ip_network(n.strip(), strict=False) for n in networks))

    def trusts(self, peer: str) -> bool:
        address = _address(peer)
        return address is not None and any(address in n for n in self.networks)

    def client(self, peer: str, forwarded_for: Sequence[str]) -> str:
        """The client's address: `peer`, unless it is a trusted proxy and the
        `X-Forwarded-For` values (every header line, in order) name another."""
        if not self.networks or not self.trusts(peer):
            return peer
        hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
        client = peer
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:  # a trusted proxy wrote it: believe the hop to its right
                return client
            client = str(address)
            if not any(address in n for n in self.networks):
                return client
        return client  # every hop is a proxy of ours: the leftmost is as far as we know
