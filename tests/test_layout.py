"""The architecture, checked: the domain (tracker/) speaks to storage only through its port,
neither tracker/ nor storage/ knows Discord, and the cogs reach the database only through
tracker services."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    """Every module *path* imports, at any depth (a lazy import inside a function counts)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def offenders(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for module in sorted(imported_modules(path)):
            if module.split(".")[0] in forbidden:
                bad.append(f"{path.relative_to(ROOT)} imports {module}")
    return bad


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("tracker", ("storage", "discord", "aiosqlite", "psycopg", "cogs")),
        ("storage", ("discord", "cogs")),
        ("cogs", ("storage", "aiosqlite", "psycopg")),
    ],
)
def test_each_layer_imports_only_what_it_may(folder: str, forbidden: tuple[str, ...]) -> None:
    assert offenders(folder, forbidden) == []


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    # The walk finds imports nested in functions, so a lazy import cannot hide.
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from storage.db import open_database\n")
    assert imported_modules(sample) == {"storage.db"}
