"""Reading the settings: a TOML file, then `SMSGATE_*` environment, then explicit overrides;
checked once (`_validate`); printed with secrets masked by `smsgate check-config`."""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from smsgate.config.connectors import connector_settings, validate_connector
from smsgate.config.settings import RouteSettings, Settings, roles
from smsgate.domain.urls import parse_networks
from smsgate.errors import ConfigError

__all__ = ["SECRET_KEYS", "load_settings", "mask_url", "masked"]

SECRET_KEYS = frozenset({"password", "secret", "api_key", "admin_key"})


def _coerce(value: str, target: Any) -> Any:
    if target is bool or target == "bool":
        if value.lower() in {"1", "true", "yes", "on"}:
            return True
        if value.lower() in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"not a boolean: {value!r}")
    if target is int or target == "int":
        return int(value)
    if target is float or target == "float":
        return float(value)
    if str(target).startswith("tuple"):  # a list: comma-separated in the environment
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return value


def _strings(key: str, value: Any) -> tuple[str, ...]:
    """A list-valued setting (a TOML array of strings, or a tuple from the environment)."""
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key} must be a list of strings")
    return tuple(value)


def _scalar_fields() -> dict[str, str]:
    return {
        f.name: str(f.type)
        for f in fields(Settings)
        if f.name not in {"connectors", "routes", "extra"}
    }


def load_settings(
    path: str | Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read the file (if any), then the environment, then explicit overrides."""
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(Path(path).read_text())
        except FileNotFoundError as exc:
            raise ConfigError(f"config file not found: {path}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    scalars = _scalar_fields()
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key in scalars:
            values[key] = tuple(value) if isinstance(value, list) else value
        elif key not in {"connectors", "routes"}:
            raise ConfigError(f"unknown setting {key!r} in {path}")
    environ = os.environ if env is None else env
    for key, type_name in scalars.items():
        env_value = environ.get("SMSGATE_" + key.upper())
        if env_value is not None:
            try:
                values[key] = _coerce(env_value, type_name.split(" |")[0])
            except ValueError as exc:
                raise ConfigError(f"SMSGATE_{key.upper()}: {exc}") from exc
    values.update(overrides or {})
    for key, type_name in scalars.items():
        if type_name.startswith("tuple[") and key in values:
            values[key] = _strings(key, values[key])
    try:
        connectors = tuple(connector_settings(c) for c in raw.get("connectors", ()))
        routes = tuple(
            RouteSettings(**{**r, "connectors": tuple(r.get("connectors", ()))})
            for r in raw.get("routes", ())
        )
        settings = Settings(**values, connectors=connectors, routes=routes)
    except TypeError as exc:
        raise ConfigError(f"bad configuration: {exc}") from exc
    _validate(settings)
    return settings


def _validate(settings: Settings) -> None:
    names = [c.name for c in settings.connectors]
    if len(set(names)) != len(names):
        raise ConfigError("connector names must be unique")
    for connector in settings.connectors:
        validate_connector(connector)
    for route in settings.routes:
        for name in route.connectors:
            if name not in names:
                raise ConfigError(f"route {route.prefix or route.country!r}: no connector {name}")
    if settings.default_max_parts < 1:
        raise ConfigError("default_max_parts must be at least 1")
    if settings.smpp_max_connections_per_ip < 1:
        raise ConfigError("smpp_max_connections_per_ip must be at least 1")
    if settings.smpp_bind_timeout_s <= 0 or settings.smpp_reassembly_timeout_s <= 0:
        raise ConfigError("smpp_bind_timeout_s and smpp_reassembly_timeout_s must be positive")
    for network in settings.trusted_proxies:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as exc:
            raise ConfigError(f"trusted_proxies: not a network: {network!r}") from exc
    try:
        parse_networks(settings.webhook_allowed_networks)
    except ValueError as exc:
        raise ConfigError(f"webhook_allowed_networks: {exc}") from exc
    roles(settings)


def masked(settings: Settings) -> dict[str, Any]:
    """The settings as a dict with every secret replaced, for `smsgate check-config`."""

    def scrub(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: ("********" if k in SECRET_KEYS and v else scrub(v)) for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [scrub(v) for v in value]
        return value

    data = dataclasses.asdict(settings)
    data["database_url"] = mask_url(settings.database_url)
    result: dict[str, Any] = scrub(data)
    return result


def mask_url(url: str) -> str:
    """Hide a password in a database URL."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, at, host = rest.rpartition("@")
    user, colon, _password = creds.partition(":")
    return f"{scheme}://{user}{':********' if colon else ''}{at}{host}"
