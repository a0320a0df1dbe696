"""The core's boundary: ``_core`` (one run) imports no feature; features reach it through
declared extension hooks and ports (DESIGN §14)."""

from __future__ import annotations

import ast
from pathlib import Path

import openharness_actors

PACKAGE = Path(openharness_actors.__file__).resolve().parent
FEATURES = ("recording", "journal", "batch", "cli", "reporters", "testing")
CONCRETE_HARNESSES = ("anthropic", "anthropic_batch", "claude_code", "scripted", "function")


def imported_modules(path: Path) -> list[str]:
    """Every module ``path`` imports, absolute (``openharness_actors.x.y``)."""
    tree = ast.parse(path.read_text())
    package = ["openharness_actors", *path.relative_to(PACKAGE).parent.parts]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                found.append(".".join([*base, *(node.module.split(".") if node.module else [])]))
            elif node.module:
                found.append(node.module)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return found


def test_core_imports_no_feature() -> None:
    """No module of _core imports recording, journal, batch, cli, reporters, testing or a
    concrete harness."""
    offending = []
    for path in sorted((PACKAGE / "_core").glob("*.py")):
        for module in imported_modules(path):
            parts = [*module.split("."), "", ""]
            feature = parts[1] in FEATURES
            harness = parts[1] == "harness" and parts[2] in CONCRETE_HARNESSES
            if parts[0] == "openharness_actors" and (feature or harness):
                offending.append(f"{path.name}: {module}")
    assert offending == []


def test_the_package_root_keeps_few_loose_modules() -> None:
    """At most eight private modules at the package root (besides __init__ and __main__):
    the engine, definitions and features live in their packages."""
    loose = sorted(
        p.name for p in PACKAGE.glob("_*.py") if p.name not in ("__init__.py", "__main__.py")
    )
    assert len(loose) <= 8, loose
