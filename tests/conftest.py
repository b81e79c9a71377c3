"""Fixtures shared by every test package.

`db_url` runs a test on each database smsgate supports: a real SQLite file, and a fresh
PostgreSQL database made for the test when SMSGATE_TEST_PG_URL says where a server is
(CI also sets SMSGATE_REQUIRE_PG=1, so a missing server fails instead of skipping).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import pytest_asyncio

PG_URL_ENV = "SMSGATE_TEST_PG_URL"
REQUIRE_PG_ENV = "SMSGATE_REQUIRE_PG"


def _plain_pg_url(url: str) -> str:
    # asyncpg wants postgresql://; accept the SQLAlchemy spelling too.
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgres") else url


@asynccontextmanager
async def fresh_pg_database(server_url: str, *, template: str | None = None) -> AsyncIterator[str]:
    """Create a database for one test (a copy of `template`, else empty), drop it afterwards."""
    server_url = _plain_pg_url(server_url)
    name = f"smsgate_t_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(server_url)
    try:
        clone = f' TEMPLATE "{template}"' if template else ""
        await admin.execute(f'CREATE DATABASE "{name}"{clone}')
    finally:
        await admin.close()
    parts = urlsplit(server_url)
    try:
        yield urlunsplit(parts._replace(path="/" + name))
    finally:
        admin = await asyncpg.connect(server_url)
        try:
            # FORCE ends connections a failed test left open (PostgreSQL 13+).
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def pg_server_url() -> str:
    """The PostgreSQL server URL, or skip (fail when SMSGATE_REQUIRE_PG=1) without one."""
    url = os.environ.get(PG_URL_ENV, "")
    if url:
        return url
    if os.environ.get(REQUIRE_PG_ENV) == "1":
        pytest.fail(f"{REQUIRE_PG_ENV}=1 but {PG_URL_ENV} is not set")
    pytest.skip(f"set {PG_URL_ENV} to run the store tests on PostgreSQL")


@pytest.fixture
def pg_template() -> str | None:
    """The database each test's PostgreSQL database is copied from; None: an empty one.

    A test package may override it with a template it prepared once per session (say, a
    migrated schema) because copying is faster than preparing every test's database.
    """
    return None


@pytest_asyncio.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
async def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, pg_template: str | None
) -> AsyncIterator[str]:
    """A URL of a database of the test's own: a SQLite file in tmp_path, or a fresh
    PostgreSQL database (a copy of `pg_template`)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/t.db"
        return
    async with fresh_pg_database(pg_server_url(), template=pg_template) as url:
        yield url


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the figures tests recorded with `record_property` (crash, link failure, fuzz,
    schemathesis), once, at the end: the one place they are printed, since a pytest-xdist
    worker's own output does not reach the terminal."""
    lines = [
        f"{report.nodeid} {name}: {value}"
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for name, value in getattr(report, "user_properties", ())
    ]
    if lines:
        terminalreporter.section("figures")
        for line in lines:
            terminalreporter.write_line(line)
