"""Tenant URLs: strict parsing, the normal form that is stored and called, and which addresses
they may reach (DESIGN.md §3 "Webhooks", §7)."""

from __future__ import annotations

import ipaddress

import pytest

from smsgate.domain.errors import InvalidRequest
from smsgate.domain.urls import (
    embedded_ipv4,
    is_loopback_name,
    literal_address,
    parse_networks,
    parse_url,
    refusal,
)

LOOPBACK = parse_networks(["127.0.0.0/8", "::1/128"])


@pytest.mark.parametrize(
    ("given", "normal"),
    [
        # IDNA host; path and query percent-encoded as UTF-8 with upper-case hex.
        ("http://идея.bg/ж😀", "http://xn--d1ach8g.bg/%D0%B6%F0%9F%98%80"),
        ("https://Hooks.Example/a b?q=ж&x=1", "https://hooks.example/a%20b?q=%D0%B6&x=1"),
        # Valid escapes are kept (hex upper-cased); a lone % is escaped itself.
        ("http://h/%d0%b6%2F?a=%7e&b=%zz", "http://h/%D0%B6%2F?a=%7E&b=%25zz"),
        ("HTTP://h:80", "http://h/"),
        ("https://h:443/x", "https://h/x"),
        ("http://h:8080", "http://h:8080/"),
        ("http://h/?", "http://h/?"),
        ("http://h./", "http://h./"),
        ('http://h/"<>\\^`{|}', "http://h/%22%3C%3E%5C%5E%60%7B%7C%7D"),
        # Every IPv4 spelling a URL allows ends up as a dotted quad.
        ("http://127.1/", "http://127.0.0.1/"),
        ("http://2130706433/", "http://127.0.0.1/"),
        ("http://0x7f000001/", "http://127.0.0.1/"),
        ("http://0177.0.0.1/", "http://127.0.0.1/"),
        ("http://0x7f.1/", "http://127.0.0.1/"),
        ("http://127.0.0.1./", "http://127.0.0.1/"),
        ("http://[::1]:9000/", "http://[::1]:9000/"),
        ("http://[0:0:0:0:0:0:0:1]/", "http://[::1]/"),
        ("http://[::FFFF:127.0.0.1]/", "http://[::ffff:7f00:1]/"),
    ],
)
def test_normal_form(given: str, normal: str) -> None:
    assert str(parse_url(given)) == normal
    assert str(parse_url(normal)) == normal  # idempotent


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("ftp://h/", "http or https"),
        ("javascript:alert(1)", "http or https"),
        ("h/path", "http or https"),
        ("http:/h", "// and a host"),
        ("http://", "no host"),
        ("http://u:p@h/", "user name or password"),
        ("http://h@127.0.0.1/", "user name or password"),
        ("http://h/#frag", "fragment"),
        ("http://h:0/", "port"),
        ("http://h:65536/", "port"),
        ("http://h:8o/", "port"),
        ("http://[::1/", "closing ]"),
        ("http://[::1]x/", ":port"),
        ("http://::1/", "brackets"),
        ("http://[fe80::1%25eth0]/", "zone"),
        ("http://[nope]/", "IPv6"),
        ("http://1.2.3.256/", "IPv4"),
        ("http://1.2.3.09/", "IPv4"),
        ("http://1.2.3.4.5/", "IPv4"),
        ("http://a b/", "host"),
        ("http://h\\@evil/", "user name"),
        ("http://ex%41mple/", "percent"),
        ("http://a_b!/", "host"),
        (" http://h/", "spaces"),
        ("http://h/\n", "control"),
        ("http://h/\x00", "control"),
        ("http://h/\ud800", "Unicode"),
        ("http://" + "a" * 64 + ".example/", "host"),
        ("http://h/" + "a" * 2000, "longer"),
        ("http://h/" + "ж" * 400, "once percent-encoded"),
    ],
)
def test_malformed_urls_are_refused_with_a_reason(given: str, reason: str) -> None:
    with pytest.raises(InvalidRequest, match=reason) as caught:
        parse_url(given, "callback_url")
    assert caught.value.field == "callback_url"


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::127.0.0.1", "loopback"),
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("fe80::1", "link-local"),
        ("::ffff:169.254.169.254", "link-local"),
        ("10.0.0.5", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.254", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("64:ff9b::a00:5", "private"),  # NAT64 of 10.0.0.5
        ("100.64.0.1", "carrier-grade NAT"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "private|reserved"),
        ("255.255.255.255", "private|reserved"),
        ("192.0.2.10", "private|not publicly routable"),  # documentation
    ],
)
def test_internal_addresses_are_refused(address: str, reason: str) -> None:
    found = refusal(ipaddress.ip_address(address))
    assert found is not None
    assert any(word in found for word in reason.split("|")), found


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:93.184.216.34"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


def test_the_operator_allows_networks() -> None:
    assert refusal(ipaddress.ip_address("127.0.0.1"), LOOPBACK) is None
    assert refusal(ipaddress.ip_address("::1"), LOOPBACK) is None
    assert refusal(ipaddress.ip_address("::ffff:127.0.0.1"), LOOPBACK) is None
    # Allowing loopback allows nothing else.
    for other in ("0.0.0.0", "::", "10.0.0.5", "169.254.169.254"):
        assert refusal(ipaddress.ip_address(other), LOOPBACK) is not None
    private = parse_networks(["10.0.0.0/8"])
    assert refusal(ipaddress.ip_address("10.0.0.5"), private) is None
    assert refusal(ipaddress.ip_address("10.0.0.5")) is not None


def test_networks_are_parsed_strictly() -> None:
    assert parse_networks([" 10.0.0.1/8 "]) == (ipaddress.ip_network("10.0.0.0/8"),)
    with pytest.raises(ValueError, match="not a network"):
        parse_networks(["localhost"])


def test_hosts_that_are_addresses() -> None:
    assert literal_address("127.1") == ipaddress.ip_address("127.0.0.1")
    assert literal_address("[::1]") == ipaddress.ip_address("::1")
    assert literal_address("::1") == ipaddress.ip_address("::1")
    assert literal_address("0X7F000001") == ipaddress.ip_address("127.0.0.1")
    assert literal_address("hooks.example") is None
    assert literal_address("1.2.3.999") is None
    assert literal_address("[zz]") is None
    assert is_loopback_name("localhost")
    assert is_loopback_name("LocalHost.")
    assert is_loopback_name("api.localhost")
    assert not is_loopback_name("localhost.example")
    assert embedded_ipv4(ipaddress.ip_address("127.0.0.1")) is None
    assert embedded_ipv4(ipaddress.ip_address("2606:4700::1111")) is None
