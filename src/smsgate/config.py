"""One frozen settings object, built at start-up from a TOML file plus `SMSGATE_*` environment.

Every top-level key can be overridden from the environment by its upper-case name with the
`SMSGATE_` prefix (`SMSGATE_HTTP_PORT=9000`, `SMSGATE_DATABASE_URL=postgresql://…`).
Connectors and routes come from the file (`[[connectors]]`, `[[routes]]`).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from smsgate.domain.urls import parse_networks
from smsgate.errors import ConfigError

SECRET_KEYS = frozenset({"password", "secret", "api_key", "admin_key"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectorSettings:
    name: str
    type: str = "smpp"
    host: str = "127.0.0.1"
    port: int = 2775
    system_id: str = ""
    password: str = ""
    system_type: str = ""
    bind: str = "transceiver"  # transceiver | transmitter+receiver
    window: int = 10
    tps: float | None = None
    enquire_link_interval: float = 30.0
    response_timeout: float = 10.0
    id_format: str = "auto"


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteSettings:
    connectors: tuple[str, ...]
    prefix: str = ""
    country: str = ""
    priority: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    database_url: str = "sqlite:///smsgate.db"
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    smpp_host: str = "127.0.0.1"
    smpp_port: int = 2775
    smpp_enabled: bool = True
    # Optional TLS listener for SMPP customers (a PEM certificate chain and key).
    smpp_tls_port: int = 3550
    smpp_tls_cert: str = ""
    smpp_tls_key: str = ""
    # SMPP connection limits (DESIGN.md §3): open connections per client address, and how
    # long a connection may stay unbound before it is closed.
    smpp_max_connections_per_ip: int = 50
    smpp_bind_timeout_s: float = 10.0
    # The parts of a message an SMPP customer concatenated (UDH/SAR) must all arrive within
    # this long of the first one; a group still incomplete then ends `failed`, unsent.
    smpp_reassembly_timeout_s: float = 60.0
    log_level: str = "INFO"
    # What this process runs (DESIGN.md §4): any of api, smpp, worker, comma-separated, or all.
    # Several processes on one database share the work; exactly one of them runs `worker`
    # (the connectors and the dispatcher: no connector leases yet).
    role: str = "all"
    # Messages
    default_max_parts: int = 10
    default_validity_s: int = 48 * 3600
    default_country: str = ""
    # Inbound: parts of a concatenated message that stay incomplete this long are stored as
    # what arrived, flagged `incomplete`.
    inbound_reassembly_timeout_s: float = 600.0
    # Dispatcher
    dispatch_batch: int = 500
    dispatch_poll_s: float = 0.5
    dispatch_lease_s: float = 60.0
    # Group commit: wait at most this long to gather more writes into one transaction.
    commit_window_s: float = 0.002
    # Webhooks
    webhook_timeout_s: float = 10.0
    webhook_max_age_s: float = 24 * 3600.0
    webhook_concurrency: int = 64
    # Networks (CIDR) that tenants' webhook, callback and forward URLs may reach besides public
    # addresses: loopback, private, link-local, ... are refused unless listed here (DESIGN.md
    # §7). TOML: a list; SMSGATE_WEBHOOK_ALLOWED_NETWORKS: comma-separated.
    webhook_allowed_networks: tuple[str, ...] = ()
    # Abuse limits
    max_body_bytes: int = 1_048_576
    rate_limit_per_s: float = 0.0  # per API key; 0 = unlimited
    # HTTP connections (DESIGN.md §7): a request's headers must arrive within
    # http_header_timeout_s of its first byte (or of the connection), an idle keep-alive
    # connection is closed after http_keepalive_timeout_s, and one client address holds at
    # most http_max_connections_per_address connections at once (0: no cap).
    http_header_timeout_s: float = 10.0
    http_keepalive_timeout_s: float = 5.0
    http_max_connections_per_address: int = 256
    # Reverse proxies (CIDRs) whose X-Forwarded-For names the client; empty: none is.
    trusted_proxies: tuple[str, ...] = ()
    # A send_at up to this far in the past is clock skew (sent at once); older is refused.
    send_at_skew_s: float = 300.0
    connectors: tuple[ConnectorSettings, ...] = ()
    routes: tuple[RouteSettings, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


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
        connectors = tuple(ConnectorSettings(**c) for c in raw.get("connectors", ()))
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
        if connector.type != "smpp":
            raise ConfigError(f"connector {connector.name}: unknown type {connector.type!r}")
        if connector.bind not in {"transceiver", "transmitter+receiver"}:
            raise ConfigError(f"connector {connector.name}: bad bind {connector.bind!r}")
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


ROLES = ("api", "smpp", "worker")


def roles(settings: Settings) -> frozenset[str]:
    """The roles this process runs (`role = "all"` or a comma-separated subset of ROLES)."""
    names = {r.strip() for r in settings.role.split(",") if r.strip()}
    if names == {"all"}:
        return frozenset(ROLES)
    unknown = names - set(ROLES)
    if unknown or not names:
        raise ConfigError(
            f"role must be all or a comma-separated list of {', '.join(ROLES)}; "
            f"got {settings.role!r}"
        )
    return frozenset(names)


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
