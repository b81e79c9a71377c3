"""Settings of the SMPP server: one frozen, keyword-only object (STYLE.md rule 10)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class SmppServerConfig:
    """Limits and timers of the customer-facing SMPP server (times in seconds).

    Every limit exists so that one misbehaving client costs bounded memory and time
    (STYLE.md rule 9).
    """

    host: str = "127.0.0.1"
    port: int = 2775  # 0 picks a free port (tests); SmppServer.port tells which
    system_id: str = "smsgate"  # our name in bind_*_resp
    max_frame_size: int = 65536  # command_length above this (or below 16) closes the link
    window: int = 10  # our outstanding deliver_sm per session
    max_inbound_window: int = 100  # client requests in processing before we stop reading
    # A connection that has not bound by then is closed: short, so that idle sockets
    # cannot hold connection slots for long (DESIGN.md §3).
    bind_timeout: float = 10.0
    idle_timeout: float = 120.0  # a session that sent no request or response this long
    enquire_link_interval: float = 60.0  # we send enquire_link after this much silence
    response_timeout: float = 10.0  # for our deliver_sm / enquire_link / unbind
    max_bad_pdus: int = 10  # broken PDUs before the connection is closed
    bind_attempts_per_ip: int = 20  # binds per source address per minute, success or not
    max_connections: int = 1000
    # Open connections per client address (an IPv6 client's /64), bound or not: one address
    # cannot take every slot of max_connections and lock the other customers out.
    max_connections_per_ip: int = 50
    tls: ssl.SSLContext | None = None
    unbind_timeout: float = 2.0  # how long stop() waits for unbind_resp
    write_buffer_high: int = 256 * 1024  # stop reading a session whose peer reads no more
    write_buffer_low: int = 64 * 1024

    def __post_init__(self) -> None:
        if self.window < 1 or self.max_inbound_window < 1:
            raise ValueError("window and max_inbound_window must be at least 1")
        if self.max_frame_size < 16:
            raise ValueError("max_frame_size must be at least 16")
        if self.max_bad_pdus < 1 or self.max_connections < 1 or self.max_connections_per_ip < 1:
            raise ValueError(
                "max_bad_pdus, max_connections and max_connections_per_ip must be at least 1"
            )
        if self.bind_timeout <= 0:
            raise ValueError("bind_timeout must be positive")
        if len(self.system_id) > 15:
            raise ValueError("system_id is at most 15 characters (SMPP 3.4 §4.1.2)")
        if self.write_buffer_low > self.write_buffer_high:
            raise ValueError("write_buffer_low must not exceed write_buffer_high")
