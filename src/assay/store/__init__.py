"""Storage: SQLAlchemy models, engines and Alembic migrations (SQLite or PostgreSQL)."""

from assay.store.engine import Store

__all__ = ["Store"]
