"""The pure layers import no I/O: codec, smpp and domain stay sans-I/O (DESIGN.md §1)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "smsgate"
PURE = ("codec", "smpp", "domain")
FORBIDDEN_MODULES = (
    "asyncio",
    "socket",
    "selectors",
    "ssl",
    "sqlalchemy",
    "httpx",
    "fastapi",
    "starlette",
    "uvicorn",
    "aiosqlite",
    "asyncpg",
    "threading",
    "subprocess",
    "smsgate.adapters",
    "smsgate.services",
    "smsgate.runtime",
    "smsgate.bootstrap",
    "smsgate.cli",
)
# Reading the clock makes a function impure: time is a parameter in these layers.
FORBIDDEN_CALLS = ("now", "utcnow", "today", "time", "monotonic", "perf_counter")


def _modules() -> list[Path]:
    return sorted(p for layer in PURE for p in (SRC / layer).rglob("*.py"))


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        bad = [n for n in names if any(n == m or n.startswith(m + ".") for m in FORBIDDEN_MODULES)]
        if bad:
            found.append(f"{path.name}:{node.lineno} imports {bad[0]}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in FORBIDDEN_CALLS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in {"datetime", "date", "time"}
        ):
            found.append(f"{path.name}:{node.lineno} reads the clock ({node.func.attr})")
    return found


def test_pure_layers_exist() -> None:
    for layer in PURE:
        assert (SRC / layer / "__init__.py").is_file(), layer


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_pure_module_imports_no_io(path: Path) -> None:
    assert _violations(path) == []


def test_checker_catches_violations(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import asyncio\nfrom sqlalchemy import select\nimport datetime\nx = datetime.now()\n"
    )
    assert len(_violations(bad)) == 3
