"""What the API needs from the running gateway, handed in by bootstrap."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from smsgate.adapters.http_api.limits import FailureThrottle, RateLimiter
from smsgate.adapters.store.store import Store
from smsgate.adapters.url_guard import UrlGuard
from smsgate.config import Settings
from smsgate.services.admin import AdminService
from smsgate.services.clock import Clock
from smsgate.services.messages import MessageService


@dataclass(slots=True, kw_only=True)
class ApiContext:
    store: Store
    messages: MessageService
    # Accounts, keys, SMPP logins, webhooks and the connectors' status (services/admin.py).
    admin: AdminService
    clock: Clock
    settings: Settings
    ready: Callable[[], bool] = lambda: True
    rate_limiter: RateLimiter = field(default_factory=lambda: RateLimiter(0))
    # Failed authentications per client address: slowed down, then refused (auth.py).
    auth_failures: FailureThrottle = field(default_factory=FailureThrottle)
    auth_delayed_s: float = 0.0  # seconds answers to failed authentications were held, in all
    # Checks tenants' webhook, callback and forward URLs when they are saved (DESIGN.md §7).
    url_guard: UrlGuard = field(default_factory=UrlGuard)
