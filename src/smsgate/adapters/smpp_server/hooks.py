"""What the SMPP server asks of the rest of the gateway: the hooks and their value types.

The server speaks the protocol; the hooks decide (in the style of aiosmtpd's `handle_*`).
`DefaultHooks` refuses everything; subclass it and override what you support.
`StaticHooks` is an in-memory implementation for tests, benchmarks and development.

Calling conventions the server guarantees:

* `authenticate` runs at most once at a time per connection (the server reads nothing else
  from that connection meanwhile). It is not called when the source address has used up
  its bind budget. Every refused bind is answered ESME_RBINDFAIL (SMPP 3.4 §5.1.3): the
  reason given to BindRefused is logged, never told to the peer.
* `submit`, `query`, `cancel` and `replace` are started in the order their PDUs arrived on a
  session, without waiting for earlier calls to finish (up to `max_inbound_window` at once):
  a gateway that group-commits should batch them. Their responses are written in the order
  the calls complete. `submit` must return only once the message is durable: an ESME_ROK
  submit_sm_resp promises that (DESIGN.md §7). An exception from a hook is answered with
  ESME_RSYSERR and logged without the PDU's contents.
* A call that started is allowed to finish even if the connection drops meanwhile (its
  response is then lost; the ESME will resubmit). `SmppServer.stop` waits for them.
* `session_bound` is called once a bind succeeded and its bind_*_resp is queued for writing;
  `session_closed` exactly once afterwards, when the session unbinds or the connection ends.
  Both are plain functions: schedule work, do not block.
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from smsgate.adapters.smpp_server.errors import BindRefused
from smsgate.smpp.constants import CommandStatus, MessageState
from smsgate.smpp.pdu import CancelSm, DataSm, DeliverSm, QuerySm, ReplaceSm, SubmitSm

__all__ = [
    "BindRefused",
    "BindRequest",
    "BindType",
    "BoundAccount",
    "DefaultHooks",
    "QueryResult",
    "ServerHooks",
    "SessionInfo",
    "SessionLink",
    "StaticHooks",
    "SubmitResult",
]

BindType = Literal["transmitter", "receiver", "transceiver"]


@dataclass(frozen=True, slots=True, kw_only=True)
class BindRequest:
    """A bind_* as the hook sees it. `password` never appears in repr (hence in logs)."""

    system_id: str
    password: str = field(repr=False)
    bind_type: BindType
    system_type: str
    peer_ip: str
    interface_version: int
    address_range: str = ""  # the ESME's address_range (§4.1.1), mostly empty


@dataclass(frozen=True, slots=True, kw_only=True)
class BoundAccount:
    """Who a successful bind belongs to, with the limits the server enforces."""

    account_id: str
    system_id: str
    max_binds: int = 10  # concurrent binds of this account, over all its sessions
    # submits a second over all the account's sessions (token bucket); None = no limit
    submit_rate_per_s: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitResult:
    """The outcome of a submit: `status` (ESME_ROK when durable) and the message_id to
    return in submit_sm_resp / data_sm_resp (§4.4.2: at most 64 characters)."""

    status: int
    message_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class QueryResult:
    """The body of a successful query_sm_resp (§4.8.2); `final_date` is an SMPP time
    string (`smsgate.smpp.format_smpp_time`) or "" while the message is not final."""

    message_state: MessageState | int
    final_date: str = ""
    error_code: int = 0


class SessionLink(Protocol):
    """What a SessionInfo needs from the live session (implemented by the server)."""

    @property
    def is_open(self) -> bool: ...

    async def deliver_sm(self, pdu: DeliverSm) -> int: ...

    async def wait_closed(self) -> None: ...


class SessionInfo:
    """A read-only view of one bound session, handed to the hooks.

    Hashable by identity: a gateway may key its own per-session state on it.
    """

    __slots__ = ("_account", "_bind_type", "_link", "_peer", "_session_id")

    def __init__(
        self,
        *,
        session_id: str,
        account: BoundAccount,
        bind_type: BindType,
        peer: tuple[str, int],
        link: SessionLink,
    ) -> None:
        self._session_id = session_id
        self._account = account
        self._bind_type: BindType = bind_type
        self._peer = peer
        self._link = link

    @property
    def session_id(self) -> str:
        """Unique within this server process (e.g. "s17")."""
        return self._session_id

    @property
    def account(self) -> BoundAccount:
        return self._account

    @property
    def account_id(self) -> str:
        return self._account.account_id

    @property
    def system_id(self) -> str:
        return self._account.system_id

    @property
    def bind_type(self) -> BindType:
        return self._bind_type

    @property
    def peer(self) -> tuple[str, int]:
        """The client's (ip, port)."""
        return self._peer

    @property
    def peer_ip(self) -> str:
        return self._peer[0]

    @property
    def can_receive(self) -> bool:
        """Bound as receiver or transceiver: deliver_sm may be sent to it."""
        return self._bind_type != "transmitter"

    @property
    def can_transmit(self) -> bool:
        """Bound as transmitter or transceiver: it may submit."""
        return self._bind_type != "receiver"

    @property
    def is_open(self) -> bool:
        """Still bound and connected: a deliver may succeed."""
        return self._link.is_open

    async def deliver(self, pdu: DeliverSm) -> int:
        """Send a deliver_sm and return the command_status of its deliver_sm_resp (or of a
        generic_nack answering it).

        The session assigns the sequence_number (the one in `pdu` is ignored), waits for a
        free slot in its outbound window, and waits at most `response_timeout` for the
        answer. Raises SessionGone when the session is not a receiver, closed or unbound
        (before or while waiting), or the answer did not come in time.
        """
        return await self._link.deliver_sm(pdu)

    async def wait_closed(self) -> None:
        """Return once the connection of this session has ended."""
        await self._link.wait_closed()

    def __repr__(self) -> str:
        return (
            f"<SessionInfo {self._session_id} system_id={self.system_id!r} "
            f"{self._bind_type} peer={self.peer_ip}>"
        )


class ServerHooks(Protocol):
    """The behaviour of the SMPP server (see the module docstring for calling rules)."""

    async def authenticate(self, req: BindRequest) -> BoundAccount:
        """Check credentials and IP allow-lists; raise BindRefused to refuse (the peer
        gets ESME_RBINDFAIL whatever the reason). Check the allow-list before the password:
        a bind from outside it must not learn whether its password was right."""
        ...

    async def submit(self, session: SessionInfo, pdu: SubmitSm | DataSm) -> SubmitResult:
        """Accept one submit_sm / data_sm; return only once it is durable."""
        ...

    async def query(self, session: SessionInfo, pdu: QuerySm) -> QueryResult | int:
        """The state of a message, or an error status (ESME_RQUERYFAIL, ESME_RINVMSGID)."""
        ...

    async def cancel(self, session: SessionInfo, pdu: CancelSm) -> int:
        """Cancel a message that is not sent yet: ESME_ROK or ESME_RCANCELFAIL, ..."""
        ...

    async def replace(self, session: SessionInfo, pdu: ReplaceSm) -> int:
        """Replace a scheduled message: ESME_ROK or ESME_RREPLACEFAIL, ..."""
        ...

    def session_bound(self, session: SessionInfo) -> None:
        """A session is bound: pending receipts and inbound messages may be delivered."""
        ...

    def session_closed(self, session: SessionInfo) -> None:
        """The session ended: stop delivering to it."""
        ...


class DefaultHooks:
    """Hooks that refuse everything: every bind fails with ESME_RBINDFAIL. Subclass it."""

    async def authenticate(self, req: BindRequest) -> BoundAccount:
        raise BindRefused(CommandStatus.ESME_RBINDFAIL, "no authentication configured")

    async def submit(self, session: SessionInfo, pdu: SubmitSm | DataSm) -> SubmitResult:
        return SubmitResult(status=CommandStatus.ESME_RSUBMITFAIL)

    async def query(self, session: SessionInfo, pdu: QuerySm) -> QueryResult | int:
        return CommandStatus.ESME_RQUERYFAIL

    async def cancel(self, session: SessionInfo, pdu: CancelSm) -> int:
        return CommandStatus.ESME_RCANCELFAIL

    async def replace(self, session: SessionInfo, pdu: ReplaceSm) -> int:
        return CommandStatus.ESME_RREPLACEFAIL

    def session_bound(self, session: SessionInfo) -> None:
        return None

    def session_closed(self, session: SessionInfo) -> None:
        return None


class StaticHooks(DefaultHooks):
    """In-memory hooks for tests and development.

    `accounts` maps system_id → (password, BoundAccount). Every accepted submit is recorded
    in `submits` (in call order) and gets a message id from a counter; query_sm answers
    ENROUTE for a known id, cancel_sm and replace_sm succeed for a known id (cancel forgets
    it). `bound` holds the sessions currently bound; `changed` is set on every recorded
    event so a test can wait for one without sleeping.
    """

    def __init__(self, accounts: Mapping[str, tuple[str, BoundAccount]]) -> None:
        self.accounts = dict(accounts)
        self.authenticate_calls = 0
        self.submits: list[tuple[SessionInfo, SubmitSm | DataSm]] = []
        self.queries: list[QuerySm] = []
        self.cancels: list[CancelSm] = []
        self.replaces: list[ReplaceSm] = []
        self.bound: list[SessionInfo] = []
        self.closed: list[SessionInfo] = []
        self.known: dict[str, SubmitSm | DataSm] = {}
        self.changed = asyncio.Event()
        self._ids = itertools.count(1)

    async def authenticate(self, req: BindRequest) -> BoundAccount:
        self.authenticate_calls += 1
        entry = self.accounts.get(req.system_id)
        if entry is None:
            raise BindRefused(CommandStatus.ESME_RBINDFAIL, "unknown system_id")
        password, account = entry
        if not hmac.compare_digest(password.encode(), req.password.encode()):
            raise BindRefused(CommandStatus.ESME_RBINDFAIL, "wrong password")
        return account

    async def submit(self, session: SessionInfo, pdu: SubmitSm | DataSm) -> SubmitResult:
        message_id = f"{next(self._ids):08x}"
        self.submits.append((session, pdu))
        self.known[message_id] = pdu
        self.changed.set()
        return SubmitResult(status=CommandStatus.ESME_ROK, message_id=message_id)

    async def query(self, session: SessionInfo, pdu: QuerySm) -> QueryResult | int:
        self.queries.append(pdu)
        self.changed.set()
        if pdu.message_id not in self.known:
            return CommandStatus.ESME_RINVMSGID
        return QueryResult(message_state=MessageState.ENROUTE)

    async def cancel(self, session: SessionInfo, pdu: CancelSm) -> int:
        self.cancels.append(pdu)
        self.changed.set()
        if self.known.pop(pdu.message_id, None) is None:
            return CommandStatus.ESME_RCANCELFAIL
        return CommandStatus.ESME_ROK

    async def replace(self, session: SessionInfo, pdu: ReplaceSm) -> int:
        self.replaces.append(pdu)
        self.changed.set()
        if pdu.message_id not in self.known:
            return CommandStatus.ESME_RREPLACEFAIL
        return CommandStatus.ESME_ROK

    def session_bound(self, session: SessionInfo) -> None:
        self.bound.append(session)
        self.changed.set()

    def session_closed(self, session: SessionInfo) -> None:
        if session in self.bound:
            self.bound.remove(session)
        self.closed.append(session)
        self.changed.set()
