"""The scale-out historian backend on PostgreSQL (see docs/scale-out-postgres.md)."""

from omp.historian.backends.postgres.backend import PostgresBackend
from omp.historian.backends.postgres.schema import Layout

__all__ = ["Layout", "PostgresBackend"]
