"""Numbered PostgreSQL migrations, applied in order by `civicbot migrate` and at start-up."""

from __future__ import annotations

import re
from importlib import resources

from storage.migrations import Migration

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


def load_pg_migrations() -> list[Migration]:
    """Return every PostgreSQL migration shipped with the package, ordered by version."""
    found: list[Migration] = []
    for entry in resources.files(__package__).iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text("utf-8")))
    return sorted(found, key=lambda m: m.version)
