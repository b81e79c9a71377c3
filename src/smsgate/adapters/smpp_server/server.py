"""The customer-facing SMPP server: a listener, its sessions, and the limits they share.

    async with SmppServer(SmppServerConfig(port=2775), hooks) as server:
        ...                       # server.port, server.sessions
    # leaving the block is server.stop(): stop accepting, unbind every session, let handlers
    # answer and deliveries settle (bounded), then close what is left.

Per-account state (bind counts, the submit token bucket), the per-address connection count
and bind budget live here because they span sessions; everything per connection is in session.py.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from types import TracebackType

from smsgate.adapters.smpp_server.config import SmppServerConfig
from smsgate.adapters.smpp_server.hooks import BoundAccount, ServerHooks, SessionInfo
from smsgate.adapters.smpp_server.limits import BindBudget, TokenBucket, address_key
from smsgate.adapters.smpp_server.session import ServerSession

__all__ = ["SmppServer"]

log = logging.getLogger("smsgate.smpp_server")


class SmppServer:
    """SMPP 3.4 server (SMSC role) for ESMEs; behaviour comes from `hooks` (hooks.py)."""

    def __init__(self, config: SmppServerConfig, hooks: ServerHooks) -> None:
        self.config = config
        self.hooks = hooks
        self._server: asyncio.Server | None = None
        self._ids = itertools.count(1)
        self._connections: set[ServerSession] = set()
        self._per_address: dict[str, int] = {}  # open connections by address_key
        self._binds: dict[str, set[ServerSession]] = {}
        self._buckets: dict[str, TokenBucket] = {}
        self._bind_budget = BindBudget(config.bind_attempts_per_ip)
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start listening; returns once the socket accepts connections."""
        if self._server is not None:
            raise RuntimeError("server already started")
        self._loop = asyncio.get_running_loop()
        self._server = await self._loop.create_server(
            self._new_session,
            self.config.host,
            self.config.port,
            ssl=self.config.tls,
            reuse_address=True,
        )
        log.info("SMPP server listening on %s:%d", self.config.host, self.port)

    async def __aenter__(self) -> SmppServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def stop(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - a drain bound
        """Stop accepting, unbind every bound session (waiting `unbind_timeout` for each
        unbind_resp), let handlers in flight write their responses and deliveries get their
        deliver_sm_resp, then close; whatever is left after `timeout` is aborted."""
        if self._stopping:
            return
        self._stopping = True
        if self._server is not None:
            self._server.close()
        sessions = list(self._connections)
        try:
            async with asyncio.timeout(timeout):
                await asyncio.gather(*(s.shutdown() for s in sessions))
                while self._tasks:  # handlers of connections that were already gone
                    await asyncio.wait(set(self._tasks))
        except TimeoutError:
            log.warning("SMPP server stop: not drained within %.1fs, aborting the rest", timeout)
        left = list(self._connections)
        for session in left:
            session.abort()
        if left:  # connection_lost runs on the next iteration; session_closed hooks with it
            await asyncio.gather(*(s.wait_closed() for s in left))
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
        log.info("SMPP server stopped")

    # -- read-only state -----------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port listened on (the real one when the config said 0)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("server not started")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def sessions(self) -> tuple[SessionInfo, ...]:
        """The bound sessions, in no particular order."""
        return tuple(s.info for s in self._connections if s.info is not None and s.is_open)

    @property
    def connections(self) -> tuple[ServerSession, ...]:
        """The open connections, bound or not (for metrics and tests)."""
        return tuple(self._connections)

    @property
    def connection_count(self) -> int:
        """Open connections, bound or not."""
        return len(self._connections)

    def binds_of(self, account_id: str) -> int:
        """How many binds `account_id` holds now."""
        return len(self._binds.get(account_id, ()))

    # -- SessionHost -----------------------------------------------------------------------------

    def _new_session(self) -> ServerSession:
        return ServerSession(self, f"s{next(self._ids)}")

    def session_opened(self, session: ServerSession) -> bool:
        if self._stopping or len(self._connections) >= self.config.max_connections:
            return False
        key = address_key(session.peer[0])
        count = self._per_address.get(key, 0)
        if count >= self.config.max_connections_per_ip:
            return False
        self._per_address[key] = count + 1
        self._connections.add(session)
        return True

    def session_closed(self, session: ServerSession) -> None:
        if session in self._connections:  # refused ones were never counted
            self._connections.remove(session)
            key = address_key(session.peer[0])
            left = self._per_address.get(key, 1) - 1
            if left > 0:
                self._per_address[key] = left
            else:
                self._per_address.pop(key, None)
        account = session.account
        if account is not None:
            binds = self._binds.get(account.account_id)
            if binds is not None:
                binds.discard(session)
                if not binds:
                    del self._binds[account.account_id]
                    self._buckets.pop(account.account_id, None)

    def bind_attempt_allowed(self, ip: str) -> bool:
        assert self._loop is not None
        return self._bind_budget.attempt(address_key(ip), self._loop.time())

    def register_bind(self, session: ServerSession, account: BoundAccount) -> bool:
        if self._stopping or session not in self._connections:
            return False
        binds = self._binds.setdefault(account.account_id, set())
        if len(binds) >= account.max_binds:
            if not binds:
                del self._binds[account.account_id]
            return False
        binds.add(session)
        rate = account.submit_rate_per_s
        if rate is not None:
            bucket = self._buckets.get(account.account_id)
            assert self._loop is not None
            if bucket is None or bucket.rate != rate:  # a new bind carries the current rate
                self._buckets[account.account_id] = TokenBucket.full(rate, self._loop.time())
        else:
            self._buckets.pop(account.account_id, None)
        return True

    def submit_allowed(self, account: BoundAccount) -> bool:
        bucket = self._buckets.get(account.account_id)
        if bucket is None:
            return True
        assert self._loop is not None
        return bucket.take(self._loop.time())

    def track(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
