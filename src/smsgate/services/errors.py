"""The services' exception tree; adapters translate it (REST: 404/409 with the error body of
DESIGN.md §3; SMPP: a command_status; the CLI: a message on stderr and exit status 1).

    DomainError (domain/errors.py: a request breaks a rule; `code`, `message`, `field`)
    ├── NotFound      the account, key, login, webhook or message named does not exist
    │                 (or belongs to another account: the caller cannot tell the two apart)
    └── Conflict      the request contradicts what is stored (a name or system_id taken,
                      a message past the state the request needs)
    StoreConflict     raised by the store adapters when a unique key was already taken; the
                      services catch it and decide (a replay, or a Conflict for the caller).
                      Its text is not for peers.
"""

from __future__ import annotations

from smsgate.domain.errors import DomainError


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class StoreConflict(Exception):
    """A write was refused because a unique key was already taken (store adapters raise it
    from their integrity errors)."""
