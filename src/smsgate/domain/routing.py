"""Routing tables are data: prefix or country → ordered connectors (DESIGN.md §4, STYLE.md §4)."""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Route:
    connectors: tuple[str, ...]  # in order of preference; later ones are failover
    prefix: str = ""  # E.164 digits without '+', "" matches all
    country: str = ""  # ISO region, "" matches all
    priority: int = 0  # higher wins among equally specific routes


def _rank(route: Route) -> tuple[int, bool, int]:
    return (len(route.prefix), bool(route.country), route.priority)


@dataclass(frozen=True, slots=True)
class RoutingTable:
    routes: tuple[Route, ...]
    # The routes best first, sorted once (the order depends on the routes alone; the sort is
    # stable, so the matching ones keep the order sorting them per destination would give).
    _ranked: tuple[Route, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ranked = tuple(sorted(self.routes, key=_rank, reverse=True))
        object.__setattr__(self, "_ranked", ranked)

    def candidates(self, digits: str, country: str) -> tuple[str, ...]:
        """Connectors for a destination, best first: longest prefix, then country, then default."""
        seen: dict[str, None] = {}
        for route in self._ranked:
            if digits.startswith(route.prefix) and (not route.country or route.country == country):
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
