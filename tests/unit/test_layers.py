"""Imports flow one way (DESIGN.md §1): cli/bootstrap → runtime → adapters → services →
domain → protocol libraries; and the pure layers import no I/O: codec, smpp and domain stay
sans-I/O."""

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


# What each top-level package or module of smsgate may import from smsgate (itself always).
# config, errors and private_files are the edge's helpers: adapters and above use them.
EDGE = frozenset({"config", "errors", "private_files"})
PROTOCOL = frozenset({"codec", "smpp"})
ALLOWED: dict[str, frozenset[str]] = {
    "codec": frozenset(),
    "smpp": frozenset({"codec"}),
    "domain": PROTOCOL,
    "services": frozenset({"codec", "domain"}),  # protocol-neutral: no smpp
    "adapters": PROTOCOL | {"domain", "services"} | EDGE,
    "runtime": PROTOCOL | {"domain", "services", "adapters"} | EDGE,
    "simulators": PROTOCOL | {"adapters"} | EDGE,
    # Test support (fakes of the services' ports, webhook sink, ESME): tests and benchmarks.
    "testing": PROTOCOL | {"domain", "services"},
    "config": frozenset({"domain", "errors"}),
    "errors": frozenset(),
    "private_files": frozenset(),
}
TOP = frozenset({"bootstrap", "cli"})  # the composition root and the command: anything


def _layer_of(path: Path, root: Path = SRC) -> str:
    rel = path.relative_to(root)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _smsgate_imports(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, top-level part of smsgate) for every import of smsgate, relative ones resolved."""
    package = ["smsgate", *path.relative_to(root).parts[:-1]]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            # `from smsgate import codec` imports the package codec
            modules = (
                [f"{module}.{a.name}" for a in node.names] if module == "smsgate" else [module]
            )
        for module in modules:
            parts = module.split(".")
            if parts[0] == "smsgate" and len(parts) > 1:
                found.append((node.lineno, parts[1]))
    return found


def _layer_violations(path: Path, root: Path = SRC) -> list[str]:
    layer = _layer_of(path, root)
    if layer in TOP or layer == "__init__":
        return []
    allowed = ALLOWED[layer] | {layer}
    return [
        f"{path.relative_to(root)}:{line} ({layer}) imports smsgate.{target}"
        for line, target in _smsgate_imports(path, root)
        if target not in allowed and target != "__version__"
    ]


def _all_modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


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


@pytest.mark.parametrize("path", _all_modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_flow_one_way(path: Path) -> None:
    assert _layer_violations(path) == []


def test_every_top_level_part_has_a_rule() -> None:
    names = {_layer_of(p) for p in _all_modules()} - {"__init__"}
    assert names <= set(ALLOWED) | TOP


def test_layer_checker_resolves_relative_imports(tmp_path: Path) -> None:
    root = tmp_path / "smsgate"
    (root / "services").mkdir(parents=True)
    probe = root / "services" / "probe.py"
    probe.write_text(
        "from ..adapters.store import store\n"
        "from . import messages\n"
        "from smsgate import runtime\n"
        "from smsgate.domain import states\n"
    )
    assert _layer_violations(probe, root) == [
        "services/probe.py:1 (services) imports smsgate.adapters",
        "services/probe.py:3 (services) imports smsgate.runtime",
    ]
