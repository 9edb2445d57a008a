"""The layout keeps its promises: one place opens the store, and no import goes in a circle."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_one_function_in_bot_opens_the_store() -> None:
    openers = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "bot").rglob("*.py"))
        if "SqliteStore.open(" in path.read_text(encoding="utf-8")
    ]
    assert openers == ["bot/store.py"]


def _imports(path: Path) -> set[str]:
    """Every project module a file imports, wherever the import is (lazy or for types)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _cycles(packages: tuple[str, ...]) -> list[list[str]]:
    modules = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts): path
        for package in packages
        for path in (ROOT / package).glob("*.py")
    }
    graph = {name: _imports(path) & set(modules) for name, path in modules.items()}
    found: list[list[str]] = []

    def walk(name: str, trail: list[str]) -> None:
        for target in sorted(graph[name]):
            if target == trail[0]:
                found.append([*trail, target])
            elif target not in trail and target > trail[0]:
                walk(target, [*trail, target])

    for start in sorted(graph):
        walk(start, [start])
    return found


def test_no_import_goes_in_a_circle() -> None:
    assert _cycles(("content", "storage", "complaints", "quiz", "barometer")) == []
