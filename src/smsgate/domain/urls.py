"""Tenant-supplied URLs (webhook `url`, a message's `callback_url`, a keyword's `forward_url`):
strict parsing, normalisation, and the classification of the addresses they name
(DESIGN.md §3 "Webhooks", §7: no request from a tenant makes the gateway call an address the
operator did not allow). Pure: resolving names and connecting are the adapters' job
(adapters/url_guard.py).

Normal form: scheme and host in lower case, the host IDNA-encoded (`идея.bg` →
`xn--d1ach8g.bg`), an IPv4 host in any spelling the WHATWG URL standard accepts (`127.1`,
`2130706433`, `0x7f000001`, `0177.0.0.1`) written as a dotted quad, an IPv6 host compressed,
the scheme's default port left out, path and query percent-encoded as UTF-8 with upper-case
hex (`/ж😀` → `/%D0%B6%F0%9F%98%80`; valid escapes kept, their hex upper-cased).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from smsgate.domain.errors import InvalidRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_Bad = Callable[[str], InvalidRequest]  # the error factory of one parse (bound to its field)

MAX_URL_CHARS = 2000
DEFAULT_PORTS = {"http": 80, "https": 443}

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PATH_SAFE = _UNRESERVED | frozenset("!$&'()*+,;=:@/")  # RFC 3986 §3.3 pchar and "/"
_QUERY_SAFE = _PATH_SAFE | frozenset("?")  # RFC 3986 §3.4
_DIGITS = {8: frozenset("01234567"), 10: frozenset("0123456789"), 16: frozenset("0123456789abcdef")}
# RFC 6598 shared address space (carrier-grade NAT); RFC 6052 NAT64 well-known prefix.
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# RFC 6761 §6.3: these names are loopback whatever a resolver says.
LOOPBACK_NAMES = ("localhost",)


@dataclass(frozen=True, slots=True)
class Url:
    """A URL in normal form; `str(url)` is what is stored, shown and called."""

    scheme: str
    host: str  # an IDNA host name, a dotted quad, or an IPv6 address without brackets
    port: int | None  # None: the scheme's default
    path: str  # percent-encoded, starting with "/"
    query: str | None  # percent-encoded, without the "?"; None when there is none

    @property
    def effective_port(self) -> int:
        return self.port if self.port is not None else DEFAULT_PORTS[self.scheme]

    @property
    def address(self) -> IPAddress | None:
        """The host as an address when it is one (not a name)."""
        return literal_address(self.host)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if self.port is None else f":{self.port}"
        query = "" if self.query is None else "?" + self.query
        return f"{self.scheme}://{host}{port}{self.path}{query}"


@functools.lru_cache(maxsize=1024)
def parse_url(text: str, field: str = "url") -> Url:
    """Parse and normalise an http(s) URL; InvalidRequest (with `field`) says what is wrong."""

    def bad(reason: str) -> InvalidRequest:
        return InvalidRequest(reason, field=field)

    if not isinstance(text, str) or not text:
        raise bad("must be an http or https URL")
    if len(text) > MAX_URL_CHARS:
        raise bad(f"the URL is longer than {MAX_URL_CHARS} characters")
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text) or text != text.strip():
        raise bad("the URL has control characters or surrounding spaces")
    scheme = _SCHEME.match(text)
    if scheme is None or scheme.group(1).lower() not in DEFAULT_PORTS:
        raise bad("must be an http or https URL")
    rest = text[scheme.end() :]
    if not rest.startswith("//"):
        raise bad("an http(s) URL has // and a host after the scheme")
    rest = rest[2:]
    if "#" in rest:
        raise bad("a URL fragment (#…) is never sent; remove it")
    end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    authority, rest = rest[:end], rest[end:]
    if "@" in authority:
        raise bad("a user name or password in the URL is not supported")
    host, port = _split_authority(authority, bad)
    path, qmark, query = rest.partition("?")
    name = scheme.group(1).lower()
    url = Url(
        scheme=name,
        host=_normal_host(host, bad),
        port=None if port == DEFAULT_PORTS[name] else port,
        path=_encode(path, _PATH_SAFE, bad) or "/",
        query=_encode(query, _QUERY_SAFE, bad) if qmark else None,
    )
    if len(str(url)) > MAX_URL_CHARS:
        raise bad(f"the URL is longer than {MAX_URL_CHARS} characters once percent-encoded")
    return url


@functools.lru_cache(maxsize=1024)
def normalize_url(text: str, field: str = "url") -> str:
    """`str(parse_url(text))`, cached: the same callback_url comes with many messages."""
    return str(parse_url(text, field))


def _split_authority(authority: str, bad: _Bad) -> tuple[str, int | None]:
    if authority.startswith("["):
        close = authority.find("]")
        if close < 0:
            raise bad("an IPv6 host needs its closing ]")
        host, tail = authority[: close + 1], authority[close + 1 :]
        if tail and not tail.startswith(":"):
            raise bad("only a :port may follow an IPv6 host")
        digits = tail[1:] if tail else ""
    else:
        host, colon, digits = authority.partition(":")
        if ":" in digits:
            raise bad("an IPv6 host is written in [brackets]")
        if colon and not digits:
            return host, None
    if not digits:
        return host, None
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 5):
        raise bad("the port is a number from 1 to 65535")
    port = int(digits)
    if not 1 <= port <= 65535:
        raise bad("the port is a number from 1 to 65535")
    return host, port


def _normal_host(host: str, bad: _Bad) -> str:
    if not host:
        raise bad("the URL has no host")
    if host.startswith("["):
        inner = host[1:-1]
        if "%" in inner:
            raise bad("an IPv6 zone (%…) is not allowed in a URL")
        try:
            return str(ipaddress.IPv6Address(inner))
        except ValueError as exc:
            raise bad("the host is not a valid IPv6 address") from exc
    if "%" in host:
        raise bad("the host has a percent sign")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise bad("the host is not a valid internationalised domain name") from exc
    host = host.lower()
    if _ends_in_number(host):
        address = _ipv4(host)
        if address is None:
            raise bad("the host is not a valid IPv4 address")
        return str(address)
    labels = host.split(".")
    if labels[-1] == "":
        labels.pop()  # one trailing dot: an absolute name
    if not labels or len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise bad("the host has characters a host name cannot have")
    return host


def literal_address(host: str) -> IPAddress | None:
    """An address written as a host (any IPv4 spelling a URL allows, IPv6 with or without
    brackets), or None for a name. A malformed number is None too (then it cannot resolve)."""
    text = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text)
        except ValueError:
            return None
    return _ipv4(text.lower()) if _ends_in_number(text.lower()) else None


def _ends_in_number(host: str) -> bool:
    """WHATWG URL "ends in a number": the last label is a number, so the host is IPv4."""
    labels = host.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels.pop()
    last = labels[-1]
    return (last != "" and last.isascii() and last.isdigit()) or _ipv4_number(last) is not None


def _ipv4_number(part: str) -> int | None:
    base = 10
    if part[:2] in ("0x", "0X"):
        base, part = 16, part[2:]
        if part == "":
            return 0
    elif len(part) > 1 and part[0] == "0":
        base, part = 8, part[1:]
    if part == "" or not set(part.lower()) <= _DIGITS[base]:
        return None
    return int(part, base)


def _ipv4(host: str) -> ipaddress.IPv4Address | None:
    """WHATWG URL IPv4 parser: 1 to 4 parts, each decimal, octal (0…) or hex (0x…)."""
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if len(parts) > 4:
        return None
    numbers = [_ipv4_number(p) for p in parts]
    if any(n is None for n in numbers):
        return None
    values = [n for n in numbers if n is not None]
    if any(n > 255 for n in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        return None
    value = values[-1] + sum(n * 256 ** (3 - i) for i, n in enumerate(values[:-1]))
    return ipaddress.IPv4Address(value)


def _encode(text: str, safe: frozenset[str], bad: _Bad) -> str:
    """Percent-encode what `safe` does not allow, as UTF-8 with upper-case hex; keep valid
    escapes (their hex upper-cased); a lone "%" becomes %25."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "%" and _ESCAPE.match(text, i):
            out.append(text[i : i + 3].upper())
            i += 3
            continue
        if char in safe:
            out.append(char)
        else:
            try:
                data = char.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise bad("the URL is not valid Unicode (a lone surrogate)") from exc
            out.append("".join(f"%{b:02X}" for b in data))
        i += 1
    return "".join(out)


# ---- addresses --------------------------------------------------------------------------


def parse_networks(entries: Iterable[str]) -> tuple[IPNetwork, ...]:
    """The operator's `webhook_allowed_networks` (CIDR strings); ValueError names a bad one."""
    networks: list[IPNetwork] = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"not a network: {entry!r}") from exc
    return tuple(networks)


def is_loopback_name(host: str) -> bool:
    name = host.lower().rstrip(".")
    return any(name == n or name.endswith("." + n) for n in LOOPBACK_NAMES)


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, compatible, 6to4, NAT64, Teredo)."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    low = int(address) & 0xFFFFFFFF
    if address in _NAT64 or (int(address) >> 32 == 0 and int(address) > 1):
        return ipaddress.IPv4Address(low)  # NAT64, or the deprecated ::a.b.c.d
    return None


def refusal(address: IPAddress, allowed: Sequence[IPNetwork] = ()) -> str | None:
    """Why a tenant's URL may not reach `address`, or None when it may: a public address, or
    one in a network the operator allowed."""
    inner = embedded_ipv4(address)
    candidates = (address,) if inner is None else (address, inner)
    if any(a in net for a in candidates for net in allowed if a.version == net.version):
        return None
    if inner is not None and isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        candidates = (inner,)  # ::ffff:a.b.c.d is a.b.c.d on the wire
    for candidate in reversed(candidates):  # the IPv4 inside first: it is where packets go
        reason = _classify(candidate)
        if reason is not None:
            return reason
    return None


def _classify(ip: IPAddress) -> str | None:
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_link_local:
        return "a link-local address (where cloud metadata services live)"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED:
        return "a shared (carrier-grade NAT) address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved:
        return "a reserved address"
    if not ip.is_global:
        return "an address that is not publicly routable"
    return None
