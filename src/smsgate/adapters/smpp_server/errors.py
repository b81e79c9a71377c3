"""The exception tree of the SMPP server adapter.

    SmppServerError
    ├── BindRefused     raised by ServerHooks.authenticate: refuse a bind (ESME_RBINDFAIL)
    └── SessionGone     SessionInfo.deliver could not get a deliver_sm_resp: the session
                        closed or unbound, or the response did not come in time

Neither carries secrets or phone numbers in its text: both may end up in logs.
"""

from __future__ import annotations

from smsgate.smpp.constants import CommandStatus


class SmppServerError(Exception):
    """Base class of the errors of `smsgate.adapters.smpp_server`."""


class BindRefused(SmppServerError):
    """Refuse a bind. The peer always gets ESME_RBINDFAIL, whatever the reason: `status`
    (ESME_RINVPASWD, ESME_RINVSYSID, ...) and the message are logged, never sent, so that
    bind replies tell nobody which system_ids exist or whether a password was right."""

    def __init__(
        self, status: CommandStatus | int = CommandStatus.ESME_RBINDFAIL, message: str = ""
    ) -> None:
        super().__init__(message or f"bind refused (0x{int(status):X})")
        self.status = int(status)


class SessionGone(SmppServerError):
    """A deliver_sm got no deliver_sm_resp: `reason` is "closed", "unbound", "not_receiver"
    or "timeout". When it is "timeout" the ESME may still have received the PDU."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"session gone: {reason}")
        self.reason = reason
