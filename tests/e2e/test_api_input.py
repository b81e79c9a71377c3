"""Loose input refused with a reason (DESIGN.md §3, §5): send_at in the past, numbers that
are not plain numbers, numeric senders kept as given, strict JSON types and content types.
Both the fast path (POST /api/v1/messages) and the framework routes are checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from tests.e2e.conftest import Env


def _error(r: Any) -> dict[str, Any]:
    error: dict[str, Any] = r.json()["error"]
    return error


# ---- send_at -------------------------------------------------------------------------------


def _ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


@pytest.mark.parametrize(
    "send_at",
    ["1970-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00", _ago(days=7)],
)
async def test_send_at_in_the_past_is_422(env: Env, send_at: str) -> None:
    r = await env.send(to="+359888123456", text="late", send_at=send_at)
    assert r.status_code == 422, r.text
    assert _error(r)["field"] == "send_at"
    assert "in the past" in _error(r)["message"]
    batch = await env.client.post(
        "/api/v1/batches",
        json={"recipients": [{"to": "+359888123456"}], "text": "late", "send_at": send_at},
        headers=env.auth(),
    )
    assert batch.status_code == 422, batch.text
    assert "in the past" in _error(batch)["message"]
    listed = await env.client.get("/api/v1/messages", headers=env.auth())
    assert listed.json()["data"] == []


async def test_send_at_within_the_clock_skew_is_sent_at_once(env: Env) -> None:
    r = await env.send(to="+359888123456", text="now", send_at=_ago(seconds=60))
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued"
    assert r.json()["scheduled_at"] is None
