"""A resolver for tests: names map to the addresses a test chooses, so a test of outbound
calls to other addresses never sends a packet (not even a DNS query) off this machine."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence


class FakeDns:
    """`names[host]` is a list of answers: each lookup takes the next one, the last repeats
    (a name that answers a public address first and loopback afterwards is DNS rebinding)."""

    def __init__(self, names: dict[str, list[list[str]]]) -> None:
        self.names = {k: [list(a) for a in v] for k, v in names.items()}
        self.asked: list[tuple[str, int]] = []
        self._changed = asyncio.Condition()

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        async with self._changed:
            self.asked.append((host, port))
            self._changed.notify_all()
        answers = self.names.get(host.rstrip(".").lower())
        if not answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return answers.pop(0) if len(answers) > 1 else answers[0]

    async def wait_asked(self, times: int, timeout: float = 15.0) -> None:
        """Until `times` lookups have been made."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len(self.asked) >= times)
