"""Throwaway embedded databases for tests: a private PostgreSQL cluster with DocumentDB and a
FerretDB in front of it, on free ports in a temporary directory (see `embedded/`).

Fault tests stop, kill and restart either process through the same object.
"""

import tempfile
from pathlib import Path

from embedded import EmbeddedDatabase, free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["ROOT", "free_port", "throwaway_database", "wait_for_port"]


def throwaway_database() -> EmbeddedDatabase:
    """A database that is not started yet (its ports are chosen): call start(), then cleanup()."""
    return EmbeddedDatabase(Path(tempfile.mkdtemp(prefix="srt-db-")), throwaway=True)
