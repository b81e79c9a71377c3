"""Alembic environment: migrations run on a connection handed in by smsgate."""

from __future__ import annotations

from alembic import context

from smsgate.adapters.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - smsgate always hands in a connection
    raise RuntimeError("run migrations through `smsgate migrate`")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
