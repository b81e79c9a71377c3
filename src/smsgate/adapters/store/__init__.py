"""Storage: SQLAlchemy Core over SQLite (WAL) or PostgreSQL; Alembic migrations."""
