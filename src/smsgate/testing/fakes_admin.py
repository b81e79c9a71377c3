"""In-memory fakes of what services/admin.py needs: the Accounts, SmppLogins, Webhooks and
MessageLookup ports (one `FakeAdminStore` holds all four) and a UrlCheck."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from smsgate.domain.errors import UrlNotAllowed
from smsgate.services.ids import new_id, new_secret
from smsgate.services.records import (
    Account,
    ApiKey,
    Delivery,
    Message,
    SmppCredentials,
    Webhook,
    new_account,
)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class FakeAdminStore:
    """Dicts instead of tables; behaves as adapters/store does for these ports."""

    accounts: dict[str, Account] = field(default_factory=dict)
    keys: dict[str, ApiKey] = field(default_factory=dict)
    key_hashes: dict[str, str] = field(default_factory=dict)  # hash of the secret → key id
    logins: dict[str, SmppCredentials] = field(default_factory=dict)
    webhooks: dict[str, Webhook] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    attempts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    messages: dict[str, Message] = field(default_factory=dict)

    # ---- Accounts -----------------------------------------------------------------------

    async def create_account(
        self,
        *,
        name: str,
        role: str = "user",
        default_country: str = "",
        max_parts: int = 10,
        help_text: str = "",
        now: float,
    ) -> Account:
        account = new_account(
            name=name,
            role=role,
            default_country=default_country,
            max_parts=max_parts,
            help_text=help_text,
            now=now,
        )
        self.accounts[account.id] = account
        return account

    async def get_account(self, account_id: str) -> Account | None:
        return self.accounts.get(account_id)

    async def account_by_name(self, name: str) -> Account | None:
        return next((a for a in self.accounts.values() if a.name == name), None)

    async def list_accounts(self) -> list[Account]:
        return sorted(self.accounts.values(), key=lambda a: a.created_at)

    async def rotate_signing_secret(self, account_id: str) -> str | None:
        account = self.accounts.get(account_id)
        if account is None:
            return None
        secret = new_secret("whsec")
        self.accounts[account_id] = replace(account, signing_secret=secret)
        return secret

    async def create_api_key(self, account_id: str, *, name: str, now: float) -> tuple[ApiKey, str]:
        secret = new_secret("sk")
        key = ApiKey(
            id=new_id("key", now),
            account_id=account_id,
            name=name,
            prefix=secret[:7],
            created_at=now,
            revoked_at=None,
        )
        self.keys[key.id] = key
        self.key_hashes[_digest(secret)] = key.id
        return key, secret

    async def list_api_keys(self, account_id: str) -> list[ApiKey]:
        return sorted((k for k in self.keys.values() if k.account_id == account_id), key=_id)

    async def revoke_api_key(self, account_id: str, key_id: str, *, now: float) -> bool:
        key = self.keys.get(key_id)
        if key is None or key.account_id != account_id or key.revoked_at is not None:
            return False
        self.keys[key_id] = replace(key, revoked_at=now)
        return True

    async def authenticate(self, secret: str, *, now: float) -> tuple[Account, ApiKey] | None:
        key = self.keys.get(self.key_hashes.get(_digest(secret), ""))
        if key is None or key.revoked_at is not None:
            return None
        account = self.accounts.get(key.account_id)
        return None if account is None or account.disabled else (account, key)

    # ---- SmppLogins ---------------------------------------------------------------------

    async def set_smpp_credentials(self, creds: SmppCredentials) -> None:
        self.logins[creds.system_id] = creds

    async def smpp_credentials(self, system_id: str, *, now: float) -> SmppCredentials | None:
        return self.logins.get(system_id)

    async def list_smpp_credentials(self, account_id: str) -> list[SmppCredentials]:
        found = (c for c in self.logins.values() if c.account_id == account_id)
        return sorted(found, key=lambda c: c.system_id)

    async def delete_smpp_credentials(self, account_id: str, system_id: str) -> bool:
        creds = self.logins.get(system_id)
        if creds is None or creds.account_id != account_id:
            return False
        del self.logins[system_id]
        return True

    # ---- Webhooks -----------------------------------------------------------------------

    async def create_webhook(
        self, account_id: str, *, url: str, events: Sequence[str], description: str, now: float
    ) -> Webhook:
        hook = Webhook(
            id=new_id("wh", now),
            account_id=account_id,
            url=url,
            events=tuple(events),
            secret=new_secret("whsec"),
            description=description,
            active=True,
            created_at=now,
        )
        self.webhooks[hook.id] = hook
        return hook

    async def list_webhooks(self, account_id: str) -> list[Webhook]:
        return sorted((h for h in self.webhooks.values() if h.account_id == account_id), key=_id)

    async def get_webhook(self, account_id: str, webhook_id: str) -> Webhook | None:
        hook = self.webhooks.get(webhook_id)
        return hook if hook is not None and hook.account_id == account_id else None

    async def delete_webhook(self, account_id: str, webhook_id: str) -> bool:
        if await self.get_webhook(account_id, webhook_id) is None:
            return False
        del self.webhooks[webhook_id]
        return True

    async def list_deliveries(
        self,
        account_id: str,
        *,
        webhook_id: str | None = None,
        message_id: str | None = None,
        limit: int = 100,
    ) -> list[Delivery]:
        found = [
            d
            for d in self.deliveries
            if d.account_id == account_id
            and (webhook_id is None or d.webhook_id == webhook_id)
            and (message_id is None or d.message_id == message_id)
        ]
        return sorted(found, key=lambda d: d.created_at, reverse=True)[:limit]

    async def list_attempts(self, delivery_id: str) -> Sequence[Mapping[str, Any]]:
        return list(self.attempts.get(delivery_id, ()))

    # ---- MessageLookup ------------------------------------------------------------------

    async def get_message(self, message_id: str, account_id: str | None = None) -> Message | None:
        message = self.messages.get(message_id)
        if message is None or (account_id is not None and message.account_id != account_id):
            return None
        return message


def _id(item: ApiKey | Webhook) -> str:
    return item.id


@dataclass
class FakeUrlCheck:
    """Allows every URL except those starting with one of `refused`."""

    refused: tuple[str, ...] = ()
    checked: list[str] = field(default_factory=list)

    async def check(self, url: str, *, field: str) -> str:
        self.checked.append(url)
        if url.startswith(self.refused):
            raise UrlNotAllowed("this address may not be called", field=field)
        return url


@dataclass
class FakeClock:
    """Time that moves only when told."""

    t: float = 1_700_000_000.0

    def now(self) -> float:
        return self.t
