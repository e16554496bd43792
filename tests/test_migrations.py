"""Migrations stand alone: they never import the application, whose code moves on after them.

A migration that imports a live table, enum or helper changes meaning when that
code changes, and an old database then migrates to something else than it did
when the migration was written. What a migration needs is frozen in its file
(cinema/migrations.py applies them).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

MIGRATIONS = sorted((Path(__file__).resolve().parents[1] / "piccolo_migrations").glob("*.py"))
APPLICATION = ("cinema", "cli", "tests")


def _imported_modules(tree: ast.AST) -> list[str]:
    """Every module an `import` or `from ... import` anywhere in `tree` names (function bodies too)."""
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            found.append(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in {
            "import_module",
            "__import__",
        }:
            found += [
                arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            ]
    return found


def test_there_are_migrations() -> None:
    assert len([m for m in MIGRATIONS if m.name.startswith("cinema_")]) >= 9


@pytest.mark.parametrize("path", MIGRATIONS, ids=lambda p: p.name)
def test_a_migration_imports_nothing_of_the_application(path: Path) -> None:
    modules = _imported_modules(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    live = [m for m in modules if m.split(".")[0] in APPLICATION]
    assert live == [], f"{path.name} imports application code: {live}; freeze what it needs in the file"


def test_the_scan_sees_imports_inside_functions() -> None:
    source = "async def forwards():\n    from cinema.db import engine\n    import cli.main\n"
    assert _imported_modules(ast.parse(source)) == ["cinema.db", "cli.main"]
