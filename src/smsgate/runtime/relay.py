"""A call forwarded to a component built later: how the composition root breaks a cycle.

Two components that need each other cannot both get the other in their constructor. The
one built first gets a Relay instead; the composition root connects it, once, to the other
as soon as that exists. Nothing is assigned onto the components themselves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class Relay(Generic[P, R]):
    """A callable that forwards to the target it is connected to (once)."""

    __slots__ = ("_name", "_target")

    def __init__(self, name: str) -> None:
        self._name = name
        self._target: Callable[P, R] | None = None

    def connect(self, target: Callable[P, R]) -> None:
        if self._target is not None:
            raise RuntimeError(f"relay {self._name} is already connected")
        self._target = target

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        target = self._target
        if target is None:
            raise RuntimeError(f"relay {self._name} is called before it is connected")
        return target(*args, **kwargs)
