"""Settings: `webhook_allowed_networks` from a TOML list or a comma-separated environment
variable, checked at start-up (DESIGN.md §3 "Webhooks")."""

from __future__ import annotations

from pathlib import Path

import pytest

from smsgate.adapters.connectors.registry import FACTORIES, build_connector
from smsgate.adapters.connectors.smpp import SmppConnector
from smsgate.config import CONNECTOR_TYPES, Settings, load_settings, masked
from smsgate.errors import ConfigError


def test_no_network_is_allowed_by_default() -> None:
    assert Settings().webhook_allowed_networks == ()
    assert load_settings(env={}).webhook_allowed_networks == ()


def test_allowed_networks_from_a_toml_list(tmp_path: Path) -> None:
    config = tmp_path / "gw.toml"
    config.write_text('webhook_allowed_networks = ["127.0.0.0/8", "::1/128"]\n')
    settings = load_settings(config, env={})
    assert settings.webhook_allowed_networks == ("127.0.0.0/8", "::1/128")
    assert masked(settings)["webhook_allowed_networks"] == ["127.0.0.0/8", "::1/128"]


def test_allowed_networks_from_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "gw.toml"
    config.write_text('webhook_allowed_networks = ["10.0.0.0/8"]\n')
    env = {"SMSGATE_WEBHOOK_ALLOWED_NETWORKS": " 127.0.0.0/8, ::1/128 ,"}
    settings = load_settings(config, env=env)
    assert settings.webhook_allowed_networks == ("127.0.0.0/8", "::1/128")
    assert (
        load_settings(env={"SMSGATE_WEBHOOK_ALLOWED_NETWORKS": ""}).webhook_allowed_networks == ()
    )


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ('webhook_allowed_networks = "127.0.0.0/8"', "must be a list of strings"),
        ("webhook_allowed_networks = [8]", "must be a list of strings"),
        ('webhook_allowed_networks = ["localhost"]', "not a network: 'localhost'"),
        ('webhook_allowed_networks = ["10.0.0.0/33"]', "not a network"),
    ],
)
def test_bad_networks_are_a_clear_error(tmp_path: Path, line: str, error: str) -> None:
    config = tmp_path / "gw.toml"
    config.write_text(line + "\n")
    with pytest.raises(ConfigError, match=error):
        load_settings(config, env={})


def test_connector_resend_and_throttle_limits_are_settings(tmp_path: Path) -> None:
    config = tmp_path / "gw.toml"
    config.write_text(
        '[[connectors]]\nname = "a"\n'
        '[[connectors]]\nname = "b"\ntype = "smpp"\nresend_max = 0\nthrottle_max_tries = 2\n'
    )
    a, b = load_settings(config, env={}).connectors
    assert (a.resend_max, a.throttle_max_tries) == (3, 10)  # today's defaults
    assert (b.resend_max, b.throttle_max_tries) == (0, 2)
    connector = build_connector(b, events=None)  # type: ignore[arg-type]
    assert isinstance(connector, SmppConnector)
    assert (connector.config.resend_max, connector.config.throttle_max_tries) == (0, 2)


@pytest.mark.parametrize(
    ("table", "error"),
    [
        ('type = "ucp"', r"unknown type 'ucp' \(known: smpp\)"),
        ("resend_max = -1", "resend_max must be 0 or more"),
        ("throttle_max_tries = 0", "throttle_max_tries must be at least 1"),
        ("resend = 2", "bad configuration"),
    ],
)
def test_bad_connector_settings_are_a_clear_error(tmp_path: Path, table: str, error: str) -> None:
    config = tmp_path / "gw.toml"
    config.write_text(f'[[connectors]]\nname = "a"\n{table}\n')
    with pytest.raises(ConfigError, match=error):
        load_settings(config, env={})


def test_every_connector_type_has_a_factory() -> None:
    assert set(FACTORIES) == set(CONNECTOR_TYPES)
