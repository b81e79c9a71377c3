"""What the services need from the store (implemented by adapters/store)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from smsgate.services.records import (
    Account,
    Batch,
    Change,
    DueMessage,
    Message,
    NewMessage,
    Part,
    Webhook,
)


class StorePort(Protocol):
    async def accept(
        self,
        new: Sequence[NewMessage],
        *,
        batch: Batch | None = None,
        after_commit: Callable[[], None] | None = None,
    ) -> None: ...

    async def apply(self, changes: Sequence[Change]) -> None: ...

    # Accounts with an SMPP login (their inbound messages are also kept for their ESME).
    smpp_account_ids: set[str]

    async def add_parts(
        self, parts: Sequence[Part], *, due_at: float, changes: Sequence[Change] = ()
    ) -> None: ...

    async def replace_scheduled(
        self,
        message_id: str,
        *,
        text: str,
        encoding: str,
        parts: Sequence[Part],
        due_at: float,
        now: float,
    ) -> bool: ...

    async def get_message(
        self, message_id: str, account_id: str | None = None
    ) -> Message | None: ...

    async def get_messages(self, ids: Iterable[str]) -> dict[str, Message]: ...

    async def get_parts(self, message_id: str) -> list[Part]: ...

    async def list_messages(
        self,
        account_id: str,
        *,
        limit: int,
        to_addr: str | None = None,
        since: float | None = None,
    ) -> list[Message]:
        """The account's newest messages first (the REST list's other filters omitted)."""
        ...

    async def get_account(self, account_id: str) -> Account | None: ...

    async def find_idempotent(self, account_id: str, key: str) -> tuple[str, str] | None: ...

    async def claim_due(self, *, now: float, limit: int, lease_s: float) -> list[DueMessage]: ...

    async def cancel_unclaimed(self, message_id: str, *, now: float) -> bool: ...

    async def part_by_smsc(self, connector: str, candidates: Sequence[str]) -> Part | None: ...

    async def expired_in_flight(self, *, now: float, limit: int) -> list[Message]: ...

    async def webhooks_for(self, account_id: str, *, now: float) -> tuple[Webhook, ...]: ...
