"""The SMPP 3.4 connector: the first implementation of `connectors.base.WindowedConnector`.

connector.py binds and submits, session.py is one TCP connection around the sans-I/O
`smsgate.smpp.Connection`, messages.py translates port values to PDUs and back, receipts.py
maps receipt `stat` words to domain statuses.
"""

from __future__ import annotations

from smsgate.adapters.connectors.base import ConnectorStats
from smsgate.adapters.connectors.smpp.connector import (
    SmppConnector,
    SmppConnectorConfig,
)
from smsgate.config.connectors import SmppConnectorSettings
from smsgate.services.ports import ConnectorEvents

__all__ = ["ConnectorStats", "SmppConnector", "SmppConnectorConfig", "from_settings"]


def from_settings(c: SmppConnectorSettings, events: ConnectorEvents) -> SmppConnector:
    """The connector of one `[[connectors]]` table of type smpp."""
    return SmppConnector(
        config=SmppConnectorConfig(
            name=c.name,
            host=c.host,
            port=c.port,
            system_id=c.system_id,
            password=c.password,
            system_type=c.system_type,
            bind="transceiver" if c.bind == "transceiver" else "transmitter+receiver",
            window=c.window,
            tps=c.tps,
            enquire_link_interval=c.enquire_link_interval,
            response_timeout=c.response_timeout,
            throttle_max_tries=c.throttle_max_tries,
            resend_max=c.resend_max,
            id_format=c.id_format,  # type: ignore[arg-type]
        ),
        events=events,
    )
