"""The customer-facing SMPP 3.4 server (SMSC role): ESMEs bind to smsgate like to an SMSC.

`SmppServer(config, hooks)` speaks the protocol; `ServerHooks` (hooks.py) decides what binds
and submits mean. See server.py for the lifecycle and session.py for the limits.
"""

from smsgate.adapters.smpp_server.config import SmppServerConfig
from smsgate.adapters.smpp_server.errors import BindRefused, SessionGone, SmppServerError
from smsgate.adapters.smpp_server.hooks import (
    BindRequest,
    BindType,
    BoundAccount,
    DefaultHooks,
    QueryResult,
    ServerHooks,
    SessionInfo,
    StaticHooks,
    SubmitResult,
)
from smsgate.adapters.smpp_server.server import SmppServer

__all__ = [
    "BindRefused",
    "BindRequest",
    "BindType",
    "BoundAccount",
    "DefaultHooks",
    "QueryResult",
    "ServerHooks",
    "SessionGone",
    "SessionInfo",
    "SmppServer",
    "SmppServerConfig",
    "SmppServerError",
    "StaticHooks",
    "SubmitResult",
]
