"""One frozen settings object, built at start-up from a TOML file plus `SMSGATE_*` environment
(settings.py: the object; loading.py: reading and checking it; connectors.py: the settings of
each connector type)."""

from smsgate.config.connectors import (
    CONNECTOR_TYPES,
    ConnectorSettings,
    SmppConnectorSettings,
    connector_settings,
)
from smsgate.config.loading import SECRET_KEYS, load_settings, mask_url, masked
from smsgate.config.settings import ROLES, RouteSettings, Settings, roles

__all__ = [
    "CONNECTOR_TYPES",
    "ROLES",
    "SECRET_KEYS",
    "ConnectorSettings",
    "RouteSettings",
    "Settings",
    "SmppConnectorSettings",
    "connector_settings",
    "load_settings",
    "mask_url",
    "masked",
    "roles",
]
