"""Admin use cases: accounts, API keys, SMPP logins, webhooks and the connectors' status.

The REST API, the CLI, the demo's seeding and the tests all go through `AdminService`; the
store is reached through the narrow ports of services/ports.py. Refusals are
services.errors (NotFound, Conflict) and domain errors (InvalidRequest, UrlNotAllowed);
the adapters turn them into statuses and messages.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from smsgate.domain.errors import InvalidRequest
from smsgate.services.clock import Clock
from smsgate.services.credentials import hash_password
from smsgate.services.errors import Conflict, NotFound
from smsgate.services.ports import Accounts, MessageLookup, SmppLogins, UrlCheck, Webhooks
from smsgate.services.records import Account, ApiKey, Delivery, SmppCredentials, Webhook


@dataclass(frozen=True, slots=True, kw_only=True)
class NewAccount:
    name: str
    role: str = "user"  # or "admin"
    default_country: str = ""  # ISO 3166 code for national numbers; any case
    max_parts: int = 10
    help_text: str = ""  # the answer to HELP on the account's numbers


@dataclass(frozen=True, slots=True, kw_only=True)
class NewKey:
    key: ApiKey
    secret: str  # shown once: only its hash is stored


@dataclass(frozen=True, slots=True, kw_only=True)
class SmppLogin:
    """A login to create or replace (`password` in clear; it is stored hashed)."""

    system_id: str
    password: str
    max_binds: int = 10
    allowed_ips: Sequence[str] = ()  # addresses or networks; empty: from anywhere
    submit_rate_per_s: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewWebhook:
    url: str
    events: Sequence[str]
    description: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    """One call of a delivery."""

    attempted_at: float
    status_code: int | None
    error: str | None
    duration_ms: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryHistory:
    delivery: Delivery
    attempts: tuple[Attempt, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectorState:
    """A southbound link as the operator sees it."""

    name: str
    type: str
    up: bool
    stats: Mapping[str, int | float] = field(default_factory=dict)


def _no_connectors() -> Sequence[ConnectorState]:
    return ()


def _nothing(_account_id: str) -> None:
    return None


class AdminService:
    """Accounts, keys, SMPP logins and webhooks of the gateway (one instance per process).

    `connector_status` lists the links of this process; `secret_rotated` is told when an
    account's callback secret changed (the webhook sender of this process forgets the old
    one at once; other processes within their cache time)."""

    def __init__(
        self,
        *,
        accounts: Accounts,
        smpp_logins: SmppLogins,
        webhooks: Webhooks,
        messages: MessageLookup,
        clock: Clock,
        urls: UrlCheck,
        connector_status: Callable[[], Sequence[ConnectorState]] = _no_connectors,
        secret_rotated: Callable[[str], None] = _nothing,
    ) -> None:
        self._accounts = accounts
        self._logins = smpp_logins
        self._webhooks = webhooks
        self._messages = messages
        self._clock = clock
        self._urls = urls
        self._connector_status = connector_status
        self._secret_rotated = secret_rotated

    # ---- accounts ----------------------------------------------------------------------

    async def create_account(self, new: NewAccount) -> Account:
        """A new account with its callback secret; Conflict when the name is taken."""
        if await self._accounts.account_by_name(new.name) is not None:
            raise Conflict("an account with this name exists", field="name")
        return await self._accounts.create_account(
            name=new.name,
            role=new.role,
            default_country=new.default_country.upper(),
            max_parts=new.max_parts,
            help_text=new.help_text,
            now=self._clock.now(),
        )

    async def accounts(self) -> list[Account]:
        return await self._accounts.list_accounts()

    async def account(self, account_id: str) -> Account:
        account = await self._accounts.get_account(account_id)
        if account is None:
            raise NotFound("no such account", field="account_id")
        return account

    async def account_named(self, name: str) -> Account | None:
        return await self._accounts.account_by_name(name)

    async def find_account(self, name_or_id: str) -> Account:
        """The account of that name, else of that id."""
        account = await self._accounts.account_by_name(name_or_id)
        return account if account is not None else await self.account(name_or_id)

    async def rotate_callback_secret(self, account_id: str) -> str:
        """A new secret for the account's callback_url calls and keyword forwards."""
        secret = await self._accounts.rotate_signing_secret(account_id)
        if secret is None:
            raise NotFound("no such account", field="account_id")
        self._secret_rotated(account_id)
        return secret

    # ---- API keys ----------------------------------------------------------------------

    async def create_key(self, account_id: str, *, name: str = "") -> NewKey:
        await self.account(account_id)
        key, secret = await self._accounts.create_api_key(
            account_id, name=name, now=self._clock.now()
        )
        return NewKey(key=key, secret=secret)

    async def keys(self, account_id: str) -> list[ApiKey]:
        return await self._accounts.list_api_keys(account_id)

    async def revoke_key(self, account_id: str, key_id: str) -> None:
        """NotFound unless the account has that key and it is active."""
        if not await self._accounts.revoke_api_key(account_id, key_id, now=self._clock.now()):
            raise NotFound("no such key", field="id")

    async def key_account(self, secret: str) -> Account | None:
        """The account an API key secret belongs to, while the key is active."""
        found = await self._accounts.authenticate(secret, now=self._clock.now())
        return found[0] if found is not None else None

    # ---- SMPP logins -------------------------------------------------------------------

    async def set_smpp_login(self, account_id: str, login: SmppLogin) -> SmppCredentials:
        """Create or replace an SMPP login of the account; Conflict when the system_id
        belongs to another account."""
        await self.account(account_id)
        for entry in login.allowed_ips:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise InvalidRequest("not an address or network", field="allowed_ips") from exc
        now = self._clock.now()
        taken = await self._logins.smpp_credentials(login.system_id, now=now)
        if taken is not None and taken.account_id != account_id:
            raise Conflict("this system_id belongs to another account", field="system_id")
        creds = SmppCredentials(
            system_id=login.system_id,
            account_id=account_id,
            # scrypt takes tens of milliseconds: not on the event loop.
            password_hash=await asyncio.to_thread(hash_password, login.password),
            max_binds=login.max_binds,
            allowed_ips=",".join(login.allowed_ips),
            submit_rate_per_s=login.submit_rate_per_s,
            created_at=now,
        )
        await self._logins.set_smpp_credentials(creds)
        return creds

    async def smpp_login(self, system_id: str) -> SmppCredentials | None:
        return await self._logins.smpp_credentials(system_id, now=self._clock.now())

    async def smpp_logins(self, account_id: str) -> list[SmppCredentials]:
        await self.account(account_id)
        return await self._logins.list_smpp_credentials(account_id)

    async def delete_smpp_login(self, account_id: str, system_id: str) -> None:
        if not await self._logins.delete_smpp_credentials(account_id, system_id):
            raise NotFound("no such SMPP login", field="system_id")

    # ---- webhooks ----------------------------------------------------------------------

    async def create_webhook(self, account_id: str, new: NewWebhook) -> Webhook:
        """A subscription of the account; its URL must be allowed (UrlCheck)."""
        url = await self._urls.check(new.url, field="url")
        return await self._webhooks.create_webhook(
            account_id,
            url=url,
            events=list(dict.fromkeys(new.events)),
            description=new.description,
            now=self._clock.now(),
        )

    async def webhooks(self, account_id: str) -> list[Webhook]:
        return await self._webhooks.list_webhooks(account_id)

    async def webhook(self, account_id: str, webhook_id: str) -> Webhook:
        hook = await self._webhooks.get_webhook(account_id, webhook_id)
        if hook is None:
            raise NotFound("no such webhook", field="id")
        return hook

    async def delete_webhook(self, account_id: str, webhook_id: str) -> None:
        if not await self._webhooks.delete_webhook(account_id, webhook_id):
            raise NotFound("no such webhook", field="id")

    async def webhook_deliveries(self, account_id: str, webhook_id: str) -> list[Delivery]:
        """The subscription's deliveries, newest first."""
        await self.webhook(account_id, webhook_id)
        return await self._webhooks.list_deliveries(account_id, webhook_id=webhook_id)

    async def message_deliveries(self, account_id: str, message_id: str) -> list[DeliveryHistory]:
        """The calls made about one message (its callback_url, the subscriptions' events),
        newest first, each with its attempts."""
        if await self._messages.get_message(message_id, account_id) is None:
            raise NotFound("no such message", field="id")
        found = await self._webhooks.list_deliveries(account_id, message_id=message_id)
        return [DeliveryHistory(delivery=d, attempts=await self._attempts(d.id)) for d in found]

    async def _attempts(self, delivery_id: str) -> tuple[Attempt, ...]:
        return tuple(
            Attempt(
                attempted_at=a["attempted_at"],
                status_code=a["status_code"],
                error=a["error"],
                duration_ms=a["duration_ms"],
            )
            for a in await self._webhooks.list_attempts(delivery_id)
        )

    # ---- connectors --------------------------------------------------------------------

    def connectors(self) -> list[ConnectorState]:
        return list(self._connector_status())
