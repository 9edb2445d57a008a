"""The dependency rule of ARCHITECTURE.md section 2, enforced on every import."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"aiogram", "pywa", "pywa_async", "aiohttp", "aiosqlite", "bot"}
PURE_FORBIDDEN = FORBIDDEN | {"storage", "handlers", "sqlite3", "socket", "requests"}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def violations(package: str, forbidden: set[str]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {sorted(imported_roots(path) & forbidden)}"
        for path in sorted((ROOT / package).rglob("*.py"))
        if imported_roots(path) & forbidden
    ]


def test_domain_packages_do_not_import_adapters() -> None:
    found = [
        v
        for pkg in ("handlers", "content", "quiz", "complaints", "barometer", "reports")
        for v in violations(pkg, FORBIDDEN)
    ]
    assert found == []


def test_quiz_and_complaints_are_pure() -> None:
    found = [
        v
        for pkg in ("quiz", "complaints", "barometer", "reports")
        for v in violations(pkg, PURE_FORBIDDEN)
    ]
    assert found == []


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import aiogram.types\nfrom bot.settings import Settings\n")
    assert imported_roots(bad) & FORBIDDEN == {"aiogram", "bot"}


def test_only_bot_reads_the_environment() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for pkg in ("handlers", "content", "quiz", "complaints", "storage", "barometer", "reports")
        for path in (ROOT / pkg).rglob("*.py")
        if "os.environ" in path.read_text(encoding="utf-8")
        or "getenv" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
