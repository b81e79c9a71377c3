"""The URL guard: tenants' URLs checked when saved and, on every resolved address, when the
webhook client connects (DESIGN.md §7). Names resolve through FakeDns; the only sockets are
loopback servers on port 0."""

from __future__ import annotations

import pytest

from smsgate.adapters.http_client import PostError
from smsgate.adapters.url_guard import LOOPBACK_NETWORKS, NAME_TTL_S, UrlGuard
from smsgate.adapters.webhook_http import LeanPoster
from smsgate.domain.errors import InvalidRequest, UrlNotAllowed
from tests.adapters.webhook_client.fake_dns import FakeDns
from tests.adapters.webhook_client.test_webhook_http import OK, Server

PUBLIC = "93.184.216.34"
LOOPBACK_SPELLINGS = [
    "http://localhost/",
    "http://LOCALHOST./",
    "http://api.localhost/",
    "http://127.0.0.1/",
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://0.0.0.0/",
    "http://0/",
    "http://[::]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/",
    "http://10.0.0.5/",
    "http://172.16.0.1/",
    "http://192.168.0.1/",
    "http://100.64.0.1/",
    "http://[fd00::1]/",
    "http://224.0.0.1/",
]


def dns() -> FakeDns:
    return FakeDns(
        {
            "hooks.example": [["10.0.0.5"]],
            "metadata.example": [["169.254.169.254"]],
            "mixed.example": [[PUBLIC, "192.168.0.1"]],
            "public.example": [[PUBLIC]],
        }
    )


@pytest.mark.parametrize("url", LOOPBACK_SPELLINGS)
async def test_internal_addresses_in_any_spelling_are_refused_at_save(url: str) -> None:
    resolver = dns()
    with pytest.raises(UrlNotAllowed, match="webhook_allowed_networks") as caught:
        await UrlGuard(resolver=resolver).check(url, field="url")
    assert caught.value.field == "url"
    assert caught.value.code == "url_not_allowed"
    assert resolver.asked == []  # addresses and localhost need no lookup


@pytest.mark.parametrize("name", ["hooks.example", "metadata.example", "mixed.example"])
async def test_names_resolving_to_internal_addresses_are_refused_at_save(name: str) -> None:
    resolver = dns()
    with pytest.raises(UrlNotAllowed, match="resolves to") as caught:
        await UrlGuard(resolver=resolver).check(f"https://{name}:8443/wh", field="callback_url")
    assert caught.value.field == "callback_url"
    assert resolver.asked == [(name, 8443)]
    assert "10.0.0.5" not in caught.value.message  # the internal answer is not shown


async def test_public_names_are_accepted_in_normal_form() -> None:
    resolver = dns()
    guard = UrlGuard(resolver=resolver)
    got = await guard.check("https://Public.Example/ж😀?q=ж", field="url")
    assert got == "https://public.example/%D0%B6%F0%9F%98%80?q=%D0%B6"
    assert resolver.asked == [("public.example", 443)]
    assert await guard.check(f"http://{PUBLIC}:8080/x", field="url") == f"http://{PUBLIC}:8080/x"
    # At connect time: the checked addresses, for the caller to connect to (nothing is sent).
    assert await guard.addresses("public.example", 443) == [PUBLIC]


async def test_a_name_checked_at_save_is_looked_up_again_only_after_a_while() -> None:
    # The same callback_url comes with every message: one lookup a minute, not one each.
    resolver = FakeDns({"public.example": [[PUBLIC], ["10.0.0.5"]]})
    clock = [1000.0]
    guard = UrlGuard(resolver=resolver, monotonic=lambda: clock[0])
    url = "https://public.example/cb"
    for _ in range(3):
        assert await guard.check(url, field="callback_url") == url
    assert len(resolver.asked) == 1
    clock[0] += NAME_TTL_S
    with pytest.raises(UrlNotAllowed):  # the name now points inside: refused again
        await guard.check(url, field="callback_url")
    assert len(resolver.asked) == 2


async def test_names_that_do_not_resolve_are_refused_at_save() -> None:
    with pytest.raises(UrlNotAllowed, match="could not be resolved"):
        await UrlGuard(resolver=dns()).check("http://nowhere.example/", field="url")


async def test_malformed_urls_are_invalid_requests() -> None:
    with pytest.raises(InvalidRequest, match="http or https") as caught:
        await UrlGuard(resolver=dns()).check("gopher://public.example/", field="forward_url")
    assert caught.value.field == "forward_url"


async def test_the_operator_allows_networks() -> None:
    guard = UrlGuard(allowed_networks=["10.0.0.0/8", *LOOPBACK_NETWORKS], resolver=dns())
    assert await guard.check("http://hooks.example/", field="url") == "http://hooks.example/"
    assert await guard.check("http://127.1:9/", field="url") == "http://127.0.0.1:9/"
    assert await guard.check("http://localhost:9/", field="url") == "http://localhost:9/"
    for url in ("http://metadata.example/", "http://0.0.0.0/", "http://192.168.0.1/"):
        with pytest.raises(UrlNotAllowed):
            await guard.check(url, field="url")


async def test_the_client_connects_to_the_checked_address_not_the_name() -> None:
    async with Server(lambda n: OK) as server:
        resolver = FakeDns({"hooks.example": [["127.0.0.1"]]})
        guard = UrlGuard(allowed_networks=LOOPBACK_NETWORKS, resolver=resolver)
        poster = LeanPoster(timeout_s=2.0, concurrency=1, user_agent="t", guard=guard)
        try:
            url = f"http://hooks.example:{server.port}/wh"
            assert await poster.post(url, b"{}", {}) == 200
        finally:
            await poster.close()
        assert resolver.asked == [("hooks.example", server.port)]
        assert f"Host: hooks.example:{server.port}\r\n".encode() in server.requests[0]


async def test_dns_rebinding_is_refused_at_connect_time() -> None:
    async with Server(lambda n: OK) as server:
        # Public when the URL is saved, loopback when it is called.
        resolver = FakeDns({"hooks.example": [[PUBLIC], ["127.0.0.1"]]})
        guard = UrlGuard(resolver=resolver)
        url = await guard.check(f"http://hooks.example:{server.port}/wh", field="url")
        poster = LeanPoster(timeout_s=2.0, concurrency=1, user_agent="t", guard=guard)
        try:
            with pytest.raises(PostError, match="url_not_allowed"):
                await poster.post(url, b"{}", {})
        finally:
            await poster.close()
        assert len(resolver.asked) == 2
        assert server.connections == 0


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.1", "2130706433", "0x7f000001", "localhost", "[::ffff:127.0.0.1]"]
)
async def test_the_client_refuses_internal_addresses_by_default(host: str) -> None:
    # URLs stored before they were checked: the client refuses them without connecting.
    async with Server(lambda n: OK) as server:
        poster = LeanPoster(timeout_s=2.0, concurrency=1, user_agent="t")
        try:
            with pytest.raises(PostError, match="url_not_allowed"):
                await poster.post(f"http://{host}:{server.port}/", b"{}", {})
        finally:
            await poster.close()
        assert server.connections == 0
