"""The settings object: one frozen `Settings`, built at start-up by `loading.load_settings`.

Every top-level key can be overridden from the environment by its upper-case name with the
`SMSGATE_` prefix (`SMSGATE_HTTP_PORT=9000`, `SMSGATE_DATABASE_URL=postgresql://…`).
Connectors (config/connectors.py) and routes come from the file (`[[connectors]]`,
`[[routes]]`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from smsgate.config.connectors import ConnectorSettings
from smsgate.errors import ConfigError

__all__ = ["ROLES", "RouteSettings", "Settings", "roles"]


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
