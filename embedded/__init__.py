"""The embedded development and test database (FerretDB 2.5 on PostgreSQL 15 + DocumentDB)."""

from embedded.server import DatabaseSetupError, EmbeddedDatabase, free_port, wait_for_port

__all__ = ["DatabaseSetupError", "EmbeddedDatabase", "free_port", "wait_for_port"]
