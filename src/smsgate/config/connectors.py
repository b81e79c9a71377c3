"""Connector settings: one frozen settings type per connector type, told apart by `type`.

`ConnectorSettings` is the union of them (a discriminated union on `type`; today only
`smpp`). `connector_settings` builds the one a `[[connectors]]` table names; an unknown type
is a ConfigError naming the known ones. The connector registry (adapters/connectors/
registry.py) builds the connector of each type from its settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from smsgate.errors import ConfigError

__all__ = [
    "CONNECTOR_TYPES",
    "ConnectorSettings",
    "SmppConnectorSettings",
    "connector_settings",
    "validate_connector",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class SmppConnectorSettings:
    """An SMPP 3.4 bind (or transmitter + receiver pair) to an SMSC."""

    name: str
    type: Literal["smpp"] = "smpp"
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
    # A part left unanswered by a lost link goes out again first on the next link, at most
    # resend_max times; a part answered ESME_RTHROTTLED is tried throttle_max_tries times.
    resend_max: int = 3
    throttle_max_tries: int = 10


# The discriminated union of every connector type's settings (`| UcpConnectorSettings` ...).
ConnectorSettings: TypeAlias = SmppConnectorSettings
CONNECTOR_TYPES: Mapping[str, type[ConnectorSettings]] = {"smpp": SmppConnectorSettings}


def connector_settings(raw: Mapping[str, Any]) -> ConnectorSettings:
    """The settings of one `[[connectors]]` table, of the type its `type` names."""
    kind = raw.get("type", "smpp")
    cls = CONNECTOR_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        known = ", ".join(sorted(CONNECTOR_TYPES))
        raise ConfigError(
            f"connector {raw.get('name', '?')}: unknown type {kind!r} (known: {known})"
        )
    try:
        return cls(**raw)
    except TypeError as exc:
        raise ConfigError(f"bad configuration: {exc}") from exc


def validate_connector(connector: ConnectorSettings) -> None:
    if connector.type not in CONNECTOR_TYPES:
        known = ", ".join(sorted(CONNECTOR_TYPES))
        raise ConfigError(
            f"connector {connector.name}: unknown type {connector.type!r} (known: {known})"
        )
    if connector.bind not in {"transceiver", "transmitter+receiver"}:
        raise ConfigError(f"connector {connector.name}: bad bind {connector.bind!r}")
    if connector.resend_max < 0:
        raise ConfigError(f"connector {connector.name}: resend_max must be 0 or more")
    if connector.throttle_max_tries < 1:
        raise ConfigError(f"connector {connector.name}: throttle_max_tries must be at least 1")
