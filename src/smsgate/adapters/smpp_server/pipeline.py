"""The SMPP server wired to the gateway: binds check the account's SMPP credentials,
submits go through `SmppIngress` (committed before ESME_ROK), and bound receivers get the
receipts and inbound messages kept for them."""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import secrets
from collections.abc import Callable

from smsgate.adapters.smpp_server.errors import BindRefused
from smsgate.adapters.smpp_server.hooks import (
    BindRequest,
    BoundAccount,
    DefaultHooks,
    QueryResult,
    SessionInfo,
    SubmitResult,
)
from smsgate.adapters.smpp_server.ingress import SmppIngress, SubmitRefused
from smsgate.adapters.store.store import Store
from smsgate.services.clock import Clock
from smsgate.services.credentials import check_password, hash_password
from smsgate.services.records import Account
from smsgate.smpp.constants import CommandStatus
from smsgate.smpp.pdu import CancelSm, DataSm, QuerySm, ReplaceSm, SubmitSm

log = logging.getLogger(__name__)


def ip_allowed(peer_ip: str, allowed: str) -> bool:
    """`allowed`: comma-separated addresses or networks; empty allows every address."""
    entries = [a.strip() for a in allowed.split(",") if a.strip()]
    if not entries:
        return True
    try:
        ip = ipaddress.ip_address(peer_ip)
    except ValueError:
        return False
    for entry in entries:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


@functools.cache
def _unknown_login_hash() -> str:
    """A hash no password matches, checked for unknown system_ids (made once, on first use)."""
    return hash_password(secrets.token_hex(16))


class GatewayHooks(DefaultHooks):
    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        ingress: SmppIngress,
        on_bound: Callable[[SessionInfo], None] = lambda _s: None,
        on_closed: Callable[[SessionInfo], None] = lambda _s: None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._ingress = ingress
        self._on_bound = on_bound
        self._on_closed = on_closed

    async def authenticate(self, req: BindRequest) -> BoundAccount:
        # Every refusal is ESME_RBINDFAIL to the peer (handlers.py); the reasons are logged.
        creds = await self._store.smpp_credentials(req.system_id, now=self._clock.now())
        if creds is None:
            # As slow as checking a real password: the time taken does not tell either.
            await asyncio.to_thread(check_password, req.password, _unknown_login_hash())
            raise BindRefused(CommandStatus.ESME_RINVSYSID, "unknown system_id")
        # The allow-list first: from elsewhere, a right password is not even looked at.
        if not ip_allowed(req.peer_ip, creds.allowed_ips):
            raise BindRefused(CommandStatus.ESME_RBINDFAIL, "address not in the allow-list")
        # scrypt is slow on purpose (8-character passwords); keep the loop free meanwhile.
        ok = await asyncio.to_thread(check_password, req.password, creds.password_hash)
        if not ok:
            raise BindRefused(CommandStatus.ESME_RINVPASWD, "wrong password")
        account = await self._store.get_account(creds.account_id)
        if account is None or account.disabled:
            raise BindRefused(CommandStatus.ESME_RBINDFAIL, "account disabled")
        return BoundAccount(
            account_id=account.id,
            system_id=creds.system_id,
            max_binds=creds.max_binds,
            submit_rate_per_s=creds.submit_rate_per_s,
        )

    async def _account(self, session: SessionInfo) -> Account:
        account = await self._store.get_account(session.account_id)
        if account is None:  # deleted while bound
            raise SubmitRefused(CommandStatus.ESME_RBINDFAIL, "no such account")
        return account

    async def submit(self, session: SessionInfo, pdu: SubmitSm | DataSm) -> SubmitResult:
        try:
            message_id = await self._ingress.submit(await self._account(session), pdu)
        except SubmitRefused as exc:
            return SubmitResult(status=exc.status)
        return SubmitResult(status=CommandStatus.ESME_ROK, message_id=message_id)

    async def query(self, session: SessionInfo, pdu: QuerySm) -> QueryResult | int:
        try:
            state, final, error = await self._ingress.query(
                await self._account(session), pdu.message_id
            )
        except SubmitRefused as exc:
            return int(exc.status)
        return QueryResult(message_state=state, final_date=final, error_code=error)

    async def cancel(self, session: SessionInfo, pdu: CancelSm) -> int:
        try:
            await self._ingress.cancel(await self._account(session), pdu.message_id)
        except SubmitRefused as exc:
            return int(exc.status)
        return int(CommandStatus.ESME_ROK)

    async def replace(self, session: SessionInfo, pdu: ReplaceSm) -> int:
        try:
            await self._ingress.replace(
                await self._account(session),
                pdu.message_id,
                pdu.short_message,
                pdu.schedule_delivery_time,
            )
        except SubmitRefused as exc:
            return int(exc.status)
        return int(CommandStatus.ESME_ROK)

    def session_bound(self, session: SessionInfo) -> None:
        self._on_bound(session)

    def session_closed(self, session: SessionInfo) -> None:
        self._on_closed(session)
