"""Numbered migrations, one SQL file each (``001_initial.sql`` ...), shipped in a package's
``migrations`` folder: storage/migrations for SQLite, storage/postgres/migrations for
PostgreSQL. Each backend applies them in order, one transaction each."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


class MigrationError(RuntimeError):
    """A migration failed; the database was left at the version it had before."""


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered SQL file."""

    version: int
    name: str
    sql: str


def shipped_migrations(package: str) -> list[Migration]:
    """The migrations in *package*'s migrations folder, in order (numbered 1..n, no gaps)."""
    found: list[Migration] = []
    folder = resources.files(package) / "migrations"
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise MigrationError(f"migration numbers must be 1..n without gaps: {migration.name}")
    return found
