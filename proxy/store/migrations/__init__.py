"""Alembic migrations of the store's schema (run by `migrate.upgrade`, not by hand)."""
