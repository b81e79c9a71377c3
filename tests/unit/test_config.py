"""Settings: `webhook_allowed_networks` from a TOML list or a comma-separated environment
variable, checked at start-up (DESIGN.md §3 "Webhooks")."""

from __future__ import annotations

from pathlib import Path

import pytest

from smsgate.config import Settings, load_settings, masked
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
