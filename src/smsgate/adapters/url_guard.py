"""The check of tenant-supplied URLs against the operator's `webhook_allowed_networks`
(DESIGN.md §3 "Webhooks", §7), at save and again at connect time.

At save, `check` normalises the URL (domain/urls.py), resolves its host and refuses it when any
address is loopback, link-local, private, unspecified, multicast or reserved and outside the
allowed networks. At connect time, `addresses` resolves the host again and checks every
address; the caller connects to those addresses themselves, never to the name, so a DNS answer
that changes between the check and the connection (DNS rebinding) cannot reach a refused one.

The resolver is injected (tests map names to addresses; nothing leaves the machine).
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import socket
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence

from smsgate.domain.errors import UrlNotAllowed
from smsgate.domain.urls import (
    IPAddress,
    is_loopback_name,
    literal_address,
    parse_networks,
    parse_url,
    refusal,
)

# host, port → the addresses (as text) to connect to; raises OSError when the name has none.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
RESOLVE_TIMEOUT_S = 5.0
MAX_CACHED = 1024
NAME_TTL_S = 60.0  # how long a name's save-time check stands for the same URL
LOOPBACK_NETWORKS = ("127.0.0.0/8", "::1/128")


async def system_resolver(host: str, port: int) -> Sequence[str]:
    """getaddrinfo, as a connection would resolve the name."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class UrlGuard:
    """Checks tenants' URLs at save (`check`) and their addresses at connect time
    (`addresses`, used by adapters/webhook_http.py)."""

    def __init__(
        self,
        *,
        allowed_networks: Iterable[str] = (),
        resolver: Resolver | None = None,
        resolve_timeout_s: float = RESOLVE_TIMEOUT_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._allowed = parse_networks(allowed_networks)
        self._resolver = resolver or system_resolver
        self._resolve_timeout_s = resolve_timeout_s
        self._monotonic = monotonic
        # URLs already checked, until when: the same callback_url comes with many messages.
        # One whose host is an address keeps its answer; a name is looked up again after
        # NAME_TTL_S (the connect-time check looks every name up again anyway).
        self._seen: dict[tuple[str, str], tuple[str, float]] = {}

    async def check(self, url: str, *, field: str) -> str:
        """The URL in normal form, or InvalidRequest (malformed) / UrlNotAllowed (refused)."""
        now = self._monotonic()
        known = self._seen.get((url, field))
        if known is not None and now < known[1]:
            return known[0]
        parsed = parse_url(url, field)
        try:
            await self._checked(parsed.host, parsed.effective_port, field=field)
        except (OSError, TimeoutError) as exc:
            raise UrlNotAllowed(
                f"{parsed.host} could not be resolved, so its address could not be checked",
                field=field,
            ) from exc
        normal = str(parsed)
        if len(self._seen) >= MAX_CACHED:
            self._seen.clear()
        until = math.inf if parsed.address is not None else now + NAME_TTL_S
        self._seen[url, field] = (normal, until)
        return normal

    async def addresses(self, host: str, port: int) -> list[str]:
        """Every address of `host`, each allowed; UrlNotAllowed when one is not. Connect to
        these, not to the name. A name that does not resolve raises OSError (or TimeoutError),
        as connecting to it would."""
        return [str(a) for a in await self._checked(host, port, field="url")]

    async def _checked(self, host: str, port: int, *, field: str) -> list[IPAddress]:
        found = await self._resolve(host, port, field=field)
        for address in found:
            reason = refusal(address, self._allowed)
            if reason is not None:
                what = "is" if literal_address(host) is not None else "resolves to"
                raise UrlNotAllowed(
                    f"{host} {what} {reason}, which the operator has not allowed "
                    "(webhook_allowed_networks)",
                    field=field,
                )
        return found

    async def _resolve(self, host: str, port: int, *, field: str) -> list[IPAddress]:
        literal = literal_address(host)
        if literal is not None:
            return [literal]
        if is_loopback_name(host):
            return [ipaddress.IPv4Address("127.0.0.1")]
        async with asyncio.timeout(self._resolve_timeout_s):
            answers = await self._resolver(host, port)
        found: list[IPAddress] = []
        for answer in answers:
            try:
                found.append(ipaddress.ip_address(answer))
            except ValueError:
                continue  # not an address we could connect to
        if not found:
            raise UrlNotAllowed(f"{host} has no address", field=field)
        return found
