"""Fixtures of the runtime tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from .rig import MakeRig, rig_maker


@pytest.fixture(params=[False, True], ids=["claimed", "handed-off"])
async def rig_factory(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[MakeRig]:
    """Every dispatcher test runs with messages claimed from the queue, and again with
    messages handed to the dispatcher from memory where it can take them."""
    async with rig_maker(tmp_path, handoff=request.param) as make:
        yield make
