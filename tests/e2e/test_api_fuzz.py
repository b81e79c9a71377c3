"""API fuzzing: schemathesis generates requests from the running gateway's /openapi.json and
checks every answer: no 5xx, and status, headers, content type and body match the schema.

The gateway is a real `smsgate run` process (SQLite file, no SMSC: messages stay queued);
the key is an admin's, so the admin routes are explored too. The number of cases per
operation is SMSGATE_API_FUZZ_EXAMPLES (default 25); the total is printed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

SMSGATE = [sys.executable, "-m", "smsgate.cli"]
EXAMPLES = int(os.environ.get("SMSGATE_API_FUZZ_EXAMPLES", "25"))
CASES: dict[str, int] = {}
# The promise: no 5xx, every answer as documented. (Not `positive_data_acceptance`: a schema
# cannot say which strings are phone numbers, so a schema-valid "to": "0" is rightly a 422.)
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    tmp = tmp_path_factory.mktemp("api_fuzz")
    config = tmp / "gw.toml"
    config.write_text(
        f'database_url = "sqlite:///{tmp}/gw.db"\nhttp_port = 0\nsmpp_port = 0\n'
        'log_level = "WARNING"\n'
    )
    created = subprocess.run(
        [*SMSGATE, "accounts", "create", "fuzz", "--admin", "--config", str(config)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    key = created.stdout.rsplit(" ", 1)[1].strip()
    log = (tmp / "gateway.log").open("w")
    proc = subprocess.Popen(
        [*SMSGATE, "run", "--config", str(config)], stdout=subprocess.PIPE, stderr=log, text=True
    )
    try:
        assert proc.stdout is not None
        url = ""
        while not url:
            line = proc.stdout.readline()
            if not line:
                raise AssertionError(
                    "the gateway ended early: " + (tmp / "gateway.log").read_text()
                )
            if "listening on" in line:
                url = line.rsplit(" ", 1)[1].strip()
        yield url, key
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
            log.close()


def fuzz_operation(operation: Any, label: str, key: str) -> Any:
    """A hypothesis test of one operation: generated requests, every check on the answer."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy())
    def run(case: Any) -> None:
        CASES[label] = CASES.get(label, 0) + 1
        case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)

    return run


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_api_fuzz(gateway: tuple[str, str], record_property: Any) -> None:
    url, key = gateway
    schema = schemathesis.openapi.from_url(url + "/openapi.json")
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        try:
            fuzz_operation(operation, label, key)()
        except (
            Exception,
            BaseExceptionGroup,
        ) as exc:  # collect every operation's failure, then fail once
            failures.append(f"{label}: {type(exc).__name__}: {str(exc)[:2000]}")
    summary = {"schemathesis_cases": sum(CASES.values()), "operations": len(CASES)}
    record_property("schemathesis_cases", json.dumps({**summary, "per_operation": CASES}))
    assert not failures, "\n\n".join(failures)
    assert len(CASES) >= 20, CASES  # every operation of the API was exercised
