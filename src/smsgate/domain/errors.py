"""Domain errors. Adapters turn them into HTTP or SMPP statuses; the messages are safe to show."""

from __future__ import annotations


class DomainError(Exception):
    """Base of the domain's refusals. `code` is stable and machine-readable."""

    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidNumber(DomainError):
    code = "invalid_number"


class InvalidSender(DomainError):
    code = "invalid_sender"


class SenderNotAllowed(InvalidSender):
    """The sender is a number assigned to another account (DESIGN.md §7: isolation)."""

    code = "sender_not_allowed"


class NoRoute(DomainError):
    code = "no_route"


class InvalidRequest(DomainError):
    """A field of a request is missing or malformed."""

    code = "invalid_request"


class TooManyParts(DomainError):
    code = "too_many_parts"


class UrlNotAllowed(DomainError):
    """A tenant's URL names (or resolves to) an address the operator did not allow."""

    code = "url_not_allowed"
