"""The connector registry: how to build the connector of each `type` a `[[connectors]]`
table may name (config/connectors.py holds the settings type of each). A new connector
package adds one entry here and one settings type there."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from smsgate.adapters.connectors import smpp
from smsgate.config.connectors import ConnectorSettings
from smsgate.errors import ConfigError
from smsgate.services.ports import Connector, ConnectorEvents

__all__ = ["FACTORIES", "build_connector"]

Factory = Callable[[Any, ConnectorEvents], Connector]

FACTORIES: Mapping[str, Factory] = {"smpp": smpp.from_settings}


def build_connector(settings: ConnectorSettings, events: ConnectorEvents) -> Connector:
    """The connector for one connector's settings, by its `type`."""
    factory = FACTORIES.get(settings.type)
    if factory is None:
        known = ", ".join(sorted(FACTORIES))
        raise ConfigError(
            f"connector {settings.name}: unknown type {settings.type!r} (known: {known})"
        )
    return factory(settings, events)
