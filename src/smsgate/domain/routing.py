"""Routing tables are data: prefix or country → ordered connectors (DESIGN.md §4, STYLE.md §4)."""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Route:
    connectors: tuple[str, ...]  # in order of preference; later ones are failover
    prefix: str = ""  # E.164 digits without '+', "" matches all
    country: str = ""  # ISO region, "" matches all
    priority: int = 0  # higher wins among equally specific routes


@dataclass(frozen=True, slots=True)
class RoutingTable:
    routes: tuple[Route, ...]

    def candidates(self, digits: str, country: str) -> tuple[str, ...]:
        """Connectors for a destination, best first: longest prefix, then country, then default."""
        matching = [
            r
            for r in self.routes
            if digits.startswith(r.prefix) and (not r.country or r.country == country)
        ]
        matching.sort(key=lambda r: (len(r.prefix), bool(r.country), r.priority), reverse=True)
        seen: dict[str, None] = {}
        for route in matching:
            for name in route.connectors:
                seen.setdefault(name, None)
        return tuple(seen)

    def choose(self, digits: str, country: str, up: Set[str]) -> str | None:
        """The first candidate that is up; None when no route or all are down."""
        for name in self.candidates(digits, country):
            if name in up:
                return name
        return None

    @classmethod
    def of(cls, routes: Iterable[Route]) -> RoutingTable:
        return cls(tuple(routes))
