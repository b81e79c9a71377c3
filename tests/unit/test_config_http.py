"""The HTTP hardening settings: trusted_proxies from the file (a list) or the environment
(comma-separated), validated as networks."""

from __future__ import annotations

from pathlib import Path

import pytest

from smsgate.config import load_settings
from smsgate.errors import ConfigError


def test_trusted_proxies_from_file_and_environment(tmp_path: Path) -> None:
    path = tmp_path / "gw.toml"
    path.write_text('trusted_proxies = ["10.0.0.0/8", "::1"]\nhttp_header_timeout_s = 2.5\n')
    settings = load_settings(path, env={})
    assert settings.trusted_proxies == ("10.0.0.0/8", "::1")
    assert settings.http_header_timeout_s == 2.5
    env = {"SMSGATE_TRUSTED_PROXIES": "192.0.2.1, 198.51.100.0/24"}
    assert load_settings(path, env=env).trusted_proxies == ("192.0.2.1", "198.51.100.0/24")
    assert load_settings(None, env={}).trusted_proxies == ()


def test_a_trusted_proxy_that_is_not_a_network_is_refused() -> None:
    with pytest.raises(ConfigError, match="trusted_proxies"):
        load_settings(None, env={"SMSGATE_TRUSTED_PROXIES": "proxy.example"})
